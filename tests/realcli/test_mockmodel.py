"""Our loopback model on its own: the three wire APIs, streaming, scripts, faults (no CLI needed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.mockmodel import Fault, MockModelServer, Scenario, Script, Step
from pytest_wave.mockmodel.scenario import parse_wave_prompt

WAVE_PROMPT = """Working directory: /work/repo

Role model for this run:
- Evaluator agent id: A0
- Integration steward agent id: A8
- Documentation steward agent id: A9
- Resolved executor: codex

You are the Wave executor running Wave 4 / Agent A3: Parser.
YOU ARE IN WAVE MODE. This is attempt 1.

Exit contract for this run:
- completion: integrated
- durability: durable
- proof: integration
- doc-impact: owned
- A weaker result than this is a gap: report it as one.

Components you own in this wave:
- parser: baseline-proved

Deliverables required for this agent:
- src/parser.py
- docs/parser.md

Assigned implementation prompt:
"""


def post(server: MockModelServer, path: str, body: dict[str, Any], key: str = "sk-secret-value") -> tuple[int, str]:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "x-api-key": key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def sse(text: str) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    for block in text.strip().split("\n\n"):
        name = None
        data = ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        events.append((name, data if data == "[DONE]" else json.loads(data)))
    return events


@pytest.fixture
def server() -> Iterator[MockModelServer]:
    with MockModelServer(Scenario(), keep_bodies=True) as running:
        yield running


def anthropic_body(tool_results: int = 0, stream: bool = True) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": WAVE_PROMPT}]}]
    for i in range(tool_results):
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Write"}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": "ok"}]})
    return {"model": "claude-x", "stream": stream, "tools": [{"name": "Write"}, {"name": "Bash"}], "messages": messages}


def test_wave_prompt_is_understood() -> None:
    wave = parse_wave_prompt(WAVE_PROMPT)
    assert wave is not None
    assert (wave.agent, wave.workdir, wave.runtime, wave.role) == ("A3", "/work/repo", "codex", "implementation")
    assert wave.deliverables == ("src/parser.py", "docs/parser.md")
    assert wave.components == {"parser": "baseline-proved"}
    assert wave.contract["durability"] == "durable"


def test_anthropic_messages_streams_one_write_per_deliverable_then_markers(server: MockModelServer) -> None:
    status, text = post(server, "/v1/messages?beta=true", anthropic_body(0))
    assert status == 200
    events = sse(text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    block = events[1][1]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Write"
    args = json.loads(events[2][1]["delta"]["partial_json"])
    assert args["file_path"] == "/work/repo/src/parser.py"
    assert "Written by the codex CLI for A3" in args["content"]
    _, second = post(server, "/v1/messages", anthropic_body(1))
    assert json.loads(sse(second)[2][1]["delta"]["partial_json"])["file_path"] == "/work/repo/docs/parser.md"
    _, final = post(server, "/v1/messages", anthropic_body(2, stream=False))
    reply = json.loads(final)
    assert reply["stop_reason"] == "end_turn"
    text_out = reply["content"][0]["text"]
    assert "[wave-proof] completion=integrated durability=durable proof=integration state=met" in text_out
    assert "[wave-component] component=parser level=baseline-proved state=met" in text_out
    assert [r.played for r in server.requests] == ["step0:tool_use:Write", "step1:tool_use:Write", "step2:text"]
    assert {r.auth for r in server.requests} == {"x-api-key"}
    assert "sk-secret-value" not in json.dumps([r.as_json() for r in server.requests if r.body is None])


def test_responses_api_uses_exec_command_or_code_mode(server: MockModelServer) -> None:
    body = {
        "model": "gpt",
        "stream": True,
        "tools": [{"type": "function", "name": "exec_command"}],
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": WAVE_PROMPT}]}],
    }
    _, text = post(server, "/v1/responses", body)
    events = sse(text)
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
    call = events[-1][1]["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "exec_command"
    args = json.loads(call["arguments"])
    assert "/work/repo/src/parser.py" in args["cmd"] and args["workdir"] == "/work/repo"
    # codex's built-in model gets its tools in an "additional_tools" item: shell only through code mode.
    code_mode = {
        "stream": False,
        "input": [
            *body["input"],
            {
                "type": "additional_tools",
                "tools": [{"type": "namespace", "tools": [{"type": "custom", "name": "exec"}]}],
            },
        ],
    }
    _, text = post(server, "/v1/responses", code_mode)
    item = json.loads(text)["output"][0]
    assert item["type"] == "custom_tool_call" and "tools.exec_command" in item["input"]
    outputs = [{"type": "custom_tool_call_output", "call_id": "c"}, {"type": "function_call_output", "call_id": "d"}]
    done = {**code_mode, "input": [*code_mode["input"], *outputs]}  # both deliverables written
    _, text = post(server, "/v1/responses", done)
    message = json.loads(text)["output"][0]
    assert message["type"] == "message" and "[wave-proof]" in message["content"][0]["text"]


def test_chat_completions_streams_tool_calls_and_usage(server: MockModelServer) -> None:
    body = {
        "model": "mock-model",
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [{"type": "function", "function": {"name": "write"}}],
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": WAVE_PROMPT}],
    }
    _, text = post(server, "/v1/chat/completions", body)
    events = sse(text)
    assert events[-1][1] == "[DONE]"
    call = events[1][1]["choices"][0]["delta"]["tool_calls"][0]
    assert call["function"]["name"] == "write"
    assert json.loads(call["function"]["arguments"])["filePath"] == "/work/repo/src/parser.py"
    assert events[-2][1]["usage"]["total_tokens"] == 120
    # A side request without tools (opencode's title generator) gets the aux text and moves nothing.
    _, aux = post(server, "/v1/chat/completions", {"stream": False, "messages": [{"role": "user", "content": "t"}]})
    assert json.loads(aux)["choices"][0]["message"]["content"] == "OK"


def test_faults_429_n_times_then_success_and_529_forever() -> None:
    scenario = Scenario(
        faults=[
            Fault(api="messages", agent="A3", status=429, times=2, retry_after=1),
            Fault(api="responses", status=529, times=None),
        ]
    )
    with MockModelServer(scenario) as server:
        statuses = [post(server, "/v1/messages", anthropic_body(0, stream=False))[0] for _ in range(3)]
        assert statuses == [429, 429, 200]
        assert post(server, "/v1/messages", anthropic_body(0, stream=False))[0] == 200  # the fault is spent
        error_status, error = post(server, "/v1/responses", {"tools": [{"name": "shell"}], "input": "x"})
        assert error_status == 529 and json.loads(error)["error"]["code"] == "server_overloaded"
        assert post(server, "/v1/responses", {"tools": [{"name": "shell"}], "input": "x"})[0] == 529
        # Requests that offer no tools never consume a fault.
        assert post(server, "/v1/responses", {"input": "title please"})[0] == 200
        first = server.requests[0]
        assert first.status == 429 and first.played == "fault:429"


def test_per_agent_script_claims_success_without_writing() -> None:
    script = Script(steps=[Step(text="All written and tested.", markers=True)])
    with MockModelServer(Scenario(agents={"A3": script})) as server:
        _, text = post(server, "/v1/messages", anthropic_body(0, stream=False))
        reply = json.loads(text)
        assert reply["content"][0]["type"] == "text"
        assert "[wave-proof]" in reply["content"][0]["text"]


def test_only_loopback_and_a_request_log(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        MockModelServer(host="0.0.0.0")
    log = tmp_path / "mock.jsonl"
    with MockModelServer(log_path=log) as server:
        post(server, "/v1/messages", anthropic_body(0, stream=False))
        assert urllib.request.urlopen(server.url + "/v1/models", timeout=5).status == 200
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["played"] for line in lines] == ["step0:tool_use:Write", "models"]
    assert "sk-secret-value" not in log.read_text()

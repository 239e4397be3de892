"""The three model APIs the CLIs speak, as pure functions from a request body to a reply.

* Anthropic Messages (``POST /v1/messages``): claude.
* OpenAI Responses (``POST /v1/responses``): codex (``wire_api = "responses"``).
* OpenAI Chat Completions (``POST /v1/chat/completions``): opencode via ``@ai-sdk/openai-compatible``.

Each API turns a planned :data:`~pytest_wave.mockmodel.scenario.Action` into a :class:`Reply`: a JSON
body, or the SSE events a streaming client expects (``stream: true`` is what all three CLIs send).
The shapes follow what the real CLIs accepted (``../shared/spec/executors.md`` section 5).
"""

from __future__ import annotations

import json
import shlex
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_wave.mockmodel.scenario import Action, Answer, RunShell, WriteFile, collect_text, find_workdir

USAGE_INPUT_TOKENS = 100
USAGE_OUTPUT_TOKENS = 20


@dataclass
class Reply:
    status: int = 200
    json_body: Any = None
    events: list[tuple[str | None, Any]] = field(default_factory=list)  # (event name, data) when streaming
    headers: dict[str, str] = field(default_factory=dict)
    played: str = ""  # what was answered, for the request log

    @property
    def streaming(self) -> bool:
        return self.json_body is None


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def write_command(path: str, content: str) -> str:
    directory = path.rsplit("/", 1)[0] if "/" in path else "."
    return f"mkdir -p {shlex.quote(directory)} && printf %s {shlex.quote(content)} > {shlex.quote(path)}"


def _lookup(names: list[str], *wanted: str) -> str | None:
    lowered = {name.lower(): name for name in names}
    for name in wanted:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


class WireApi(Protocol):
    name: str

    def offers_tools(self, body: dict[str, Any]) -> bool: ...

    def tool_results(self, body: dict[str, Any]) -> int: ...

    def reply(self, action: Action, body: dict[str, Any]) -> Reply: ...

    def error(self, status: int, message: str) -> Reply: ...


# --------------------------------------------------------------------------- Anthropic Messages


class AnthropicMessages:
    name = "messages"

    @staticmethod
    def _tool_names(body: dict[str, Any]) -> list[str]:
        return [str(t["name"]) for t in body.get("tools") or [] if isinstance(t, dict) and t.get("name")]

    def offers_tools(self, body: dict[str, Any]) -> bool:
        return bool(self._tool_names(body))

    def tool_results(self, body: dict[str, Any]) -> int:
        count = 0
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if message.get("role") == "user" and isinstance(content, list):
                count += sum(1 for block in content if isinstance(block, dict) and block.get("type") == "tool_result")
        return count

    def _call(self, action: Action, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        names = self._tool_names(body)
        if isinstance(action, WriteFile):
            if tool := _lookup(names, "Write"):
                return tool, {"file_path": action.path, "content": action.content}
            command = write_command(action.path, action.content)
        elif isinstance(action, RunShell):
            command = action.command
        else:
            return None
        if tool := _lookup(names, "Bash"):
            return tool, {"command": command, "description": "Run a command"}
        return None

    def reply(self, action: Action, body: dict[str, Any]) -> Reply:
        blocks: list[dict[str, Any]]
        call = self._call(action, body)
        if call is not None:
            blocks = [{"type": "tool_use", "id": new_id("toolu"), "name": call[0], "input": call[1]}]
            stop, played = "tool_use", f"tool_use:{call[0]}"
        else:
            text = action.text if isinstance(action, Answer) else "mock: the client offered no usable tool"
            blocks = [{"type": "text", "text": text}]
            stop, played = "end_turn", "text" if isinstance(action, Answer) else "no-tool"
        model = str(body.get("model") or "mock-model")
        usage = {
            "input_tokens": USAGE_INPUT_TOKENS,
            "output_tokens": USAGE_OUTPUT_TOKENS,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        message_id = new_id("msg")
        if not body.get("stream"):
            return Reply(
                json_body={
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": usage,
                },
                played=played,
            )
        events: list[tuple[str | None, Any]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {**usage, "output_tokens": 1},
                    },
                },
            )
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                start: dict[str, Any] = {"type": "text", "text": ""}
                delta: dict[str, Any] = {"type": "text_delta", "text": block["text"]}
            else:
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            events += [
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
                ("content_block_stop", {"type": "content_block_stop", "index": index}),
            ]
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": USAGE_OUTPUT_TOKENS},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return Reply(events=events, played=played)

    def error(self, status: int, message: str) -> Reply:
        kind = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(status, "api_error")
        return Reply(status=status, json_body={"type": "error", "error": {"type": kind, "message": message}})


# --------------------------------------------------------------------------- OpenAI Responses


class OpenAIResponses:
    name = "responses"

    @staticmethod
    def tool_specs(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Offered tools: top-level ``tools`` plus codex's ``additional_tools`` input item (namespaces)."""
        specs: dict[str, dict[str, Any]] = {}

        def add(tool: Any) -> None:
            if not isinstance(tool, dict):
                return
            if tool.get("type") == "namespace":
                for inner in tool.get("tools") or []:
                    add(inner)
                return
            name = tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type")
            if name and name not in specs:
                specs[str(name)] = tool

        for tool in body.get("tools") or []:
            add(tool)
        items = body.get("input")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and item.get("type") == "additional_tools":
                    for tool in item.get("tools") or []:
                        add(tool)
        return specs

    def offers_tools(self, body: dict[str, Any]) -> bool:
        return bool(self.tool_specs(body))

    def tool_results(self, body: dict[str, Any]) -> int:
        items = body.get("input")
        if not isinstance(items, list):
            return 0
        kinds = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")
        return sum(1 for item in items if isinstance(item, dict) and item.get("type") in kinds)

    @staticmethod
    def _workdir(body: dict[str, Any]) -> str | None:
        return find_workdir(collect_text(body.get("input")))

    def _call(self, action: Action, body: dict[str, Any]) -> dict[str, Any] | None:
        specs = self.tool_specs(body)
        names = list(specs)
        call_id = new_id("call")
        if isinstance(action, WriteFile):
            command = write_command(action.path, action.content)
        elif isinstance(action, RunShell):
            command = action.command
        else:
            return None
        workdir = self._workdir(body)
        tool = _lookup(names, "exec_command", "shell_command", "shell")
        if tool is not None:
            if tool == "exec_command":
                args: dict[str, Any] = {"cmd": command}
            elif tool == "shell_command":
                args = {"command": command}
            else:
                args = {"command": ["bash", "-lc", command]}
            if workdir:
                args["workdir"] = workdir
            return {
                "type": "function_call",
                "id": new_id("fc"),
                "status": "completed",
                "call_id": call_id,
                "name": tool,
                "arguments": json.dumps(args),
            }
        if specs.get("exec", {}).get("type") == "custom":
            # codex "code mode" (its built-in default model): shell access only through a JavaScript cell.
            script = (
                f"const r = await tools.exec_command({json.dumps({'cmd': command})});\n"
                "text(typeof r === 'string' ? r : JSON.stringify(r));\n"
            )
            return {
                "type": "custom_tool_call",
                "id": new_id("ctc"),
                "status": "completed",
                "call_id": call_id,
                "name": "exec",
                "input": script,
            }
        return None

    def reply(self, action: Action, body: dict[str, Any]) -> Reply:
        items: list[dict[str, Any]] = []
        call = self._call(action, body)
        if call is not None:
            items.append(call)
            played = f"{call['type']}:{call['name']}"
        else:
            text = action.text if isinstance(action, Answer) else "mock: the client offered no usable tool"
            played = "text" if isinstance(action, Answer) else "no-tool"
            items.append(
                {
                    "type": "message",
                    "id": new_id("msg"),
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
        usage = {
            "input_tokens": USAGE_INPUT_TOKENS,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": USAGE_OUTPUT_TOKENS,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": USAGE_INPUT_TOKENS + USAGE_OUTPUT_TOKENS,
        }
        base = {
            "id": new_id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "model": str(body.get("model") or "mock-model"),
            "status": "in_progress",
            "output": [],
        }
        final = {**base, "status": "completed", "output": items, "usage": usage}
        if not body.get("stream"):
            return Reply(json_body=final, played=played)
        events: list[tuple[str | None, Any]] = []

        def emit(name: str, payload: dict[str, Any]) -> None:
            events.append((name, {"type": name, "sequence_number": len(events), **payload}))

        emit("response.created", {"response": base})
        emit("response.in_progress", {"response": base})
        for index, item in enumerate(items):
            if item["type"] == "message":
                part = item["content"][0]
                ref = {"output_index": index, "item_id": item["id"], "content_index": 0}
                emit("response.output_item.added", {"output_index": index, "item": {**item, "content": []}})
                emit("response.content_part.added", {**ref, "part": {**part, "text": ""}})
                emit("response.output_text.delta", {**ref, "delta": part["text"]})
                emit("response.output_text.done", {**ref, "text": part["text"]})
                emit("response.content_part.done", {**ref, "part": part})
            else:
                emit("response.output_item.added", {"output_index": index, "item": item})
            emit("response.output_item.done", {"output_index": index, "item": item})
        emit("response.completed", {"response": final})
        return Reply(events=events, played=played)

    def error(self, status: int, message: str) -> Reply:
        code = {429: "rate_limit_exceeded", 529: "server_overloaded"}.get(status, "server_error")
        return Reply(status=status, json_body={"error": {"message": message, "type": code, "code": code}})


# --------------------------------------------------------------------------- OpenAI Chat Completions


class OpenAIChat:
    name = "chat"

    @staticmethod
    def _tool_names(body: dict[str, Any]) -> list[str]:
        names: list[str] = []
        for tool in body.get("tools") or []:
            if isinstance(tool, dict):
                name = (tool.get("function") or {}).get("name") or tool.get("name")
                if name:
                    names.append(str(name))
        return names

    def offers_tools(self, body: dict[str, Any]) -> bool:
        return bool(self._tool_names(body))

    def tool_results(self, body: dict[str, Any]) -> int:
        return sum(1 for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "tool")

    def _call(self, action: Action, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        names = self._tool_names(body)
        if isinstance(action, WriteFile):
            if tool := _lookup(names, "write"):
                return tool, {"filePath": action.path, "content": action.content}
            command = write_command(action.path, action.content)
        elif isinstance(action, RunShell):
            command = action.command
        else:
            return None
        if tool := _lookup(names, "bash"):
            return tool, {"command": command, "description": "Run a command"}
        return None

    def reply(self, action: Action, body: dict[str, Any]) -> Reply:
        call = self._call(action, body)
        text: str | None = None
        calls: list[dict[str, Any]] = []
        if call is not None:
            calls = [
                {
                    "index": 0,
                    "id": new_id("call"),
                    "type": "function",
                    "function": {"name": call[0], "arguments": json.dumps(call[1])},
                }
            ]
            played = f"tool_calls:{call[0]}"
        else:
            text = action.text if isinstance(action, Answer) else "mock: the client offered no usable tool"
            played = "text" if isinstance(action, Answer) else "no-tool"
        chat_id = new_id("chatcmpl")
        model = str(body.get("model") or "mock-model")
        finish = "tool_calls" if calls else "stop"
        usage = {
            "prompt_tokens": USAGE_INPUT_TOKENS,
            "completion_tokens": USAGE_OUTPUT_TOKENS,
            "total_tokens": USAGE_INPUT_TOKENS + USAGE_OUTPUT_TOKENS,
        }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if calls:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
            return Reply(
                json_body={
                    "id": chat_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                },
                played=played,
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> tuple[str | None, Any]:
            return (
                None,
                {
                    "id": chat_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                },
            )

        events = [chunk({"role": "assistant", "content": ""})]
        if calls:
            events.append(chunk({"tool_calls": calls}))
        if text:
            events.append(chunk({"content": text}))
        events.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                (
                    None,
                    {
                        "id": chat_id,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    },
                )
            )
        events.append((None, "[DONE]"))
        return Reply(events=events, played=played)

    def error(self, status: int, message: str) -> Reply:
        code = {429: "rate_limit_exceeded", 529: "server_overloaded"}.get(status, "server_error")
        return Reply(status=status, json_body={"error": {"message": message, "type": code, "code": code}})


API_BY_SUFFIX: tuple[tuple[str, WireApi], ...] = (
    ("/chat/completions", OpenAIChat()),
    ("/responses", OpenAIResponses()),
    ("/messages", AnthropicMessages()),
)

"""A real wave on the real CLIs: A1 codex, A2 opencode, A8 claude, A9 opencode, A0 claude.

The only fake is the model behind them (our loopback server); every file the wave lands is written
by a CLI's own tool call (claude ``Write``, opencode ``write``, codex ``exec_command``), and every
check is the orchestrator's own. Fault runs: 429 twice (backoff on the same runtime), 529 forever
for codex (fallback along ``fallbacks:``), and an agent that claims success without writing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clikit import MOCK_KEY, STATE, isolated_env, make_repo, run_wave

from pytest_wave.mockmodel import Fault, MockModelServer, Scenario, Script, Step
from pytest_wave.mockmodel.scenario import WAVE_SCRIPT, collect_text

pytestmark = pytest.mark.realcli

RUNTIME_API = {"codex": "responses", "claude": "messages", "opencode": "chat"}
EXPECTED = {"A1": "codex", "A2": "opencode", "A8": "claude", "A9": "opencode", "A0": "claude"}
PASTED_KEY = "sk-ant-api03-" + "R" * 40


def agent_results(outcome: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {agent_id: result for agent_id, result in outcome["agents"].items()}


def bodies_of(server: MockModelServer, agent: str) -> str:
    return "\n".join(collect_text(r.body) for r in server.requests if r.agent == agent and r.body)


def test_mixed_wave_closes_on_files_the_clis_wrote(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path, record_property: Any
) -> None:
    leaky = Script(
        steps=[
            *WAVE_SCRIPT.steps[:1],
            Step(text=f"Gate done. debug key={MOCK_KEY} pasted={PASTED_KEY}", markers=True),
        ]
    )
    mock_model.set_scenario(Scenario(agents={"A0": leaky}))
    repo = make_repo(tmp_path / "repo")
    run = run_wave(repo, isolated_env(tmp_path / "home", mock_model))
    record_property("realcli_wave_wall_seconds", round(run.wall, 1))
    print(f"\nreal-CLI wave wall time: {run.wall:.1f}s ({', '.join(f'{k} {v}' for k, v in real_clis.items())})")
    assert run.returncode == 0, run.output[-6000:]
    outcome = run.outcome()
    assert outcome["closed"] is True
    results = agent_results(outcome)
    assert {a: r["executor_id"] for a, r in results.items()} == EXPECTED
    deliverables = {
        "A1": "out/a1/part.md",
        "A2": "out/a2/part.md",
        "A8": "out/integration.md",
        "A9": "out/STATUS.md",
        "A0": "out/reviews/wave-1-evaluator.md",
    }
    for agent, path in deliverables.items():
        runtime = EXPECTED[agent]
        assert (repo / path).read_text().startswith(f"# {path}\n\nWritten by the {runtime} CLI for {agent}")
        requests = [r for r in mock_model.requests if r.agent == agent and r.api == RUNTIME_API[runtime]]
        played = [r.played for r in requests]
        # The model asked for a tool call, the CLI ran it and sent its result back, then the model finished.
        assert played[:1] and played[0].startswith("step0:") and "text" not in played[0], played
        assert any(r.tool_results >= 1 and r.played.endswith(":text") for r in requests), played
    # claude read the hook in the shape we rewrote it to (the anchor's flat shape is ignored by Claude).
    assert (repo / ".tmp" / "hooks" / "a8-stop").exists()
    # The harness system prompt reached each model; opencode's literal instruction too (finding 6).
    assert "Resolved executor: claude." in bodies_of(mock_model, "A8")
    assert "Resolved executor: opencode." in bodies_of(mock_model, "A9")
    assert "Keep shared plan docs concise and factual." in bodies_of(mock_model, "A9")
    # Usage where the CLI reports it: codex --json, claude stream-json, opencode --format json.
    for agent in ("A1", "A8", "A9"):
        assert results[agent]["usage"]["total_tokens"] > 0, agent
    assert outcome["usage"]["total_tokens"] >= sum(results[a]["usage"]["total_tokens"] for a in ("A1", "A8", "A9"))
    # Secrets: the key the CLI echoed and a pasted key are redacted in every file the run wrote.
    state = repo / STATE
    launch_files = [p for folder in ("prompts", "results", "executors", "logs") for p in (state / folder).rglob("*")]
    written = "\n".join(p.read_text(errors="replace") for p in launch_files if p.is_file())
    assert MOCK_KEY not in written and PASTED_KEY not in written
    a0_log = next(p for p in run.attempt_logs() if p.name == "wave-1-1-a0.log").read_text()
    assert "[redacted:ANTHROPIC_API_KEY]" in a0_log and "[redacted:anthropic-key]" in a0_log


def test_429_twice_backs_off_and_retries_on_the_same_runtime(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    mock_model.set_scenario(Scenario(faults=[Fault(api="responses", agent="A1", status=429, times=2)]))
    repo = make_repo(tmp_path / "repo")
    run = run_wave(repo, isolated_env(tmp_path / "home", mock_model))
    assert run.returncode == 0, run.output[-6000:]
    a1 = agent_results(run.outcome())["A1"]
    assert a1["executor_id"] == "codex" and a1["status"] == "passed"
    switches = a1["executor_switches"]
    assert [(s["kind"], s["from_executor"], s["to_executor"]) for s in switches] == [("retry", "codex", "codex")] * 2
    assert all(s["reason"].startswith("rate-limit (HTTP 429)") and s["delay_seconds"] > 0 for s in switches)
    assert all("429" in Path(s["log_path"]).read_text() for s in switches)  # each given-up try's own log
    a1_requests = [r.status for r in mock_model.requests if r.agent == "A1"]
    assert a1_requests[:3] == [429, 429, 200]
    assert (repo / "out" / "a1" / "part.md").read_text().startswith("# out/a1/part.md\n\nWritten by the codex CLI")
    records = [
        json.loads(line)
        for line in (repo / STATE / "coordination" / "wave-1.jsonl").read_text().splitlines()
        if '"resolved-by-policy"' in line
    ]
    assert len(records) == 2 and all(r["agentId"] == "A1" for r in records)


def test_529_forever_for_codex_falls_back_and_the_wave_closes(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    mock_model.set_scenario(Scenario(faults=[Fault(api="responses", status=529, times=None)]))
    repo = make_repo(tmp_path / "repo")
    run = run_wave(repo, isolated_env(tmp_path / "home", mock_model))
    assert run.returncode == 0, run.output[-6000:]
    outcome = run.outcome()
    assert outcome["closed"] is True
    a1 = agent_results(outcome)["A1"]
    assert a1["executor_id"] == "claude"  # the first of A1's fallbacks: claude, opencode
    kinds = [(s["kind"], s["to_executor"]) for s in a1["executor_switches"]]
    assert kinds == [("retry", "codex"), ("retry", "codex"), ("fallback", "claude")]
    assert (repo / "out" / "a1" / "part.md").read_text().startswith("# out/a1/part.md\n\nWritten by the claude CLI")
    assert [r.status for r in mock_model.requests if r.api == "responses"] == [529, 529, 529]


def test_claimed_success_without_writing_fails_the_item(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    liar = Script(steps=[Step(text="Done: out/a2/part.md is written and tested.", markers=True)])
    mock_model.set_scenario(Scenario(agents={"A2": liar}))
    repo = make_repo(tmp_path / "repo")
    run = run_wave(repo, isolated_env(tmp_path / "home", mock_model), "--wave-max-retries", "0")
    assert run.returncode == 1, run.output[-6000:]
    assert "FAILED waves/wave-1.md::A2" in run.output
    outcome = run.outcome()
    assert outcome["closed"] is False
    a2 = agent_results(outcome)["A2"]
    assert a2["executor_id"] == "opencode"
    assert "[wave-proof] completion=contract durability=none proof=unit state=met detail=mock-model" in a2["markers"]
    failed = [c for c in a2["checks"] if not c["ok"]]
    assert [c["code"] for c in failed] == ["missing-deliverable"]
    assert not (repo / "out" / "a2" / "part.md").exists()
    assert agent_results(outcome)["A1"]["status"] == "passed"

"""The engine driving a vendor executor end to end, with a fake ``codex`` binary (no real CLI).

The fake reads the prompt from stdin like codex does, answers "429" the first N times (counted in a
state file), then writes its deliverable and prints markers, a token trailer and a leaked secret.
This pins what :func:`run_agent_attempt` adds around any executor: rate-limit relaunches with the
logs kept, fallback, usage, and redaction of everything written.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from pytest_wave.engine.agent_run import run_agent_attempt
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.model.result import AgentResult

SECRET = "sk-ant-api03-" + "Q" * 40
FAKE = """\
#!{python}
import os, sys, pathlib
prompt = sys.stdin.read()
state = pathlib.Path(os.environ["FAKE_STATE"])
count = int(state.read_text()) if state.exists() else 0
state.write_text(str(count + 1))
if count < int(os.environ.get("FAKE_FAILS", "0")):
    print(os.environ.get("FAKE_ERROR", "ERROR: exceeded retry limit, last status: 429 Too Many Requests"))
    sys.exit(1)
assert "Deliverables required for this agent:" in prompt
out = pathlib.Path("out/part.md")
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text("written by " + os.path.basename(sys.argv[0]) + "\\n")
print("debug: key=" + os.environ.get("ANTHROPIC_API_KEY", "") + " pasted=" + os.environ.get("PASTED", ""))
print("[wave-proof] completion=contract durability=none proof=unit state=met detail=fake")
print("[wave-doc-delta] state=owned detail=fake")
print("tokens used")
print("1,200")
"""

WAVE = """\
# Wave 2 - Fake CLI

## Agent A1: Part

### Executor

- id: codex
- fallbacks: claude

### Deliverables

- out/part.md

### Exit contract

- completion: contract
- durability: none
- proof: unit
- doc-impact: owned

### Prompt

```text
Write out/part.md. Never print {secret}.

File ownership (only touch these paths):
- out/
```
"""


def fake_binary(path: Path) -> Path:
    path.write_text(FAKE.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "waves").mkdir(parents=True)
    codex = fake_binary(tmp_path / "codex")
    claude = fake_binary(tmp_path / "claude")
    config = {
        "validation": {"requiredPromptReferences": []},
        "executors": {"codex": {"command": str(codex)}, "claude": {"command": str(claude)}},
    }
    (root / "wave.config.json").write_text(json.dumps(config))
    (root / "waves" / "wave-2.md").write_text(WAVE.format(secret=SECRET))
    for name in [n for n in os.environ if n.startswith("WAVE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "count"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-secret-value")
    monkeypatch.setenv("PASTED", SECRET)
    monkeypatch.setenv("WAVE_RATE_LIMIT_BASE_DELAY", "0.01")
    monkeypatch.setenv("WAVE_RATE_LIMIT_MAX_DELAY", "0.02")
    return root


def attempt(root: Path) -> tuple[WaveContext, AgentResult]:
    ctx = WaveContext.load(root / "waves" / "wave-2.md", RunOptions(agent_timeout=60))
    return ctx, run_agent_attempt(ctx, ctx.wave.agents[0], run_id="run1", attempt=1)


def every_written_text(root: Path) -> str:
    """What the launch path wrote: prompts, logs and results, overlays and previews."""
    state = root / ".tmp" / "main-wave-launcher"
    files = [p for folder in ("prompts", "results", "executors", "logs") for p in (state / folder).rglob("*")]
    return "\n".join(p.read_text(errors="replace") for p in files if p.is_file())


def test_rate_limited_twice_then_passes_on_the_same_runtime(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAILS", "2")
    ctx, result = attempt(repo)
    assert result.ok, result.reason
    assert result.executor_id == "codex"
    switches = result.executor_switches
    assert [(s.kind, s.to_executor) for s in switches] == [("retry", "codex"), ("retry", "codex")]
    assert all("429" in Path(s.log_path or "").read_text() for s in switches)
    assert result.usage is not None and result.usage.total_tokens == 1200
    assert (repo / "out" / "part.md").read_text() == "written by codex\n"
    stored = json.loads((ctx.paths.attempt_dir(2, "run1", 1) / "A1.json").read_text())
    assert len(stored["executor_switches"]) == 2


def test_overloaded_forever_falls_back_to_the_next_runtime(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAILS", "3")  # the first try and both retries on codex
    monkeypatch.setenv("FAKE_ERROR", "ERROR: unexpected status 529 <unknown status code>: Overloaded")
    _, result = attempt(repo)
    assert result.ok and result.executor_id == "claude"
    assert [s.kind for s in result.executor_switches] == ["retry", "retry", "fallback"]
    assert (repo / "out" / "part.md").read_text() == "written by claude\n"
    prompt = (repo / ".tmp" / "main-wave-launcher" / "prompts" / "wave-2-2-a1.prompt.md").read_text()
    assert "Resolved executor: claude" in prompt  # the fallback got its own prompt


def test_secrets_never_reach_disk(repo: Path) -> None:
    attempt(repo)
    text = every_written_text(repo)
    assert "sk-ant-test-secret-value" not in text and SECRET not in text
    assert "[redacted:ANTHROPIC_API_KEY]" in text  # the log line the fake printed
    assert "[redacted:anthropic-key]" in text  # the key pasted into the wave prompt and echoed


def test_wave_budget_stops_new_tries(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempt(repo)  # spends 1200 tokens in run1
    monkeypatch.setenv("WAVE_BUDGET_TOKENS", "1000")
    ctx = WaveContext.load(repo / "waves" / "wave-2.md", RunOptions())
    result = run_agent_attempt(ctx, ctx.wave.agents[0], run_id="run1", attempt=2)
    assert not result.ok
    assert "wave budget spent (1200 tokens of 1000)" in (result.reason or "")

"""Status files as reconcile evidence: their format (with the Node.js tool's legacy integer form) and
what a wave whose agents never ran, or whose status files another launcher wrote, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_wave.engine import run_state
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.status_reconcile import analyze
from pytest_wave.model.status import AgentStatus, parse_status

PYPROJECT = """\
[tool.wave]
projectName = "unit"

[tool.wave.executors]
default = "local"
"""

WAVE = """\
# Wave 5 - Unit

## Agent A1: Part one

### Deliverables

- out/a1.py

### Prompt

```text
Write part one.

File ownership (only touch these paths):
- out/a1.py
```

## Agent A0: Evaluator

### Deliverables

- out/reviews/wave-5-evaluator.md

### Prompt

```text
Gate the wave.

File ownership (only touch these paths):
- out/reviews/wave-5-evaluator.md
```
"""


def _context(tmp_path: Path) -> WaveContext:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "waves").mkdir()
    path = tmp_path / "waves" / "wave-5.md"
    path.write_text(WAVE)
    return WaveContext.load(path, RunOptions(), repo_root=tmp_path)


def _status(ctx: WaveContext, agent_id: str, text: str) -> None:
    agent = ctx.wave.agent(agent_id)
    assert agent is not None
    path = ctx.paths.status(ctx.paths.safe(ctx.wave.number, agent.slug))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_status_files_parse_in_every_form_and_fail_in_one_line() -> None:
    written = AgentStatus(
        code=0, prompt_hash="abc", orchestrator_id="main-pytest-wave", completed_at="2026-01-01T00:00:00Z"
    )
    assert json.loads(written.to_json()) == {
        "code": 0,
        "promptHash": "abc",
        "orchestratorId": "main-pytest-wave",
        "completedAt": "2026-01-01T00:00:00Z",
    }
    assert parse_status(written.to_json()) == written
    legacy = parse_status("0\n")  # the Node.js tool's oldest form: the exit code alone
    assert legacy.code == 0 and legacy.prompt_hash is None
    with pytest.raises(ValueError, match=r"^not JSON \(Expecting value at line 1\)$"):
        parse_status("exit 0")
    with pytest.raises(ValueError, match=r"^code: "):
        parse_status('{"code": "zero", "promptHash": "abc"}')
    with pytest.raises(ValueError, match=r"^code: Field required$"):
        parse_status('{"promptHash": "abc"}')
    with pytest.raises(ValueError, match=r"^expected an object with a code or a bare exit code, found bool$"):
        parse_status("true")


def test_a_wave_that_never_ran_is_not_reconstructable_and_nothing_is_written(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    analysis = analyze(ctx)
    assert sorted(tmp_path.rglob("*")) == before, "analysis is read only"
    assert not analysis.complete
    assert analysis.reasons() == "missing-status=A1, A0"  # the evaluator is judged only once statuses hold
    target = ctx.paths.run_state()
    report = run_state.reconcile([ctx], target)
    assert report.not_reconstructable == {5: "missing-status=A1, A0"}
    assert report.codes == {5: ["missing-status"]}
    assert not target.exists(), "reconcile wrote run state although nothing changed"
    assert report.lines() == [
        "[reconcile] added from results: none",
        "[reconcile] added from status files: none",
        "[reconcile] wave 5 not reconstructable: missing-status=A1, A0",
        "[reconcile] completed waves now: none",
    ]


def test_statuses_of_another_launcher_or_a_failed_launch_are_named(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    node = {"code": 0, "promptHash": "0" * 64, "orchestratorId": "main-orchestrator"}
    _status(ctx, "A1", json.dumps(node))
    _status(ctx, "A0", "1\n")  # legacy: failed, and no prompt hash to compare
    reasons = analyze(ctx).reasons()
    assert reasons == (
        "prompt-hash-mismatch=A1 (written by main-orchestrator, whose prompt hashes differ from pytest-wave's), "
        "A0 (the status has no prompt hash: written by an old launcher); nonzero-status=A0 (code 1)"
    )
    _status(ctx, "A0", "{not json")
    assert "missing-status=A0 (not a status file: not JSON (Expecting property name enclosed in double quotes" in (
        analyze(ctx).reasons()
    )

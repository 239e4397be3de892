"""The report building blocks without a pytest run: run views from files, timeline, closure table, lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_wave.engine.paths import LanePaths
from pytest_wave.model.result import AgentResult, ExecutorSwitch, Usage, WaveOutcome
from pytest_wave.reports import closure_table
from pytest_wave.reports.dashboard import render_frame
from pytest_wave.reports.html import render_report, section
from pytest_wave.reports.progress import progress_line
from pytest_wave.reports.timeline import build, duration_label
from pytest_wave.reports.view import AgentSpec, WaveWatcher, latest_run_id, wave_numbers

RUN = "20260101T000000-abcdef"
SPECS = [
    AgentSpec("A1", "Part 1", "implementation", "local", "1-a1"),
    AgentSpec("A2", "Part 2", "implementation", "claude", "1-a2"),
    AgentSpec("A8", "Integration", "integration", "local", "1-a8"),
]


def _result(agent: str, attempt: int, status: str = "passed", **extra: object) -> AgentResult:
    base: dict[str, object] = {
        "wave": 1,
        "wave_path": "/repo/waves/wave-1.md",
        "lane": "main",
        "run_id": RUN,
        "attempt": attempt,
        "agent_id": agent,
        "title": f"Agent {agent}",
        "role": "implementation",
        "executor_id": "local",
        "status": status,
        "started_at": 1000.0 + 10 * attempt,
        "finished_at": 1005.0 + 10 * attempt,
        "markers": ["[wave-proof] state=met"] if status == "passed" else [],
    }
    base.update(extra)
    return AgentResult.model_validate(base)


@pytest.fixture
def paths(tmp_path: Path) -> LanePaths:
    return LanePaths(repo_root=tmp_path, state_dir=tmp_path / "state")


def _store(paths: LanePaths, result: AgentResult) -> None:
    folder = paths.attempt_dir(1, RUN, result.attempt)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.agent_id}.json").write_text(result.model_dump_json())
    (folder / f"wave-1-{result.agent_id[1:]}-{result.agent_id.lower()}.log").touch()


def _watcher(paths: LanePaths) -> WaveWatcher:
    return WaveWatcher(paths=paths, wave=1, wave_path="waves/wave-1.md", lane="main", run_id=RUN, specs=list(SPECS))


def test_view_states_from_the_run_folder(paths: LanePaths) -> None:
    _store(paths, _result("A1", 1, "failed", reason="exit status 3"))
    _store(paths, _result("A1", 2))
    # A2: attempt 1 started (its log exists), its process is alive (our own pid), no result yet.
    (paths.attempt_dir(1, RUN, 1) / "wave-1-1-a2.log").write_text("working\n")
    pid = paths.state_dir / "pids" / "wave-1-1-a2.pid"
    pid.parent.mkdir(parents=True)
    pid.write_text(f"{os.getpid()}\n")
    watcher = _watcher(paths)
    view = watcher.snapshot(now=2000.0)
    states = {a.agent_id: (a.state, a.attempt) for a in view.agents}
    assert states == {"A1": ("passed", 2), "A2": ("running", 1), "A8": ("pending", 0)}
    assert [(a.agent_id, a.attempt, a.status) for a in view.attempts] == [
        ("A1", 1, "failed"),
        ("A1", 2, "passed"),
        ("A2", 1, "running"),
    ]
    assert view.status == "running" and view.attempt == 2
    # The process ended without a result: validating (the judge is still at work).
    pid.unlink()
    assert {a.agent_id: a.state for a in watcher.snapshot().agents}["A2"] == "validating"
    # A log with nothing in it yet, no process: waiting for a slot or starting.
    (paths.attempt_dir(1, RUN, 2) / "wave-1-1-a8.log").touch()
    assert {a.agent_id: a.state for a in watcher.snapshot().agents}["A8"] == "launching"
    # Once the wave has an outcome, agents without a result did not run.
    outcome = WaveOutcome(wave=1, wave_path="w", lane="main", run_id=RUN, closed=False, attempts=2, reason="x")
    (paths.run_dir(1, RUN) / "wave.json").write_text(outcome.model_dump_json())
    final = watcher.snapshot()
    assert {a.agent_id: a.state for a in final.agents} == {"A1": "passed", "A2": "not-run", "A8": "not-run"}
    assert final.status == "failed"
    assert latest_run_id(paths, 1) == RUN and wave_numbers(paths) == [1]


def test_torn_results_are_not_results(paths: LanePaths) -> None:
    folder = paths.attempt_dir(1, RUN, 1)
    folder.mkdir(parents=True)
    (folder / "A1.json").write_text('{"agent_id": "A1", "stat')
    assert {a.agent_id: a.state for a in _watcher(paths).snapshot().agents}["A1"] == "pending"


def test_timeline_has_a_bar_per_attempt_on_the_agents_row(paths: LanePaths) -> None:
    _store(paths, _result("A1", 1, "failed"))
    _store(paths, _result("A1", 2))
    _store(paths, _result("A2", 1, started_at=1000.0, finished_at=1030.0))
    timeline = build(_watcher(paths).snapshot())
    assert [(b.agent_id, b.attempt, b.status) for b in timeline.bars] == [
        ("A1", 1, "failed"),
        ("A1", 2, "passed"),
        ("A2", 1, "passed"),
    ]
    a1, a1_retry, a2 = timeline.bars
    assert a1.y == a1_retry.y != a2.y  # one row per agent
    assert a1.x < a1_retry.x and a2.width > a1.width  # time runs left to right
    assert timeline.span == 30.0 and [t.label for t in timeline.ticks] == [
        "0s",
        "5.0s",
        "10s",
        "15s",
        "20s",
        "25s",
        "30s",
    ]
    assert [r.agent_id for r in timeline.rows] == ["A1", "A2", "A8"]


def test_duration_labels() -> None:
    assert [duration_label(s) for s in (0.25, 42, 60, 95, 3600, 5400)] == ["0.2s", "42s", "1m", "1m35s", "1h", "1h30m"]


def test_closure_table_adds_usage_and_switches_only_when_there_are_any() -> None:
    plain = WaveOutcome(
        wave=1, wave_path="w", lane="main", run_id=RUN, closed=True, attempts=1, agents={"A1": _result("A1", 1)}
    )
    lines = closure_table.lines(plain)
    assert lines[0].split() == ["agent", "role", "executor", "attempt", "verdict", "reason"]
    assert lines[1].split() == ["A1", "implementation", "local", "1", "passed"]
    usage = Usage(
        input_tokens=1200, output_tokens=300, cached_input_tokens=50, total_tokens=1500, cost_usd=0.25, turns=7
    )
    switch = ExecutorSwitch(kind="fallback", from_executor="claude", to_executor="codex", reason="overloaded")
    retry = ExecutorSwitch(kind="retry", from_executor="claude", to_executor="claude", reason="429")
    spent = _result("A2", 1, "failed", reason="boom", usage=usage, executor_switches=[retry, switch])
    rich = plain.model_copy(update={"agents": {"A1": _result("A1", 1), "A2": spent}, "usage": usage})
    lines = closure_table.lines(rich)
    assert lines[0].split() == [
        "agent",
        "role",
        "executor",
        "attempt",
        "verdict",
        "tokens",
        "cost",
        "switches",
        "reason",
    ]
    assert lines[2].split()[:7] == ["A2", "implementation", "local", "1", "failed", "1,500", "$0.2500"]
    assert lines[2].endswith("retry x1, fallback claude->codex  boom")
    assert lines[-1] == "usage: 1,500 tokens (input 1,200, output 300, cached 50), $0.2500, 7 turns"


def test_progress_line_and_dashboard_frame(paths: LanePaths) -> None:
    watcher = _watcher(paths)
    assert progress_line("waves/wave-1.md", watcher.snapshot(), set()) is None  # nothing started yet
    assert progress_line("w", watcher.snapshot(), {"A2"}) == (
        "[wave] w: running 1 (A2) | done 0/3 | failed 0 | waiting on human 0"
    )
    _store(paths, _result("A1", 1, "failed", reason="exit status 3", exit_code=3))
    _store(paths, _result("A2", 1))
    view = watcher.snapshot(board=True)
    assert progress_line("w", view, set()) == "[wave] w: running 0 | done 1/3 | failed 1 (A1) | waiting on human 0"
    frame = render_frame(view, wave_file="waves/wave-1.md")
    lines = frame.splitlines()
    assert lines[0] == "main Wave Dashboard | wave=1 | status=running | attempt=1"
    assert "Counts: failed:1 passed:1 pending:1" in frame
    assert any(line.split()[:4] == ["A1", "failed", "1", "3"] and "exit status 3" in line for line in lines)
    assert any(line.split()[:2] == ["A2", "passed"] and "[wave-proof]" in line for line in lines)


def test_html_escapes_what_agents_wrote(paths: LanePaths, tmp_path: Path) -> None:
    _store(paths, _result("A1", 1, "failed", reason="<script>alert(1)</script> & more"))
    page = render_report(
        [section("waves/wave-1.md", _watcher(paths).snapshot(), None, tmp_path)], title="t", final=False, generated_at=0
    )
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert 'http-equiv="refresh"' in page and 'class="verdict RUNNING"' in page

"""How reused proof and crashes show in the terminal (controller only).

* An agent item whose earlier proof was reused passes with category ``reused``: ``r`` in the progress
  line, ``REUSED`` with ``-v``, "N reused" in the summary line, and a ``resume`` section naming
  the runs it came from. Exit status is unaffected (the report's outcome stays ``passed``).
* An agent process killed by a signal nobody in the orchestrator sent is an error ``CRASHED`` (with
  the signal), not one more failed gate; an xdist worker that dies while running an agent item makes
  that item an error saying so, with the worker's signal, and the wave retries it like any failure.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.engine import orphans, resume
from pytest_wave.engine.context import WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.items import signal_name
from pytest_wave.state import session_state


class ResumeReporting:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        props = dict(report.user_properties)
        if report.when == "call" and report.passed and props.get("status") == "reused":
            return "reused", "r", ("REUSED", {"cyan": True})
        if report.failed and props.get("crashed") and report.when in ("call", "???"):
            return "error", "E", ("CRASHED", {"red": True})
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        state = session_state(config)
        for wave_key in sorted(state.held_closure):
            outcome = state.outcomes.get(wave_key)
            lines = self._lines(wave_key, outcome.run_id if outcome else state.run_id, outcome)
            if lines:
                terminalreporter.section(f"resume {_relative(wave_key, config)}", sep="-")
                for line in lines:
                    terminalreporter.write_line(line)

    def _lines(self, wave_key: str, run_id: str, outcome: Any) -> list[str]:
        state = session_state(self.config)
        lines: list[str] = []
        try:
            ctx = WaveContext.load(Path(wave_key), state.options, lookup=state.lookup)
        except WaveError:
            return lines
        start = resume.read_start(ctx, run_id)
        if start is not None:
            if start.stopped:
                shown = ", ".join(
                    f"{p.agent_id or p.pid_file}{f' of run {p.run_id}' if p.run_id else ''} (pid {p.pid})"
                    for p in start.stopped
                )
                lines.append(f"stopped {len(start.stopped)} orphaned agent process(es) of a dead session: {shown}")
            if start.logs_redacted:
                lines.append(f"redacted credentials left in {len(start.logs_redacted)} log(s) of a dead run")
            if start.baseline_from:
                lines.append(f"kept the baseline of unfinished run {start.baseline_from} (its changes are checked too)")
            elif start.baseline_dropped:
                lines.append(f"new baseline: unfinished run {start.baseline_dropped}")
            if start.fresh:
                lines.append("--wave-fresh: earlier results were not reused")
        agents = outcome.agents if outcome is not None else {}
        reused = {aid: r.reused_from for aid, r in agents.items() if r.status == "reused" and r.reused_from}
        if reused:
            runs: dict[str, list[str]] = {}
            for aid, origin in reused.items():
                runs.setdefault(f"{origin.run_id} attempt {origin.attempt}", []).append(aid)
            detail = "; ".join(f"{', '.join(ids)} from run {run}" for run, ids in runs.items())
            lines.append(f"reused {len(reused)} of {len(agents)} agent result(s), proof re-verified: {detail}")
        return lines


class XdistCrashes:
    """xdist's report of a worker that died mid-item, told as a crash of that agent (controller only)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        path, _, name = crashitem.partition("::")
        agent_id = name.split("[", 1)[0]
        wave_key = str((self.config.rootpath / path).resolve())
        if not path.endswith(".md") or agent_id in ("", "plan", "lint"):
            return  # not an agent item (the plugin is loaded in every pytest run): xdist's report stands
        worker = getattr(report, "node", None)
        gateway = getattr(worker, "gateway", None)
        code = _exit_code(gateway)
        signal = signal_name(-code) if code is not None and code < 0 else ""
        how = f"killed by {signal}" if signal else (f"exit status {code}" if code is not None else "it vanished")
        worker_id = getattr(gateway, "id", "?")
        report.longrepr = (
            f"{name} crashed: xdist worker {worker_id} died ({how}) while running it; "
            "no result was recorded, so the wave treats the agent as failed"
        )
        state = session_state(self.config)
        props: list[tuple[str, object]] = [
            ("wave", wave_key),
            ("agent", agent_id),
            ("status", "crashed"),
            ("crashed", signal or how),
        ]
        report.user_properties[:] = props
        self._stop_orphans(wave_key)
        if state.max_attempts > 1 and self._closure_expected(wave_key):
            report.outcome = "rerun"  # type: ignore[assignment]  # the wave runs the agent again
            # A rerun report shows only "R": say what happened now, or the crash is never told.
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            if terminal is not None:
                terminal.write_line(f"{crashitem}: {report.longrepr} (retrying)", yellow=True)

    def _closure_expected(self, wave_key: str) -> bool:
        """Whether the wave's closure (which retries the agent) will run. Workers report the closure
        items they hold back only when they finish, so mid-session the controller may not know yet."""
        state = session_state(self.config)
        if wave_key in state.held_closure:
            return state.closure_selected(wave_key)
        option = self.config.option
        if option.keyword or option.markexpr or getattr(option, "deselect", None):
            return False  # a filtered session may have left closure out: report the crash as final
        try:
            ctx = WaveContext.load(Path(wave_key), state.options, lookup=state.lookup)
        except WaveError:
            return False
        return bool(ctx.closure_agents())  # unfiltered: every closure item of the wave is selected

    def _stop_orphans(self, wave_key: str) -> None:
        """The dead worker's agent keeps running (own session): stop it now, whether or not it is retried."""
        state = session_state(self.config)
        try:
            ctx = WaveContext.load(Path(wave_key), state.options, lookup=state.lookup)
        except WaveError:
            return
        number = "x" if ctx.wave.number is None else str(ctx.wave.number)
        orphans.stop_orphans(ctx.paths.state_dir, prefix=f"wave-{number}-")


def _exit_code(gateway: Any) -> int | None:
    """The worker process's exit status (negative: the signal), read from execnet's popen."""
    popen = getattr(getattr(gateway, "_io", None), "popen", None)
    if not isinstance(popen, subprocess.Popen):
        return None
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        return popen.wait(timeout=2.0)
    return None


def _relative(wave_key: str, config: pytest.Config) -> str:
    try:
        return str(Path(wave_key).relative_to(config.rootpath))
    except ValueError:
        return wave_key

"""The trace sink: a report-sink-style plugin object on the controller (like pytest-reportlog's).

It writes one bundle at the end of every closure attempt (``pytest_wave_attempt_finished``) and
rewrites the last attempt's bundle with the wave's verdict (``pytest_wave_closed``). Writing a
trace never fails a run: a problem is reported in the terminal summary instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_wave.engine.context import WaveContext
from pytest_wave.model.result import AgentResult, WaveOutcome
from pytest_wave.state import session_state
from pytest_wave.traces.capture import OWNERSHIP_CHECK, tree_changes, write_bundle


class TraceSink:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._contexts: dict[str, WaveContext] = {}
        # (wave path, run id, attempt) -> agent id -> files changed when that closure stage checked ownership
        self._stage_changes: dict[tuple[str, str, int], dict[str, list[str]]] = {}
        self.written: dict[str, Path] = {}  # wave path -> its latest bundle
        self.errors: list[str] = []

    def _context(self, wave_path: str) -> WaveContext:
        if wave_path not in self._contexts:
            state = session_state(self.config)
            self._contexts[wave_path] = WaveContext.load(Path(wave_path), state.options, lookup=state.lookup)
        return self._contexts[wave_path]

    def pytest_wave_agent_finished(self, result: AgentResult) -> None:
        """A closure stage just judged the tree: keep what it saw, for the bundle's ownership replay."""
        if not any(check.name == OWNERSHIP_CHECK for check in result.checks):
            return
        try:
            changes = tree_changes(self._context(result.wave_path), result.run_id)
        except Exception as exc:  # a trace problem never fails the run
            self.errors.append(f"{result.agent_id}: tree snapshot not taken: {exc}")
            return
        if changes is not None:
            key = (result.wave_path, result.run_id, result.attempt)
            self._stage_changes.setdefault(key, {})[result.agent_id] = changes

    def pytest_wave_attempt_finished(self, wave_path: str, run_id: str, attempt: int) -> None:
        self._write(wave_path, run_id, attempt, None)

    def pytest_wave_closed(self, outcome: WaveOutcome) -> None:
        self._write(outcome.wave_path, outcome.run_id, outcome.attempts, outcome)

    def _write(self, wave_path: str, run_id: str, attempt: int, outcome: WaveOutcome | None) -> None:
        changes: dict[str, list[str]] = {}
        for number in range(1, attempt + 1):  # a stage not rerun this attempt keeps what it saw then
            changes.update(self._stage_changes.get((wave_path, run_id, number), {}))
        try:
            self.written[wave_path] = write_bundle(
                self._context(wave_path), run_id, attempt, outcome=outcome, stage_changes=changes
            )
        except Exception as exc:  # a trace problem never fails the run
            self.errors.append(f"{wave_path} attempt {attempt}: trace not written: {type(exc).__name__}: {exc}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.written and not self.errors:
            return
        for bundle in self.written.values():
            shown = _relative(bundle, self.config)
            terminalreporter.write_line(f"wave trace: {shown} (replay: pytest --wave-replay {shown})")
        for error in self.errors:
            terminalreporter.write_line(f"wave trace: {error}", yellow=True)


def _relative(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(Path(config.invocation_params.dir)))
    except ValueError:
        return str(path)

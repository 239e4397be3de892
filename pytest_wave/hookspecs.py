# Hookspecs are signatures only: their bodies are never run, so allow docstring-only bodies.
# mypy: disable-error-code="empty-body"
"""Hook specifications of pytest-wave.

The pytest layer adds this module with ``pluginmanager.add_hookspecs``; the ``wave`` CLI, which runs
without pytest, registers it on a plain ``pluggy.PluginManager("pytest")``. Plugins and
``conftest.py`` files implement these hooks like any pytest hook.

pytest only accepts hook implementations whose names start with ``pytest_`` (even marked ones), so
every hook here is named ``pytest_wave_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pytest_wave.executors.base import Executor
    from pytest_wave.lint.base import LintRule
    from pytest_wave.model.result import AgentResult, WaveOutcome

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_wave_lint_rules() -> list[LintRule]:
    """Return extra lint rules."""


@hookspec(firstresult=True)
def pytest_wave_executor_for(executor_id: str) -> Executor | None:
    """Return the executor for runtime ``executor_id`` (``local``, ``codex``, ...), or None.

    The first non-None answer wins; pytest-wave's own executors answer last (``trylast``), so a
    plugin can replace a built-in runtime or add a new one.
    """


@hookspec
def pytest_wave_agent_finished(result: AgentResult) -> None:
    """Called in the process that ran an agent attempt, with its judged result."""


@hookspec
def pytest_wave_closed(outcome: WaveOutcome) -> None:
    """Called on the controller once per wave, with its final outcome (closed or not)."""


@hookspec
def pytest_wave_attempt_finished(wave_path: str, run_id: str, attempt: int) -> None:
    """Called on the controller at the end of every closure attempt of a wave, before the pass/fail
    decision (the trace bundle of the attempt is written here); ``pytest_wave_closed`` follows once."""

"""Per-session state of the pytest layer, hung off ``config.stash`` (never module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pytest_wave.engine.context import RunOptions
from pytest_wave.executors.registry import ExecutorLookup, builtin_executor
from pytest_wave.model.result import AgentResult, WaveOutcome


@dataclass
class WaveSession:
    run_id: str
    options: RunOptions
    lint_mode: bool = False
    # "gate", "dry-run" or "replay" (pytest_wave.modes): items that start no agent, no closure run.
    mode: str | None = None
    lookup: ExecutorLookup = builtin_executor  # the plugin swaps in the pytest_wave_executor_for hook
    # Wave file path -> nodeids of its closure items selected in this session (held back from the loop).
    held_closure: dict[str, list[str]] = field(default_factory=dict)
    # Agent results this process saw (controller: all of them, through reports and its own runs).
    results: dict[tuple[str, str], AgentResult] = field(default_factory=dict)
    outcomes: dict[str, WaveOutcome] = field(default_factory=dict)
    # (wave path, agent id) of every agent item that reported in this session, from any process.
    reported: set[tuple[str, str]] = field(default_factory=set)
    # Waves whose closure could not run (interrupted, stopped): path -> reason.
    not_closed: dict[str, str] = field(default_factory=dict)

    @property
    def max_attempts(self) -> int:
        return self.options.max_retries + 1

    def closure_selected(self, wave_key: str) -> bool:
        return bool(self.held_closure.get(wave_key))

    def record_result(self, result: AgentResult) -> None:
        self.results[(result.wave_path, result.agent_id)] = result


STATE_KEY = pytest.StashKey[WaveSession]()


def session_state(config: pytest.Config) -> WaveSession:
    return config.stash[STATE_KEY]

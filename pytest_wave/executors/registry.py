"""Built-in executors, looked up by runtime id. Plugins add more through ``wave_executor_for``."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from pytest_wave.executors.base import Executor
from pytest_wave.executors.claude import ClaudeExecutor
from pytest_wave.executors.codex import CodexExecutor
from pytest_wave.executors.local import LocalExecutor
from pytest_wave.executors.opencode import OpenCodeExecutor

ExecutorLookup = Callable[[str], Executor | None]

_BUILTIN: dict[str, Executor] = {
    "local": LocalExecutor(),
    "codex": CodexExecutor(),
    "claude": ClaudeExecutor(),
    "opencode": OpenCodeExecutor(),
}


def builtin_executor(executor_id: str) -> Executor | None:
    return _BUILTIN.get(executor_id)


class BuiltinExecutors:
    """Answers ``pytest_wave_executor_for`` for pytest-wave's own runtimes, after any plugin."""

    @pluggy.HookimplMarker("pytest")(trylast=True)
    def pytest_wave_executor_for(self, executor_id: str) -> Executor | None:
        return builtin_executor(executor_id)


def hook_lookup(pluginmanager: pluggy.PluginManager) -> ExecutorLookup:
    """An executor lookup that asks every plugin (``pytest_wave_executor_for``), built-ins last."""

    def lookup(executor_id: str) -> Executor | None:
        found: Executor | None = pluginmanager.hook.pytest_wave_executor_for(executor_id=executor_id)
        return found

    return lookup

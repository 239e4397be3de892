"""Built-in executors, looked up by runtime id. Plugins add more through ``wave_executor_for``."""

from __future__ import annotations

from collections.abc import Callable

from pytest_wave.executors.base import Executor
from pytest_wave.executors.local import LocalExecutor

ExecutorLookup = Callable[[str], Executor | None]

_BUILTIN: dict[str, Executor] = {"local": LocalExecutor()}


def builtin_executor(executor_id: str) -> Executor | None:
    return _BUILTIN.get(executor_id)

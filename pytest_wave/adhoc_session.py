"""``pytest --wave-adhoc "TEXT"``: plan a transient wave before collection and run it like any wave.

On the controller the request is planned (see :mod:`planner.adhoc`) and the planned wave file replaces
the session's arguments, so collection, xdist and the controller treat it as a normal wave file.
xdist workers get the planned path through ``workerinput`` instead of planning again. When the session
ends the run's outcome is copied next to its wave under ``.wave/adhoc/runs/<run-id>/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_wave.errors import WaveError

if TYPE_CHECKING:
    from pytest_wave.executors.base import Executor

WORKER_KEY = "wave_adhoc_path"


def prepare(config: pytest.Config) -> None:
    """Called first in ``pytest_cmdline_main``: swap the session's args for the planned ad-hoc wave."""
    requests: list[str] | None = config.getoption("wave_adhoc", None)
    if not requests:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        path = workerinput.get(WORKER_KEY)
        if path:
            _use(config, path)
        return
    from planner.adhoc import plan_adhoc
    from planner.common import Repo
    from pytest_wave.commands.adhoc import planner_line

    try:
        repo = Repo.find(Path(config.rootpath))
        record = plan_adhoc(
            repo,
            config.getoption("wave_lane"),
            requests,
            # A dry run starts nothing, the planner included; the template plans it.
            use_runtime=not config.getoption("wave_dry_run", False),
            lookup=_executor_lookup(config),
        )
    except WaveError as exc:
        raise pytest.UsageError(exc.usage_line()) from None
    path = str(repo.root / record.wave_path)
    _use(config, path)
    recorder = AdhocRecorder(repo.root, record.run_id, path, planner_line(record))
    config.pluginmanager.register(recorder, "wave-adhoc")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistAdhoc(path), "wave-adhoc-xdist")


def _executor_lookup(config: pytest.Config) -> Callable[[str], Executor | None]:
    """Executors as the session sees them (plugins first), the built-ins when the hook is not there yet."""
    from pytest_wave.executors.registry import builtin_executor

    hook = getattr(config.pluginmanager.hook, "pytest_wave_executor_for", None)

    def lookup(executor_id: str) -> Executor | None:
        found: Executor | None = hook(executor_id=executor_id) if hook is not None else None
        return found or builtin_executor(executor_id)

    return lookup


def _use(config: pytest.Config, path: str) -> None:
    config.args = [path]
    config.args_source = pytest.Config.ArgsSource.ARGS


class _XdistAdhoc:
    def __init__(self, path: str) -> None:
        self.path = path

    def pytest_configure_node(self, node: object) -> None:
        workerinput = getattr(node, "workerinput", None)
        if isinstance(workerinput, dict):
            workerinput[WORKER_KEY] = self.path


class AdhocRecorder:
    def __init__(self, root: Path, run_id: str, wave_path: str, planner: str) -> None:
        self.root = root
        self.run_id = run_id
        self.wave_path = wave_path
        self.planner = planner

    def pytest_report_header(self) -> str:
        rel = os.path.relpath(self.wave_path, self.root)
        return f"wave ad-hoc run: {self.run_id} ({rel}), {self.planner}"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from planner.adhoc import record_outcome
        from pytest_wave.config import load_config, resolve_lane
        from pytest_wave.state import session_state

        config = session.config
        state = session_state(config)
        try:
            lane = resolve_lane(load_config(self.root), config.getoption("wave_lane"))
            outcome = self.root / lane.state_dir / "results" / "wave-x" / state.run_id / "wave.json"
            record = record_outcome(self.root, self.run_id, outcome, state.run_id)
        except (WaveError, OSError) as exc:
            print(f"wave ad-hoc run {self.run_id}: could not record the outcome: {exc}")
            return
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"wave ad-hoc run {self.run_id}: {record.status.upper()}")

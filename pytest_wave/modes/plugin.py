"""pytest hooks of the agent-less modes and of trace bundles (loaded by ``pytest_wave.plugin``).

* options ``--wave-gate``, ``--wave-dry-run``, ``--wave-replay PATH``;
* ``pytest_cmdline_main``: in those modes no xdist worker is started (``-n 0``, ``--dist no``, as
  xdist does for ``--pdb``) and ``--wave-replay`` points the session at its bundles;
* collection: gate and dry run collect wave files only; replay collects bundles only;
* ``pytest_configure``: the trace sink is registered on the controller of a normal wave run.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.modes import REPLAY, agentless_mode

_REPLAY_ROOTS = pytest.StashKey[list[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wave", "pytest-wave: run waves of coding agents")
    group.addoption(
        "--wave-gate",
        action="store_true",
        help="CI gate: assert the wave's recorded closure matches the wave file and re-check its deliverables "
        "and validation commands on the current tree; start no agent",
    )
    group.addoption(
        "--wave-dry-run",
        action="store_true",
        help="write every agent's prompt, overlays and launch preview under the lane's dry-run state; start nothing",
    )
    group.addoption(
        "--wave-replay",
        action="append",
        default=[],
        metavar="PATH",
        help="replay a trace bundle (traces/wave-<n>/attempt-<k>, or a folder of them) read-only",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, int | pytest.ExitCode, int | pytest.ExitCode]:
    if not hasattr(config, "workerinput"):
        mode = agentless_mode(config)
        if mode is not None:
            _no_workers(config)
        if mode == REPLAY:
            _point_at_bundles(config)
    return (yield)


def _no_workers(config: pytest.Config) -> None:
    option = config.option
    if hasattr(option, "numprocesses"):
        option.numprocesses = 0
    if hasattr(option, "dist"):
        option.dist = "no"
    if hasattr(option, "tx"):
        option.tx = []


def _point_at_bundles(config: pytest.Config) -> None:
    if config.args_source == pytest.Config.ArgsSource.ARGS and config.args:
        raise pytest.UsageError(
            f"--wave-replay replays trace bundles only; drop the other arguments ({' '.join(config.args)})"
        )
    base = Path(config.invocation_params.dir)
    roots: list[Path] = []
    for raw in config.getoption("wave_replay"):
        path = (base / raw).resolve()
        if path.is_file() and path.name == "run-metadata.json":
            path = path.parent
        if not path.exists():
            raise pytest.UsageError(
                f"--wave-replay {raw}: no such trace bundle (fix: pass a traces/wave-<n>/attempt-<k> folder)"
            )
        if not path.is_dir():
            raise pytest.UsageError(f"--wave-replay {raw}: not a trace bundle folder")
        roots.append(path)
    config.stash[_REPLAY_ROOTS] = roots
    config.args = [str(path) for path in roots]
    config.args_source = pytest.Config.ArgsSource.ARGS


def _mode(config: pytest.Config) -> str | None:
    from pytest_wave.state import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    return state.mode if state is not None else None


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    mode = _mode(config)
    if mode is None:
        return None
    if mode == REPLAY:
        roots = config.stash.get(_REPLAY_ROOTS, [])
        # Walk down to the bundles even through hidden folders (.tmp/), and nowhere else.
        return not any(root == collection_path or root.is_relative_to(collection_path) for root in roots)
    if collection_path.is_file() and collection_path.suffix != ".md":
        return True  # gate and dry run collect wave files only, not the test suite next to them
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _mode(parent.config) == REPLAY and path in parent.config.stash.get(_REPLAY_ROOTS, []):
        from pytest_wave.traces.replay import ReplayRoot

        return ReplayRoot.from_parent(parent, path=path)
    return None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    from pytest_wave.state import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    if state is None or hasattr(config, "workerinput"):
        return
    if state.mode is None and not state.lint_mode and not config.option.collectonly:
        from pytest_wave.traces.sink import TraceSink

        config.pluginmanager.register(TraceSink(config), "wave-traces")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _mode(config) == REPLAY:
        from pytest_wave.traces.replay import terminal_lines

        for line in terminal_lines(config):
            terminalreporter.write_line(line)

"""pytest entry point of pytest-wave (``pytest11: wave``): options, collection, report plumbing.

Thin on purpose: collection builds items from :mod:`pytest_wave.items`, the controller-only work
(closure after every agent, retries, the summary) lives in :mod:`pytest_wave.controller`, and all
orchestration is in :mod:`pytest_wave.engine`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Generator
from pathlib import Path

import pytest

from pytest_wave import hookspecs
from pytest_wave.controller import WaveController, XdistHooks, discover_wave_files, in_report_folder
from pytest_wave.engine.context import RunOptions
from pytest_wave.engine.wave_run import new_run_id
from pytest_wave.executors.registry import BuiltinExecutors, hook_lookup
from pytest_wave.items import AgentItem, ClosureItem, WaveFile
from pytest_wave.model.executor import EXECUTOR_IDS
from pytest_wave.modes import agentless_mode
from pytest_wave.reports.properties import attach as attach_properties
from pytest_wave.sequence import partition_items
from pytest_wave.sequence import register as register_sequence
from pytest_wave.state import STATE_KEY, WaveSession, session_state

# --wave-gate, --wave-dry-run and --wave-replay (options, collection, no xdist workers) and trace bundles.
pytest_plugins = ["pytest_wave.modes.plugin", "pytest_wave.reports.plugin"]  # reports: HTML, progress, surfaces
# Several machines: xdist remote workers (--tx socket=/ssh=), a shared log, git for results.
pytest_plugins.append("pytest_wave.distributed.plugin")

ROLE_MARKS = ("implementation", "integration", "documentation", "evaluator", "research", "infra", "deploy")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wave", "pytest-wave: run waves of coding agents")
    group.addoption("--wave-lint", action="store_true", help="lint wave files (one item per file); start no agent")
    group.addoption("--wave-executor", default=None, help="force every agent onto one runtime (e.g. local)")
    group.addoption("--wave-lane", default=None, help="lane to run in (default: the config's defaultLane)")
    group.addoption(
        "--wave-adhoc",
        action="append",
        default=[],
        metavar="TEXT",
        help="plan a transient ad-hoc wave from TEXT (repeatable: one worker per request) and run it",
    )
    group.addoption("--wave-max-retries", type=int, default=None, help="retries per wave after a failed gate")
    group.addoption(
        "--wave-agent-timeout", type=float, default=None, help="seconds an agent may run (budget.minutes can lower it)"
    )
    group.addoption("--wave-validation-timeout", type=float, default=None, help="seconds per validation command")
    group.addoption(
        "--wave-fresh",
        action="store_true",
        help="discard earlier runs' results: rerun every agent and wave instead of reusing valid proof",
    )
    group.addoption(
        "--wave-isolation",
        choices=("shared", "worktree"),
        default=None,
        help="shared: agents share the tree; worktree: each agent gets its own git worktree and branch",
    )
    group.addoption("--wave-start", type=int, default=None, metavar="N", help="first wave number to run")
    group.addoption("--wave-end", type=int, default=None, metavar="N", help="last wave number to run")
    group.addoption(
        "--wave-auto-next",
        action="store_true",
        help="run the lane's next open wave (after the last completed one) and the ones after it",
    )
    group.addoption(
        "--wave-reconcile",
        action="store_true",
        help="rebuild the lane's run state from status files, print what changed, and exit",
    )
    parser.addini("wave_files", "glob patterns of wave files to collect", type="args", default=["wave-*.md"])
    parser.addini("wave_max_parallel", "most agents running at once, across processes", default="8")
    parser.addini("wave_max_retries", "default for --wave-max-retries", default="1")
    parser.addini("wave_agent_timeout", "default for --wave-agent-timeout (seconds)", default="14400")
    parser.addini("wave_validation_timeout", "default for --wave-validation-timeout (seconds)", default="600")
    parser.addini(
        "wave_isolation",
        "default for --wave-isolation (shared or worktree; unset: the lane's waveIsolation, else shared)",
        default="",
    )


def _int_ini(config: pytest.Config, name: str) -> int:
    raw = config.getini(name)
    try:
        return int(str(raw))
    except ValueError:
        raise pytest.UsageError(f"ini option {name} must be an integer (got: {raw!r})") from None


def _float_ini(config: pytest.Config, name: str) -> float:
    raw = config.getini(name)
    try:
        return float(str(raw))
    except ValueError:
        raise pytest.UsageError(f"ini option {name} must be a number (got: {raw!r})") from None


def _options(config: pytest.Config) -> RunOptions:
    retries = config.getoption("wave_max_retries")
    if retries is None:
        retries = _int_ini(config, "wave_max_retries")
    if retries < 0:
        raise pytest.UsageError("--wave-max-retries must be 0 or more")
    parallel = _int_ini(config, "wave_max_parallel")
    if parallel < 1:
        raise pytest.UsageError("ini option wave_max_parallel must be at least 1")
    timeout = config.getoption("wave_agent_timeout") or _float_ini(config, "wave_agent_timeout")
    validation = config.getoption("wave_validation_timeout") or _float_ini(config, "wave_validation_timeout")
    isolation = config.getoption("wave_isolation") or str(config.getini("wave_isolation")).strip()
    if isolation not in ("", "shared", "worktree"):  # "": the lane config decides
        raise pytest.UsageError(f"ini option wave_isolation must be shared or worktree (got: {isolation!r})")
    return RunOptions(
        lane=config.getoption("wave_lane"),
        forced_executor=config.getoption("wave_executor"),
        max_retries=retries,
        max_parallel=parallel,
        agent_timeout=timeout,
        validation_timeout=validation,
        dry_run=bool(config.getoption("wave_dry_run")),
        fresh=bool(config.getoption("wave_fresh")),
        isolation=isolation,
    )


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, int | pytest.ExitCode, int | pytest.ExitCode]:
    """Run a wave's agents concurrently by default: pick xdist's worker count before xdist reads it."""
    from pytest_wave.adhoc_session import prepare

    prepare(config)  # --wave-adhoc: the planned wave replaces the session's arguments
    option = config.option
    if (
        not hasattr(config, "workerinput")  # xdist workers run this hook too: never spawn nested workers
        and config.pluginmanager.hasplugin("xdist")
        and getattr(option, "numprocesses", None) is None
        and not getattr(option, "collectonly", False)
        and not option.wave_lint
        and getattr(option, "dist", "no") == "no"
        and not getattr(option, "tx", None)  # --tx names the workers (pytest_wave.distributed)
    ):
        waves = discover_wave_files(config)
        if waves:
            from pytest_wave.controller import agents_per_wave

            count = max(agents_per_wave(waves), default=0)
            count = min(count, _agents_to_run(config, waves, count))  # reused proof needs no worker
            workers = min(count, _int_ini(config, "wave_max_parallel"))
            if workers >= 2:
                option.numprocesses = workers
                option.dist = "load"
    return (yield)


def _agents_to_run(config: pytest.Config, waves: list[Path], default: int) -> int:
    """Most implementation agents any of ``waves`` still has to run (agents with reusable proof do not)."""
    from pytest_wave.engine.resume import agents_to_run

    try:
        options = _options(config)
    except pytest.UsageError:
        return default  # reported by pytest_configure
    counts = [agents_to_run(path, options) for path in waves]
    return default if any(c is None for c in counts) else max((c for c in counts if c is not None), default=0)


def pytest_configure(config: pytest.Config) -> None:
    for executor in EXECUTOR_IDS:
        config.addinivalue_line("markers", f"{executor}: wave agent run by the {executor} executor")
    for role in ROLE_MARKS:
        config.addinivalue_line("markers", f"{role}: wave agent with the {role} role")
    config.addinivalue_line("markers", "wave: an item collected from a wave file")
    workerinput = getattr(config, "workerinput", None)
    run_id = workerinput.get("wave_run_id") if workerinput else None
    config.pluginmanager.register(BuiltinExecutors(), "wave-builtin-executors")
    mode = agentless_mode(config)  # gate, dry-run, replay: no agent starts, no closure runs
    config.stash[STATE_KEY] = WaveSession(
        run_id=run_id or new_run_id(),
        options=_options(config),
        lint_mode=bool(config.getoption("wave_lint")),
        mode=mode,
        lookup=hook_lookup(config.pluginmanager),
    )
    if workerinput is None and mode is None:
        from pytest_wave.reports.resume import ResumeReporting, XdistCrashes

        config.pluginmanager.register(WaveController(config), "wave-controller")
        register_sequence(config)  # wave order, run state, lane lock, --wave-reconcile
        config.pluginmanager.register(ResumeReporting(config), "wave-resume")  # "reused", crashed agents
        from pytest_wave.reports.context7_notice import Context7Notices

        config.pluginmanager.register(Context7Notices(config), "wave-context7-notices")  # said once per session
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(XdistHooks(config), "wave-xdist")
            config.pluginmanager.register(XdistCrashes(config), "wave-xdist-crashes")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> WaveFile | None:
    if file_path.suffix != ".md":
        return None
    patterns = parent.config.getini("wave_files")
    explicit = any(Path(arg.split("::")[0]).resolve() == file_path for arg in parent.config.args)
    if explicit or (
        any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns) and not in_report_folder(file_path)
    ):
        return WaveFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Hold closure items back: they run after every agent, on the controller (see controller.py)."""
    partition_items(config, items)  # many waves: only the first wave's items stay in the loop
    state = session_state(config)
    kept: list[pytest.Item] = []
    for item in items:
        if isinstance(item, ClosureItem):
            state.held_closure.setdefault(item.wave_file.wave_key, []).append(item.nodeid)
        else:
            kept.append(item)
    # --collect-only lists closure items where they run: last, after the agents.
    if state.held_closure and not config.option.collectonly:
        items[:] = kept
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["wave_held_closure"] = state.held_closure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if isinstance(item, AgentItem):
        attach_properties(item, report)  # every phase: junitxml writes the teardown report's properties
    if isinstance(item, AgentItem) and report.when == "call":
        tail = item.log_tail()
        if report.failed and tail:
            report.sections.append(("agent log (tail)", tail))
        if report.failed and item.retry_remaining:
            # Not final: the wave retries this agent (rerunfailures' convention).
            report.outcome = "rerun"  # type: ignore[assignment]
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if report.outcome == "rerun":  # type: ignore[comparison-overlap]
        return "rerun", "R", "RERUN"
    return None

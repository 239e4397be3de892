"""Many waves in one session, and one live run per lane (the pytest side of ``engine.session_order``).

Controller, at session start: order the waves, read the lane's run state, take each lane's lock
(a second run exits at once with :data:`~pytest_wave.engine.lane_lock.EXIT_LANE_BUSY`), or rebuild the
run state (``--wave-reconcile``) and exit. Collection (controller or xdist worker): only the first
wave's items stay in pytest's loop; later waves are held back like closure items, reused waves are
reported as skipped, waves outside the range are deselected. After the loop, :func:`close_in_order`
closes the first wave, then runs each later wave's agents (threads, as retries do) and closes it,
and stops at the first wave that does not close: the rest report "not run: wave N did not close".
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_wave.engine import board, run_state
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.lane_lock import EXIT_LANE_BUSY, LaneBusy, LaneLock
from pytest_wave.engine.session_order import SessionPlan, plan_session
from pytest_wave.engine.wave_run import WaveRun
from pytest_wave.errors import WaveError
from pytest_wave.items import AgentItem, ClosureItem, PlanItem, WaveFile
from pytest_wave.reports.worktree_notice import say_uncommitted
from pytest_wave.state import session_state

if TYPE_CHECKING:
    from pytest_wave.controller import WaveController

WIRE_KEY = "wave_plan"


@dataclass
class SequenceState:
    plan: SessionPlan | None = None
    wire: dict[str, str] = field(default_factory=dict)  # rootdir-relative wave path -> disposition
    # Wave key -> nodeids of its selected items held back from the loop (later and reused waves).
    held: dict[str, list[str]] = field(default_factory=dict)
    reused: dict[str, list[str]] = field(default_factory=dict)
    locks: list[LaneLock] = field(default_factory=list)
    reported_reused: list[str] = field(default_factory=list)


SEQUENCE_KEY = pytest.StashKey[SequenceState]()


def sequence_state(config: pytest.Config) -> SequenceState:
    found = config.stash.get(SEQUENCE_KEY, None)
    if found is None:
        found = config.stash[SEQUENCE_KEY] = SequenceState()
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            found.wire = dict(workerinput.get(WIRE_KEY) or {})
    return found


@functools.lru_cache(maxsize=4096)
def _norm(key: str) -> str:
    return str(Path(key).resolve())


def _wire_key(config: pytest.Config, key: str) -> str:
    """A wave's key on the wire: relative to the rootdir, so a remote worker's checkout matches."""
    resolved = Path(_norm(key))
    try:
        return resolved.relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def _active(config: pytest.Config) -> bool:
    state = session_state(config)
    return not (config.option.collectonly or state.lint_mode or state.mode is not None)


# --------------------------------------------------------------------------- collection (anywhere)


def partition_items(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the first wave's items in the loop; hold later and reused waves; deselect the rest."""
    seq = sequence_state(config)
    if not seq.wire:
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    state = session_state(config)
    for item in items:
        wave_file = getattr(item, "wave_file", None)
        key = wave_file.wave_key if isinstance(wave_file, WaveFile) else None
        disposition = seq.wire.get(_wire_key(config, key)) if key else None
        if disposition == "excluded":
            deselected.append(item)
        elif disposition in ("later", "reused") and key and not config.option.collectonly:
            (seq.held if disposition == "later" else seq.reused).setdefault(key, []).append(item.nodeid)
            if disposition == "later" and isinstance(item, ClosureItem):
                state.held_closure.setdefault(key, []).append(item.nodeid)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["wave_sequence_held"] = seq.held
        workeroutput["wave_sequence_reused"] = seq.reused


# --------------------------------------------------------------------------- controller plugin


class SequenceController:
    """Controller-only hooks: plan, lane locks, reconcile, board entries, summary lines."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from pytest_wave.controller import discover_wave_files

        config = self.config
        if not _active(config) and not config.getoption("wave_reconcile"):
            return
        paths = discover_wave_files(config)
        if not paths:
            return
        state = session_state(config)
        if config.getoption("wave_reconcile"):
            self._reconcile(paths)
            return
        seq = sequence_state(config)
        try:
            seq.plan = plan_session(
                paths,
                state.options,
                shown={p: _shown(p, config) for p in paths},
                start=config.getoption("wave_start"),
                end=config.getoption("wave_end"),
                auto_next=bool(config.getoption("wave_auto_next")),
                lookup=state.lookup,
            )
        except WaveError as exc:
            raise pytest.UsageError(exc.usage_line()) from None
        seq.wire = {_wire_key(config, k): v for k, v in seq.plan.to_wire().items()}
        for line in seq.plan.messages:
            _say(config, line)
        if seq.plan.nothing_to_do:
            pytest.exit("every wave in range is already complete", returncode=0)
        self._lock(seq.plan, state.run_id)

    def _reconcile(self, paths: list[Path]) -> None:
        state = session_state(self.config)
        by_state: dict[Path, list[WaveContext]] = {}
        for path in paths:
            try:
                ctx = WaveContext.load(path, state.options, lookup=state.lookup)
            except WaveError as exc:
                _say(self.config, f"[reconcile] skipped {_shown(path, self.config)}: {exc.one_line()}")
                continue
            by_state.setdefault(ctx.paths.run_state(), []).append(ctx)
        for target, ctxs in by_state.items():
            for line in run_state.reconcile(ctxs, target).lines():
                _say(self.config, line)
        pytest.exit("run state reconciled; no agent was started", returncode=0)

    def _lock(self, plan: SessionPlan, run_id: str) -> None:
        seq = sequence_state(self.config)
        lanes: dict[Path, WaveContext] = {}
        for wave in plan.waves:
            if wave.ctx is not None and plan.disposition.get(wave.key) in ("first", "later"):
                lanes.setdefault(wave.ctx.paths.state_dir, wave.ctx)
        for state_dir, ctx in lanes.items():
            lock = LaneLock(state_dir, ctx.lane.name)
            try:
                lock.acquire(run_id=run_id, argv=_argv(self.config), cwd=ctx.repo_root)
            except LaneBusy as exc:
                self._board(ctx, "launcher_lock_blocked", "blocked", exc.message)
                self._release()
                sys.stderr.write(exc.one_line() + "\n")
                pytest.exit(exc.one_line(), returncode=EXIT_LANE_BUSY)
            except OSError as exc:
                # The state folder cannot be created: nothing can run there; the plan item says why.
                _say(self.config, f"[lane] {ctx.lane.name} not locked: {state_dir}: {exc.strerror or exc}")
                continue
            seq.locks.append(lock)
            note = f"; took over a stale lock of pid {lock.taken_over.pid}" if lock.taken_over else ""
            waves = ", ".join(str(w.number) for w in plan.waves if plan.disposition.get(w.key) in ("first", "later"))
            self._board(ctx, "launcher_lock_acquired", "running", f"pid={os.getpid()}; run={run_id}{note}", waves)

    def _board(self, ctx: WaveContext, event: str, status: str, details: str, waves: str | None = None) -> None:
        orchestrator = (ctx.repo_root / ctx.lane.orchestrator_state_dir).resolve()
        try:
            board.append_entry(
                orchestrator,
                lane=ctx.lane.name,
                orchestrator=f"{ctx.lane.name}-pytest-wave",
                event=event,
                status=status,
                details=details,
                waves=waves,
            )
            board.write_lanes(orchestrator, (ctx.repo_root / ctx.lane.state_root).resolve())
        except Exception as exc:  # the board is informational: it must never fail or hide a run's result
            _say(self.config, f"[board] not updated: {type(exc).__name__}: {exc}")

    def _release(self) -> None:
        seq = sequence_state(self.config)
        for lock in seq.locks:
            lock.release()
        seq.locks.clear()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        seq = sequence_state(config)
        plan = seq.plan
        held = list(seq.locks)
        self._release()
        if plan is None or not held:
            return
        state = session_state(config)
        closed = [k for k, o in state.outcomes.items() if o.closed]
        for wave in plan.waves:
            if wave.ctx is None or plan.disposition.get(wave.key) not in ("first", "later"):
                continue
            done = _norm(wave.key) in {_norm(k) for k in closed}
            event, status = ("wave_complete", "completed") if done else ("wave_not_closed", "failed")
            self._board(wave.ctx, event, status, wave.shown, str(wave.number))

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        seq = sequence_state(config)
        if seq.plan is None:
            return
        for wave in seq.plan.waves:
            if seq.plan.disposition.get(wave.key) == "reused":
                terminalreporter.section(f"wave {wave.shown}: REUSED", sep="-", bold=True, green=True)
                terminalreporter.write_line(seq.plan.reasons.get(wave.key, "closed earlier"))


class SequenceXdistHooks:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WIRE_KEY] = sequence_state(self.config).wire

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {}) or {}
        seq = sequence_state(self.config)
        state = session_state(self.config)
        for name, target in (("wave_sequence_held", seq.held), ("wave_sequence_reused", seq.reused)):
            for key, nodeids in (output.get(name) or {}).items():
                # Keyed by this machine's path (a remote worker's checkout may live elsewhere).
                local = str(self.config.rootpath / nodeids[0].split("::")[0]) if nodeids else key
                known = target.setdefault(local, [])
                known.extend(n for n in nodeids if n not in known)
        for key in seq.held:
            # Its closure nodeids arrive through the controller's XdistHooks; a later wave whose closure
            # was deselected still counts as open.
            state.held_closure.setdefault(key, [])


def register(config: pytest.Config) -> None:
    config.pluginmanager.register(SequenceController(config), "wave-sequence")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(SequenceXdistHooks(config), "wave-sequence-xdist")


def _argv(config: pytest.Config) -> list[str]:
    return ["pytest", *(str(arg) for arg in config.invocation_params.args)]


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(Path(config.invocation_params.dir)))
    except ValueError:
        return str(path)


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)


# --------------------------------------------------------------------------- after the loop (controller)


def runs_later(config: pytest.Config, wave_key: str) -> bool:
    """Whether the wave waits for earlier waves (its baseline is taken right before its agents start)."""
    return sequence_state(config).wire.get(_wire_key(config, wave_key)) in ("later", "reused", "excluded")


def close_in_order(controller: WaveController, session: pytest.Session) -> None:
    """Close the first wave, then run and close each later one; stop at the first that does not close."""
    config = controller.config
    state = session_state(config)
    seq = sequence_state(config)
    planned = seq.plan.order if seq.plan is not None else []
    keys: dict[str, str] = {}  # normalized -> the key items use
    for key in [*state.held_closure, *seq.held, *seq.reused]:
        keys.setdefault(_norm(key), key)
    # Every planned wave that runs (even one -k left without items: it cannot close, so it blocks
    # the waves after it), then anything collected that the plan does not know.
    runs = [k for k in planned if seq.plan is not None and seq.plan.disposition.get(k) != "excluded"]
    ordered = [keys.get(_norm(k), k) for k in runs]
    ordered += sorted(k for k in keys.values() if k not in ordered)
    blockers: dict[str, str] = {}  # sequence (lane) -> the wave that did not close
    for key in ordered:
        if key in seq.reused:
            reason = seq.plan.reasons.get(_plan_key(seq, key), "reused") if seq.plan else "reused"
            _report_skipped(session, key, seq.reused[key], reason)
            continue
        group = seq.plan.group_of(_plan_key(seq, key)) if seq.plan else key
        if key not in state.held_closure and key not in seq.held:
            if seq.plan is not None and seq.plan.disposition.get(_plan_key(seq, key)) in ("first", "later"):
                blockers.setdefault(group, _label(seq, key))  # its closure was not selected
            continue
        if session.shouldfail or session.shouldstop:
            state.not_closed[key] = "closure not run: the session stopped early"
            continue
        if group in blockers:
            reason = f"not run: {blockers[group]} did not close"
            state.held_closure.setdefault(key, [])
            state.not_closed[key] = reason
            _report_skipped(session, key, seq.held.get(key, []), reason)
            continue
        if key in seq.held and not _run_later_wave(controller, session, key):
            blockers[group] = _label(seq, key)
            continue
        if key in state.held_closure:
            controller._close_wave(session, key)
        if not controller._closed(key):
            blockers[group] = _label(seq, key)


def _plan_key(seq: SequenceState, key: str) -> str:
    if seq.plan is None:
        return key
    return next((k for k in seq.plan.order if _norm(k) == _norm(key)), key)


def _label(seq: SequenceState, key: str) -> str:
    number = seq.plan.number_of(_plan_key(seq, key)) if seq.plan else None
    return f"wave {number}" if number is not None else Path(key).name


def _items(session: pytest.Session, key: str, nodeids: list[str]) -> list[pytest.Item]:
    """Rebuild the held items of one wave (plan, agents, closure) from their nodeids."""
    wave_file = WaveFile.from_parent(session, path=Path(key))
    names = [nodeid.split("::", 1)[1] for nodeid in nodeids if "::" in nodeid]
    items: list[pytest.Item] = []
    if "plan" in names:
        items.append(PlanItem.from_parent(wave_file, name="plan"))
    if wave_file.load_error is not None:
        return items
    ctx = wave_file.context()
    for agent in [*ctx.implementation_agents(), *ctx.closure_agents()]:
        if agent.id in names:
            items.append(wave_file.make_item(agent, 1, closure=ctx.is_closure(agent)))
    return items


def _report(session: pytest.Session, item: pytest.Item) -> None:
    session.testscollected += 1
    item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
    if isinstance(item, AgentItem) and item.result is not None:
        session_state(session.config).record_result(item.result)


def _report_skipped(session: pytest.Session, key: str, nodeids: list[str], reason: str) -> None:
    for item in _items(session, key, nodeids):
        item.add_marker(pytest.mark.skip(reason=reason))
        _report(session, item)


def _run_later_wave(controller: WaveController, session: pytest.Session, key: str) -> bool:
    """Plan item, baseline, then every selected implementation agent at once; False when the wave
    cannot go on to closure (it did not load)."""
    state = session_state(controller.config)
    nodeids = sequence_state(controller.config).held.get(key, [])
    items = _items(session, key, nodeids)
    for item in items:
        if isinstance(item, PlanItem):
            _report(session, item)
    wave_file = WaveFile.from_parent(session, path=Path(key))
    if wave_file.load_error is not None:
        state.not_closed[key] = "closure not run: the wave did not load"
        state.held_closure.setdefault(key, [])
        return False
    ctx = wave_file.context()
    if wave_file.has_validation_errors():
        for item in items:
            if type(item) is AgentItem:
                _report(session, item)  # each reports "not launched: validation errors"
        return True  # closure reports itself as not run, with the reason
    run = WaveRun(ctx, state.run_id)
    run.take_baseline()
    say_uncommitted(controller.config, ctx, state.run_id)
    agents = [item.agent for item in items if type(item) is AgentItem]
    results = run.run_agents(agents, 1)
    for agent, result in zip(agents, results, strict=True):
        controller.config.hook.pytest_wave_agent_finished(result=result)
        controller._run_item(session, wave_file.make_item(agent, 1, closure=False, result=result))
    return True

"""Controller-only work (the main pytest process, never an xdist worker).

After every agent item has reported, each wave's closure stages run here, in order, through pytest's
normal run protocol so every report sink sees them; failed gates trigger retries of the implicated
agents; the session's exit status is 0 only when every wave in it closed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from _pytest.pathlib import fnmatch_ex

from pytest_wave.engine.wave_run import WaveRun
from pytest_wave.errors import WaveError
from pytest_wave.items import AgentItem, ClosureItem, WaveFile
from pytest_wave.model.result import WaveOutcome
from pytest_wave.model.wave import Agent
from pytest_wave.parse.wave import parse_wave_file
from pytest_wave.reports import closure_table
from pytest_wave.reports.worktree_notice import say_uncommitted
from pytest_wave.sequence import close_in_order, runs_later
from pytest_wave.state import WaveSession, session_state

# Where closure roles file their reports (``docs/plans/waves/reviews/wave-0-evaluator.md`` in the
# Node.js tool's layout): named like waves, never waves. The Node.js tool reads only ``wave-<n>.md``
# directly in the waves folder, so such a file is a wave only when named on the command line.
REPORT_FOLDERS = frozenset({"reviews"})


def in_report_folder(path: Path) -> bool:
    return path.parent.name in REPORT_FOLDERS


def discover_wave_files(config: pytest.Config) -> list[Path]:
    """Wave files named by the command line (files, or matching files under directories)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []  # testpaths or the current dir: a test suite run, not a wave run
    patterns = config.getini("wave_files")
    skip = config.getini("norecursedirs")
    found: list[Path] = []
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        if path.is_file() and path.suffix == ".md":
            found.append(path.resolve())
        elif path.is_dir():
            for candidate in sorted(path.rglob("*.md")):
                if (
                    any(fnmatch.fnmatch(candidate.name, p) for p in patterns)
                    and not in_report_folder(candidate)
                    and not _ignored(candidate, path, skip)
                ):
                    found.append(candidate.resolve())
    return list(dict.fromkeys(found))


def _ignored(candidate: Path, root: Path, norecursedirs: list[str]) -> bool:
    """Whether pytest's collection skips ``candidate``: a folder below ``root`` matches ``norecursedirs``.

    Matched like pytest does (``fnmatch_ex``): a pattern with a ``/`` (``tests/data``) is matched against
    the folder's path, others against its name.
    """
    root = root.resolve()
    folder = candidate.resolve().parent
    while folder != root and folder.is_relative_to(root):
        if any(fnmatch_ex(pattern, folder) for pattern in norecursedirs):
            return True
        folder = folder.parent
    return False


_CLOSURE_IDS = frozenset({"A0", "A8", "A9"})  # default role ids; only used to size the worker pool


def agents_per_wave(paths: list[Path]) -> list[int]:
    """Agent count per wave file, for the default worker count (unparseable files count as 0)."""
    counts: list[int] = []
    for path in paths:
        try:
            # Closure agents run on the controller after the others: only the rest need workers.
            counts.append(sum(1 for a in parse_wave_file(path).agents if a.id not in _CLOSURE_IDS))
        except WaveError:
            counts.append(0)
    return counts


class XdistHooks:
    """xdist hooks, registered only when xdist is loaded (otherwise pytest rejects unknown hooks)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["wave_run_id"] = session_state(self.config).run_id

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        held = getattr(node, "workeroutput", {}).get("wave_held_closure") or {}
        state = session_state(self.config)
        for wave_key, nodeids in held.items():
            known = state.held_closure.setdefault(wave_key, [])
            known.extend(nodeid for nodeid in nodeids if nodeid not in known)


class WaveController:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def state(self) -> WaveSession:
        return session_state(self.config)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        if self.config.option.collectonly or self.state.lint_mode:
            return (yield)
        self._baselines(session)
        try:
            result = yield
        except BaseException:
            if not self.state.held_closure:
                # Under xdist the controller learns the held closure only when workers finish cleanly,
                # which an interrupt prevents: every wave named on the command line stays open.
                for path in discover_wave_files(self.config):
                    self.state.held_closure.setdefault(str(path), [])
            for wave_key in self.state.held_closure:
                self.state.not_closed[wave_key] = "closure not run: the session was interrupted"
            self._record_not_run(session)
            raise
        # Wave-number order; each later wave's agents run only after the wave before it closed.
        close_in_order(self, session)
        self._record_not_run(session)
        return result

    def _baselines(self, session: pytest.Session) -> None:
        """Snapshot each wave's repository before any worker can start an agent."""
        for path in discover_wave_files(self.config):
            if runs_later(self.config, str(path)):
                continue  # snapshot right before its own agents, after the earlier waves changed the tree
            try:
                wave_file = WaveFile.from_parent(session, path=path)
                ctx = wave_file.context()
                WaveRun(ctx, self.state.run_id).take_baseline()
            except Exception:
                continue
            say_uncommitted(self.config, ctx, self.state.run_id)

    def _record_not_run(self, session: pytest.Session) -> None:
        """Write each unclosed wave's outcome, so its state says why closure did not happen."""
        for wave_key, reason in self.state.not_closed.items():
            if wave_key in self.state.outcomes:
                continue
            try:
                ctx = WaveFile.from_parent(session, path=Path(wave_key)).context()
                self._finish(wave_key, WaveRun(ctx, self.state.run_id).record_outcome(1, reason))
            except Exception:
                continue

    def _finish(self, wave_key: str, outcome: WaveOutcome) -> None:
        self.state.outcomes[wave_key] = outcome
        self.config.hook.pytest_wave_closed(outcome=outcome)

    def _close_wave(self, session: pytest.Session, wave_key: str) -> None:
        state = self.state
        wave_file = WaveFile.from_parent(session, path=Path(wave_key))
        try:
            ctx = wave_file.context()
        except Exception:
            state.not_closed[wave_key] = "closure not run: the wave did not load"
            return
        selected = set(state.held_closure[wave_key])
        run = WaveRun(ctx, state.run_id)
        closure = [a for a in ctx.closure_agents() if f"{wave_file.nodeid}::{a.id}" in selected]
        if wave_file.has_validation_errors():
            # ::plan failed: no agent of this wave may be launched, not even by a retry.
            reason = "the wave has validation errors (see ::plan); no agent was launched"
            self._skip_closure(session, wave_file, closure, run, reason)
            return
        try:
            run.take_baseline()  # a no-op unless it failed everywhere (an unwritable state dir, a setup refusal)
        except WaveError as exc:
            # The same error stopped every agent of the wave: a retry would only meet it again.
            self._skip_closure(session, wave_file, closure, run, f"the wave could not start: {exc.one_line()}")
            return
        unselected = [
            a.id
            for a in ctx.implementation_agents()
            if (wave_key, a.id) not in state.reported and a.id not in run.results()
        ]
        if unselected:
            # Closure judges every agent's proof; agents deselected with -k/-m have none to judge.
            reason = f"{', '.join(unselected)} not selected in this session; closure needs every agent's proof"
            self._skip_closure(session, wave_file, closure, run, reason)
            return
        attempt = 1
        stages = closure
        while True:
            results = run.results()
            impl_failed = [a.id for a in ctx.implementation_agents() if not (a.id in results and results[a.id].ok)]
            # A held agent (waiting on a human's approval) cannot be retried: this attempt is the last.
            held = any(results[a].status == "not-run" for a in impl_failed if a in results)
            final = attempt >= state.max_attempts or held
            stopped_at: str | None = None
            for agent in stages:
                item = wave_file.make_item(agent, attempt, closure=True)
                assert isinstance(item, ClosureItem)
                if impl_failed:
                    if not final:
                        continue  # not run this attempt; the retry reruns the agents first
                    item.skip_reason = "closure not run: " + ", ".join(impl_failed) + " did not pass"
                elif stopped_at:
                    if not final:
                        continue
                    item.skip_reason = f"closure not run: {stopped_at} did not pass"
                self._run_item(session, item)
                if item.skip_reason is None and not (item.result and item.result.ok):
                    stopped_at = stopped_at or agent.id
            self.config.hook.pytest_wave_attempt_finished(wave_path=wave_key, run_id=state.run_id, attempt=attempt)
            if run.closed():
                self._finish(wave_key, run.record_outcome(attempt))
                return
            if final or session.shouldfail or session.shouldstop:
                self._finish(wave_key, run.record_outcome(attempt))
                return
            implicated = run.implicated(run.results())
            if not implicated:
                self._finish(wave_key, run.record_outcome(attempt, "no agent to retry"))
                return
            attempt += 1
            for agent in implicated:
                run.switch_to_fallback(agent)
            closure_ids = {a.id for a in ctx.closure_agents()}
            rerun_impl = [a for a in implicated if a.id not in closure_ids]
            retried = run.run_agents(rerun_impl, attempt)
            for agent, result in zip(rerun_impl, retried, strict=True):
                self._run_item(session, wave_file.make_item(agent, attempt, closure=False, result=result))
            only_closure = not rerun_impl
            stages = [a for a in closure if a in implicated] if only_closure else closure

    def _skip_closure(
        self, session: pytest.Session, wave_file: WaveFile, closure: list[Agent], run: WaveRun, reason: str
    ) -> None:
        """Report every selected closure stage as not run, and record the wave as not closed."""
        for agent in closure:
            item = wave_file.make_item(agent, 1, closure=True)
            assert isinstance(item, ClosureItem)
            item.skip_reason = f"closure not run: {reason}"
            self._run_item(session, item)
        self._finish(wave_file.wave_key, run.record_outcome(1, reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note which agents ran in this session (on any worker): their items carry wave and agent."""
        props = dict(report.user_properties)
        wave, agent = props.get("wave"), props.get("agent")
        if isinstance(wave, str) and isinstance(agent, str):
            self.state.reported.add((wave, agent))

    def _run_item(self, session: pytest.Session, item: AgentItem) -> None:
        session.testscollected += 1
        item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
        if item.result is not None:
            self.state.record_result(item.result)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.option.collectonly or self.state.lint_mode:
            return
        open_waves = [key for key in self.state.held_closure if not self._closed(key)]
        if open_waves and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _closed(self, wave_key: str) -> bool:
        outcome = self.state.outcomes.get(wave_key)
        return outcome is not None and outcome.closed

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        state = self.state
        if not state.held_closure or config.option.collectonly or state.lint_mode:
            return
        for wave_key in sorted(state.held_closure):
            outcome = state.outcomes.get(wave_key)
            rel = _relative(wave_key, config)
            verdict = "CLOSED" if outcome and outcome.closed else "NOT CLOSED"
            terminalreporter.section(
                f"wave {rel}: {verdict}", sep="-", bold=True, green=verdict == "CLOSED", red=verdict != "CLOSED"
            )
            if outcome is None:
                terminalreporter.write_line(state.not_closed.get(wave_key, "closure did not run"))
                continue
            if not outcome.agents:  # no agent ran (e.g. a later wave after one that did not close): no table
                reason = outcome.reason or state.not_closed.get(wave_key, "no agent ran")
                terminalreporter.write_line(f"reason: {reason}")
                continue
            for line in closure_table.lines(outcome):  # agent, role, executor, attempt, verdict, [usage], reason
                terminalreporter.write_line(line)
            if outcome.reason:
                terminalreporter.write_line(f"reason: {outcome.reason}")
            terminalreporter.write_line(f"attempts: {outcome.attempts}; run: {outcome.run_id}")


def _relative(wave_key: str, config: pytest.Config) -> str:
    try:
        return str(Path(wave_key).relative_to(config.rootpath))
    except ValueError:
        return wave_key

"""A wave run: agents in parallel, then closure (integration -> documentation -> evaluator), retries.

The pytest layer drives the same object piece by piece (one item per agent or stage); :meth:`WaveRun.run`
drives it alone, for the CLI, replay and tests that need no pytest runner.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pytest_wave.engine import baseline, gates, isolation, posture, resume
from pytest_wave.engine.agent_run import run_agent_attempt
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_model
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import find_command
from pytest_wave.executors.budget import spent
from pytest_wave.model.result import AgentResult, Check, WaveOutcome
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


@dataclass
class WaveRun:
    ctx: WaveContext
    run_id: str
    executors: dict[str, ResolvedExecutor] = field(default_factory=dict)

    # -- state on disk ---------------------------------------------------------------------------
    @property
    def baseline_path(self) -> Path:
        return self.ctx.paths.run_dir(self.ctx.wave.number, self.run_id) / "baseline.json"

    def take_baseline(self) -> None:
        """Record the tree before any agent starts (idempotent for the run).

        First stop the wave's agents a killed run left running; a run resuming one that did not close
        keeps that run's baseline (see :func:`pytest_wave.engine.resume.start_run`)."""
        if not self.baseline_path.exists():
            try:
                inherited, start = resume.start_run(self.ctx, self.run_id)
                tree = inherited or isolation.tree_snapshot(self.ctx)
                baseline.save(self.baseline_path, tree)
                resume.record_start(self.ctx, self.run_id, start)
            except OSError as exc:
                raise WaveError(
                    f"cannot write runtime state under {self.ctx.paths.state_dir}: {exc.strerror or exc}",
                    fix="make it writable or set paths.stateRoot",
                ) from None
        if isolation.uses_worktree(self.ctx):
            isolation.record_base(self.ctx, self.run_id)  # every agent branch starts here (needs git)

    def results(self, attempt: int | None = None) -> dict[str, AgentResult]:
        """Latest result per agent in this run, up to ``attempt`` (all attempts when None)."""
        run_dir = self.ctx.paths.run_dir(self.ctx.wave.number, self.run_id)
        found: dict[str, AgentResult] = {}
        if not run_dir.is_dir():
            return found
        attempts = sorted(
            (int(p.name.split("-", 1)[1]), p) for p in run_dir.glob("attempt-*") if p.name.split("-", 1)[1].isdigit()
        )
        for number, folder in attempts:
            if attempt is not None and number > attempt:
                break
            for path in sorted(folder.glob("*.json")):
                try:
                    result = AgentResult.model_validate_json(path.read_text(encoding="utf-8"))
                except ValueError:
                    continue  # a torn file from a killed run is not proof of anything
                found[result.agent_id] = result
        return found

    # -- agents ----------------------------------------------------------------------------------
    def executor_for(self, agent: Agent) -> ResolvedExecutor:
        return self.executors.get(agent.id) or self.ctx.executor_for(agent)

    def run_agent(self, agent: Agent, attempt: int) -> AgentResult:
        executor = self.executor_for(agent)
        reused = resume.before_launch(self.ctx, agent, self.run_id, attempt, executor)
        if reused is not None:
            return reused
        held = posture.approval_hold(self.ctx, agent, self.run_id, attempt, executor)  # oversight: a human first
        if held is not None:
            return held
        return run_agent_attempt(self.ctx, agent, run_id=self.run_id, attempt=attempt, executor=executor)

    def run_agents(self, agents: list[Agent], attempt: int) -> list[AgentResult]:
        """Run agents concurrently (threads waiting on subprocesses); results in the given order."""
        if not agents:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(len(agents), self.ctx.options.max_parallel))) as pool:
            return list(pool.map(lambda agent: self.run_agent(agent, attempt), agents))

    # -- closure ---------------------------------------------------------------------------------
    def run_closure_stage(self, agent: Agent, attempt: int) -> AgentResult:
        role = self.ctx.role(agent)
        extra = {
            "integration": self._integration_checks,
            "documentation": self._documentation_checks,
            # The last stage looks at the tree again: stewards write too, after integration looked.
            "evaluator": lambda task: self._ownership_checks(),
        }.get(role)
        if role == "integration" and isolation.uses_worktree(self.ctx):
            # Worktree isolation: the agents' branches land in the main tree before the steward starts.
            extra = isolation.with_checks(isolation.merge_for_integration(self.ctx, self.run_id), extra)
        executor, checks = self.executor_for(agent), self._with_coordination(extra)
        reused = resume.before_launch(self.ctx, agent, self.run_id, attempt, executor, checks)
        if reused is not None:
            return reused
        return run_agent_attempt(
            self.ctx, agent, run_id=self.run_id, attempt=attempt, executor=executor, extra_checks=checks
        )

    def _with_coordination(
        self, extra: Callable[[AgentTask], list[Check]] | None
    ) -> Callable[[AgentTask], list[Check]]:
        """Every closure stage also checks the blackboard: open blocking records, clarifications,
        helper assignments, required dependencies and human questions keep the wave open."""
        from pytest_wave.coordination import engine as coordination

        def checks(task: AgentTask) -> list[Check]:
            return [*(extra(task) if extra else []), *coordination.closure_checks(self.ctx, self.run_id)]

        return checks

    def _integration_checks(self, task: AgentTask) -> list[Check]:
        checks: list[Check] = []
        results = self.results()
        for agent in self.ctx.implementation_agents():
            result = results.get(agent.id)
            ok = result is not None and result.ok
            checks.append(
                Check(
                    name=f"agent {agent.id} proof",
                    ok=ok,
                    expected="passed",
                    found="no result" if result is None else f"{result.status} ({result.reason or 'all checks met'})",
                    code=None if ok else "proof-gap",
                    evidence=result.log_path if result else None,
                )
            )
        return checks + self._ownership_checks()

    def _ownership_checks(self) -> list[Check]:
        checks: list[Check] = []
        before = baseline.load(self.baseline_path)
        if before is not None:
            after = isolation.tree_snapshot(self.ctx)
            plan = self._wave_file_in_repo()
            stray = [
                path
                for path in baseline.changed(before, after)
                # The wave file is the plan, not work: a human may fix it before a resumed run.
                if path != plan and not any(isolation.owns(agent, path) for agent in self.ctx.wave.agents)
            ]
            # Each stray path with the agent(s) that were running when it was written.
            stray = isolation.describe_stray(self.ctx, self.run_id, stray, after)
            checks.append(
                Check(
                    name="ownership of changed files",
                    ok=not stray,
                    expected="every changed file is owned by an agent of the wave",
                    found="all owned" if not stray else "unowned changes: " + ", ".join(stray[:10]),
                    code=None if not stray else "write-outside-ownership",
                    evidence=str(self.baseline_path),
                )
            )
        return checks

    def _wave_file_in_repo(self) -> str | None:
        path = self.ctx.wave_path
        return path.relative_to(self.ctx.repo_root).as_posix() if path.is_relative_to(self.ctx.repo_root) else None

    def _documentation_checks(self, task: AgentTask) -> list[Check]:
        promotions = self.ctx.wave.promoted
        if not promotions:
            return []
        return gates.matrix_checks(
            promotions, self.ctx.repo_root / self.ctx.lane.component_matrix_json_path, self.ctx.wave.number
        )

    # -- retries ---------------------------------------------------------------------------------
    def implicated(self, results: dict[str, AgentResult]) -> list[Agent]:
        """Agents to run again: failed implementation agents (plus those open blocking coordination
        asks to act), else the closure from the failed stage on; nobody while a human must answer."""
        from pytest_wave.coordination import engine as coordination

        if coordination.waiting_on_human(self.ctx, self.run_id):
            return []  # a retry cannot answer a human's question: stop, "waiting on human"
        failed_impl = [a for a in self.ctx.implementation_agents() if not (results.get(a.id) and results[a.id].ok)]
        asked = set(coordination.relaunch_targets(self.ctx, self.run_id))
        failed_impl += [a for a in self.ctx.implementation_agents() if a.id in asked and a not in failed_impl]
        if failed_impl:
            return failed_impl
        closure = self.ctx.closure_agents()
        for index, agent in enumerate(closure):
            result = results.get(agent.id)
            if result is None or not result.ok:
                return closure[index:]
        return []

    def switch_to_fallback(self, agent: Agent) -> str | None:
        """Move ``agent`` to the next runnable runtime in its fallback chain; returns the new id."""
        current = self.executor_for(agent)
        tried = {current.id, *current.history}
        latest = self.results().get(agent.id)
        if latest is not None:  # a rate-limit fallback inside the attempt may already have moved on
            tried |= {latest.executor_id, *(switch.from_executor for switch in latest.executor_switches)}
        for candidate in current.fallbacks:
            if candidate in tried:
                continue
            impl = self.ctx.executor_impl(candidate)
            if impl is None or find_command(impl.command(self.ctx.lane)) is None:
                continue
            self.executors[agent.id] = ResolvedExecutor(
                id=candidate,
                selected_by="retry-fallback",
                model=None,
                profile=current.profile,
                fallbacks=current.fallbacks,
                tags=current.tags,
                budget_turns=current.budget_turns,
                budget_minutes=current.budget_minutes,
                history=(*current.history, current.id),
            )
            return candidate
        return None

    # -- outcome ---------------------------------------------------------------------------------
    def closed(self) -> bool:
        results = self.results()
        agents = self.ctx.wave.agents
        if not (bool(agents) and all(a.id in results and results[a.id].ok for a in agents)):
            return False
        from pytest_wave.coordination import engine as coordination

        return all(check.ok for check in coordination.closure_checks(self.ctx, self.run_id))

    def record_outcome(self, attempts: int, reason: str | None = None) -> WaveOutcome:
        found = self.results()
        # Wave order (implementation agents, then closure in its fixed order), not file-name order.
        ordered = [*self.ctx.implementation_agents(), *self.ctx.closure_agents()]
        results = {a.id: found[a.id] for a in ordered if a.id in found}
        closed = self.closed()
        if not closed:
            from pytest_wave.coordination import engine as coordination

            # A question for a human is the reason, whatever else failed: retrying cannot fix it.
            reason = coordination.waiting_on_human(self.ctx, self.run_id) or reason
            blocking = [c for c in coordination.closure_checks(self.ctx, self.run_id) if not c.ok]
            if reason is None and blocking and all(r.ok for r in found.values()):
                reason = f"{blocking[0].name}: {blocking[0].found}"
        if not closed and reason is None:
            failed = [results[a.id] for a in ordered if a.id in results and not results[a.id].ok]
            missing = [a.id for a in ordered if a.id not in results]
            parts = [f"{r.agent_id}: {r.reason}" for r in failed[:1]]
            if missing:
                parts.append("not run: " + ", ".join(missing))
            reason = "; ".join(parts) or "not closed"
        outcome = WaveOutcome(
            wave=self.ctx.wave.number,
            wave_path=str(self.ctx.wave_path),
            lane=self.ctx.lane.name,
            run_id=self.run_id,
            closed=closed,
            attempts=attempts,
            reason=None if closed else reason,
            agents=results,
            usage=spent(self.ctx.paths.run_dir(self.ctx.wave.number, self.run_id)),
            wave_sha256=_sha256_of(self.ctx.wave_path),
        )
        try:
            write_model(self.ctx.paths.run_dir(self.ctx.wave.number, self.run_id) / "wave.json", outcome)
        except OSError as exc:
            # The verdict still reaches the report; only the on-disk copy is missing.
            outcome.reason = (outcome.reason or "") + f" (could not record wave.json: {exc.strerror or exc})"
        if closed and self.ctx.wave.number is not None and not self.ctx.options.dry_run:
            problem = self._mark_completed(self.ctx.wave.number)
            if problem:  # closed all the same; the lane's progress record needs a reconcile
                outcome.reason = f"closed, but not recorded in run-state.json: {problem}"
        return outcome

    def _mark_completed(self, number: int) -> str | None:
        """Record the closed wave and its input hashes in run-state.json; a problem is returned, never
        hidden (a corrupt file is left as it is for ``--wave-reconcile``)."""
        from pytest_wave.engine import run_state

        try:
            run_state.mark_completed(self.ctx, self.run_id)
        except WaveError as exc:
            return exc.one_line()
        except OSError as exc:
            return str(exc.strerror or exc)
        return None

    # -- standalone ------------------------------------------------------------------------------
    def run(self) -> WaveOutcome:
        """Run the whole wave without pytest: the same steps the pytest items take."""
        self.take_baseline()
        pending = self.ctx.implementation_agents()
        closure = self.ctx.closure_agents()
        max_attempts = self.ctx.options.max_retries + 1
        attempt = 1
        while True:
            self.run_agents([a for a in pending if a not in closure], attempt)
            results = self.results()
            impl_ok = all(results.get(a.id) and results[a.id].ok for a in self.ctx.implementation_agents())
            if impl_ok:
                # A retry that implicates only closure agents reruns closure from the failed stage.
                stages = pending if pending and all(a in closure for a in pending) else closure
                for agent in stages:
                    if not self.run_closure_stage(agent, attempt).ok:
                        break
            if self.closed() or attempt >= max_attempts:
                return self.record_outcome(attempt)
            pending = self.implicated(self.results())
            if not pending:
                return self.record_outcome(attempt, "no agent to retry")
            for agent in pending:
                self.switch_to_fallback(agent)
            attempt += 1


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None

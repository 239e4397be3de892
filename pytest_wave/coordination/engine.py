"""The seam between a wave run (:mod:`pytest_wave.engine`) and coordination.

The engine calls four functions: :func:`prompt_section` before an agent starts (its inbox and the
shared summary), :func:`record_result` after it finished (its proof becomes records, its seed
closes), :func:`closure_checks` in every closure stage, and :func:`waiting_on_human` /
:func:`relaunch_targets` when choosing a retry. Each keeps one :class:`WaveCoordination` per wave
and process, so refreshes stay incremental across agents and attempts.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import ValidationError

from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.store import CoordinationPaths, WaveCoordination
from pytest_wave.engine.context import WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import AgentFacts, Roster, RosterAgent
from pytest_wave.model.result import AgentResult, Check
from pytest_wave.model.wave import Agent, Wave

_CACHE: dict[tuple[str, int, str], WaveCoordination] = {}
_CACHE_LOCK = threading.Lock()


def roster_agent(agent: Agent, role: str, executor_id: str, profile: str | None) -> RosterAgent:
    return RosterAgent(
        agent_id=agent.id,
        title=agent.title,
        owned_paths=agent.owned,
        components=agent.components,
        capabilities=agent.capabilities,
        role=role,
        executor_id=executor_id,
        profile=profile,
    )


def roster_from_context(ctx: WaveContext) -> Roster:
    wave: Wave = ctx.wave
    agents: list[RosterAgent] = []
    for agent in wave.agents:
        try:
            executor = ctx.executor_for(agent)
            executor_id, profile = executor.id, executor.profile
        except WaveError:
            executor_id, profile = "unresolved", None
        agents.append(roster_agent(agent, ctx.role(agent), executor_id, profile))
    roles = ctx.roles
    return Roster(
        lane=ctx.lane.name,
        wave=wave.number or 0,
        wave_file=wave.path,
        agents=agents,
        evaluator_id=roles.evaluator,
        integration_id=roles.integration,
        documentation_id=roles.documentation,
        preferred_agents=ctx.lane.capability_routing.preferred_agents,
        promotions=wave.promoted,
        shared_plan_docs=ctx.lane.shared_plan_docs,
    )


def coordination_paths(ctx: WaveContext) -> CoordinationPaths:
    orchestrator = (ctx.repo_root / ctx.lane.orchestrator_state_dir).resolve()
    if ctx.options.dry_run:
        orchestrator = ctx.paths.state_dir / "orchestrator"
    return CoordinationPaths(ctx.paths.state_dir, orchestrator, ctx.wave.number or 0)


def for_context(ctx: WaveContext) -> WaveCoordination | None:
    """This process's coordination of the context's wave (None for a wave without a number)."""
    if ctx.wave.number is None:
        return None
    paths = coordination_paths(ctx)
    key = (str(paths.state_dir), paths.wave, str(ctx.wave_path))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = WaveCoordination(roster_from_context(ctx), paths, log=_configured_log(ctx, paths))
        return found


def _configured_log(ctx: WaveContext, paths: CoordinationPaths) -> CoordinationLog | None:
    """``[tool.wave.coordination]``: None for the JSONL file; a dry run never touches a shared server."""
    settings = ctx.lane.coordination
    if settings.backend == "jsonl" or ctx.options.dry_run:
        return None
    from pytest_wave.coordination.redis_store import configured_log

    lane = ctx.lane
    return configured_log(
        settings, paths.log, repo_root=ctx.repo_root, project=lane.project_name, lane=lane.name, wave=paths.wave
    )


def load_facts(ctx: WaveContext, run_id: str) -> WaveFacts:
    """Each agent's latest attempt result in this run, read from the attempt folders."""
    run_dir = ctx.paths.run_dir(ctx.wave.number, run_id)
    agents: dict[str, AgentFacts] = {}
    attempt = 0
    if run_dir.is_dir():
        folders = sorted(
            (int(p.name.split("-", 1)[1]), p) for p in run_dir.glob("attempt-*") if p.name.split("-", 1)[1].isdigit()
        )
        for number, folder in folders:
            attempt = max(attempt, number)
            for path in sorted(folder.glob("*.json")):
                try:
                    result = AgentResult.model_validate_json(path.read_text(encoding="utf-8"))
                except (OSError, ValidationError):
                    continue  # a torn result of a killed run proves nothing
                agents[result.agent_id] = facts_of(result)
    return WaveFacts(agents=agents, attempt=attempt)


def facts_of(result: AgentResult) -> AgentFacts:
    return AgentFacts(
        agent_id=result.agent_id,
        status=result.status,
        attempt=result.attempt,
        reason=result.reason,
        markers=result.markers,
        log_path=result.log_path,
    )


def refreshed(ctx: WaveContext, run_id: str, *, attempt: int | None = None) -> WaveCoordination | None:
    coordination = for_context(ctx)
    if coordination is None:
        return None
    coordination.set_facts(load_facts(ctx, run_id))
    coordination.refresh(attempt=attempt, run_triage=True)
    coordination.flush()
    return coordination


def prompt_section(ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> str:
    coordination = refreshed(ctx, run_id, attempt=attempt)
    return coordination.prompt_section(agent.id) if coordination is not None else ""


def record_result(ctx: WaveContext, result: AgentResult) -> None:
    coordination = for_context(ctx)
    if coordination is None:
        return
    facts = load_facts(ctx, result.run_id)
    facts.agents[result.agent_id] = facts_of(result)  # the result may not be on disk yet
    coordination.set_facts(facts)
    coordination.record_result(result.agent_id)
    coordination.refresh(attempt=result.attempt, run_triage=True)
    coordination.flush()


def closure_checks(ctx: WaveContext, run_id: str) -> list[Check]:
    try:
        coordination = refreshed(ctx, run_id)
        return coordination.barrier_checks() if coordination is not None else []
    except (OSError, ValueError) as exc:
        # Unreadable shared state cannot prove that nothing blocks: the wave stays open, said why.
        return [
            Check(
                name="coordination: state readable",
                ok=False,
                expected="the coordination log and its projections can be read and written",
                found=f"{type(exc).__name__}: {exc}",
                code="coordination-unavailable",
                evidence=str(log_path(ctx)),
            )
        ]


def waiting_on_human(ctx: WaveContext, run_id: str) -> str | None:
    try:
        coordination = refreshed(ctx, run_id)
    except (OSError, ValueError):
        return None  # closure_checks reports the unreadable state
    return coordination.waiting_on_human() if coordination is not None else None


def relaunch_targets(ctx: WaveContext, run_id: str) -> list[str]:
    try:
        coordination = refreshed(ctx, run_id)
    except (OSError, ValueError):
        return []
    return coordination.relaunch_targets() if coordination is not None else []


def log_path(ctx: WaveContext) -> Path:
    return coordination_paths(ctx).log

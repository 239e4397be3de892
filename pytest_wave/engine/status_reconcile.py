"""Whether a wave's status files prove it complete (lifecycle.md 7.11), and if not, every reason why.

A wave no run recorded as closed (the run was killed after its last agent finished, or
``run-state.json`` was lost) can still be added to ``completedWaves`` from what its agents left:

1. every agent has a status file with code 0, written for the prompt it would get now
   (``missing-status``, ``nonzero-status``, ``prompt-hash-mismatch``);
2. the log of each agent's latest launch still proves its role, as closure would judge it
   (``invalid-implementation-summary``, ``invalid-integration-summary``,
   ``invalid-documentation-summary``, ``invalid-evaluator-summary``), and its validation commands
   passed on record (``validation-unproven``: ours, the Node.js tool runs none);
3. only when 1 and 2 hold: the component matrix shows the wave's promotions
   (``component-matrix-invalid``) and the evaluator passed the wave (``evaluator-<verdict>``,
   ``missing-evaluator``, ``missing-evaluator-verdict``);
4. always: nothing in the coordination log waits on a clarification or a human
   (``open-clarification``, ``open-clarification-request``, ``open-human-escalation``,
   ``open-human-feedback``, ``coordination-unavailable``).

Read only: nothing here writes a file (the coordination log is read, never refreshed or seeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_wave.engine import gates
from pytest_wave.engine.agent_run import AttemptSetupError, build_task, fingerprint_now
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.markers import scan_log
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, Check
from pytest_wave.model.status import AgentStatus, parse_status
from pytest_wave.model.wave import Agent

_SUMMARY_CODES = {
    "evaluator": "invalid-evaluator-summary",
    "integration": "invalid-integration-summary",
    "documentation": "invalid-documentation-summary",
}
_VERDICT_CHECK = "evaluator verdict"  # the name gates.evaluator_checks gives its verdict row
OWN_ORCHESTRATOR_SUFFIX = "-pytest-wave"


@dataclass(frozen=True)
class Blocker:
    """One reason the wave cannot be rebuilt: a reason code and what it concerns."""

    code: str
    detail: str

    def text(self) -> str:
        return f"{self.code}={self.detail}"


@dataclass
class StatusAnalysis:
    wave: int
    blockers: list[Blocker] = field(default_factory=list)
    run_id: str | None = None  # the run whose attempts left the agents' latest logs

    @property
    def complete(self) -> bool:
        return not self.blockers

    def reasons(self) -> str:
        return "; ".join(blocker.text() for blocker in self.blockers)

    def codes(self) -> list[str]:
        return [blocker.code for blocker in self.blockers]


class _Reasons:
    """Details grouped by code, codes in the order first met (one ``code=a, b`` entry per code)."""

    def __init__(self) -> None:
        self.by_code: dict[str, list[str]] = {}

    def add(self, code: str, detail: str) -> None:
        self.by_code.setdefault(code, []).append(detail)

    def blockers(self) -> list[Blocker]:
        return [Blocker(code, ", ".join(details)) for code, details in self.by_code.items()]


def analyze(ctx: WaveContext) -> StatusAnalysis:
    """Every reason the wave of ``ctx`` is not reconstructable-complete (none: it is)."""
    assert ctx.wave.number is not None
    reasons = _Reasons()
    agents = [*ctx.implementation_agents(), *ctx.closure_agents()]
    logs: dict[str, Path] = {}
    for agent in agents:
        log = _agent_reasons(ctx, agent, reasons)
        if log is not None:
            logs[agent.id] = log
    if not agents:
        reasons.add("missing-status", "the wave has no agents")
    elif not reasons.by_code:
        _matrix_reasons(ctx, reasons)
        _evaluator_reasons(ctx, logs, reasons)
    _coordination_reasons(ctx, reasons)
    run_id = next((run for agent in reversed(agents) if (run := _run_of(logs.get(agent.id))) is not None), None)
    return StatusAnalysis(wave=ctx.wave.number, blockers=reasons.blockers(), run_id=run_id)


# --------------------------------------------------------------------------- per agent


def _agent_reasons(ctx: WaveContext, agent: Agent, reasons: _Reasons) -> Path | None:
    """Status and role checks of one agent; returns its latest log when its status holds."""
    safe = ctx.paths.safe(ctx.wave.number, agent.slug)
    path = ctx.paths.status(safe)
    try:
        status = parse_status(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        reasons.add("missing-status", agent.id)
        return None
    except OSError as exc:
        reasons.add("missing-status", f"{agent.id} (unreadable: {exc.strerror or exc})")
        return None
    except ValueError as exc:
        reasons.add("missing-status", f"{agent.id} (not a status file: {exc})")
        return None
    held = True
    if status.code != 0:
        reasons.add("nonzero-status", f"{agent.id} (code {status.code})")
        held = False
    try:
        executor = ctx.executor_for(agent)
    except WaveError as exc:
        reasons.add("prompt-hash-mismatch", f"{agent.id} (its executor does not resolve now: {exc.message})")
        return None
    mismatch = _hash_mismatch(ctx, agent, executor, status)
    if mismatch is not None:
        reasons.add("prompt-hash-mismatch", mismatch)
        held = False
    if not held:
        return None  # a failed or stale launch's log proves nothing about the wave as it is now
    log = _latest_log(ctx, safe)
    problem = _role_problem(ctx, agent, executor, log)
    if problem is not None:
        reasons.add(_SUMMARY_CODES.get(ctx.role(agent), "invalid-implementation-summary"), problem)
    unproven = _validation_problem(agent, log)
    if unproven is not None:
        reasons.add("validation-unproven", unproven)
    return log


def _hash_mismatch(ctx: WaveContext, agent: Agent, executor: ResolvedExecutor, status: AgentStatus) -> str | None:
    """None when the status was written for the prompt the agent would get now (under its executor
    or one of its fallbacks, which a rate-limited launch may have moved to); else the detail."""
    if status.prompt_hash is None:
        return f"{agent.id} (the status has no prompt hash: written by an old launcher)"
    try:
        if fingerprint_now(ctx, agent, executor) == status.prompt_hash:
            return None
    except AttemptSetupError as exc:
        return f"{agent.id} (its prompt cannot be built now: {exc})"
    for fallback in executor.fallbacks:
        if fallback == executor.id:
            continue
        try:
            if fingerprint_now(ctx, agent, replace(executor, id=fallback)) == status.prompt_hash:
                return None
        except AttemptSetupError:
            continue  # that fallback cannot be prompted now, so it did not write this status
    writer = status.orchestrator_id or ""
    if writer and not writer.endswith(OWN_ORCHESTRATOR_SUFFIX):
        return f"{agent.id} (written by {writer}, whose prompt hashes differ from pytest-wave's)"
    return f"{agent.id} (its prompt changed since its last launch)"


def _latest_log(ctx: WaveContext, safe: str) -> Path | None:
    link = ctx.paths.log(safe)  # points at the latest attempt's log (agent_run.point_link)
    return link.resolve() if link.exists() else None


def _run_of(log: Path | None) -> str | None:
    """``results/wave-N/<run>/attempt-K/<safe>.log`` -> ``<run>``."""
    if log is None or not log.parent.name.startswith("attempt-"):
        return None
    return log.parent.parent.name


def _role_problem(ctx: WaveContext, agent: Agent, executor: ResolvedExecutor, log: Path | None) -> str | None:
    """What the agent's latest log (and its deliverables) fail to prove, as closure judges it."""
    if log is None:
        return f"{agent.id} (no log of its latest launch)"
    try:
        scan = scan_log(log)
    except WaveError as exc:
        return f"{agent.id} ({exc.message})"
    task = build_task(ctx, agent, executor, "reconcile", 1)
    where = str(log)
    role = ctx.role(agent)
    checks: list[Check]
    if role == "evaluator":
        # The verdict is judged once the whole wave's statuses hold (_evaluator_reasons).
        checks = [c for c in gates.evaluator_checks(scan, where, _report(ctx, agent)) if c.name != _VERDICT_CHECK]
    elif role == "integration":
        checks = gates.integration_marker_checks(scan, where)
    elif role == "documentation":
        checks = gates.documentation_marker_checks(scan, where)
    else:
        checks = gates.implementation_checks(task, scan, where)
    checks += gates.deliverable_checks(task, ctx.repo_root, agent.owns)
    failed = gates.first_failure(checks)
    if failed is None:
        return None
    return f"{agent.id} ({failed.code or 'failed'}: {failed.name} found {failed.found})"


def _validation_problem(agent: Agent, log: Path | None) -> str | None:
    """Validation commands are proof the orchestrator runs after the agent exits (after its status
    is written): only the attempt's recorded result shows that they passed. A run killed while they
    ran left none, so the wave is not rebuilt on the agent's word."""
    commands = [validation.command for validation in agent.validation]
    if not commands or log is None:
        return None
    try:
        result = AgentResult.model_validate_json((log.parent / f"{agent.id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{agent.id} (its validation commands did not finish: no result was recorded)"
    recorded = {check.name: check for check in result.checks}
    for command in commands:
        check = recorded.get(f"validation `{command}`")  # the name engine/validation.py gives it
        if check is None:
            return f"{agent.id} (`{command}` has no recorded result)"
        if not check.ok:
            return f"{agent.id} ({check.code or 'validation-failed'}: `{command}` {check.found})"
    return None


def _report(ctx: WaveContext, agent: Agent) -> Path | None:
    rel = ctx.evaluator_report(agent)
    return ctx.repo_root / rel if rel else None


# --------------------------------------------------------------------------- the whole wave


def _matrix_reasons(ctx: WaveContext, reasons: _Reasons) -> None:
    promoted = ctx.wave.promoted
    if not promoted:
        return
    for check in gates.matrix_checks(promoted, ctx.repo_root / ctx.lane.component_matrix_json_path, ctx.wave.number):
        if not check.ok:
            component = check.name.removeprefix("matrix level ")
            reasons.add("component-matrix-invalid", f"{component} ({check.found}; wanted {check.expected})")


def _evaluator_reasons(ctx: WaveContext, logs: dict[str, Path], reasons: _Reasons) -> None:
    evaluator = ctx.wave.agent(ctx.roles.evaluator)
    if evaluator is None:
        reasons.add("missing-evaluator", f"the wave has no {ctx.roles.evaluator} agent")
        return
    log = logs.get(evaluator.id)
    if log is None:
        reasons.add("missing-evaluator-verdict", f"{evaluator.id} (no log of its latest launch)")
        return
    try:
        scan = scan_log(log)
    except WaveError as exc:
        reasons.add("missing-evaluator-verdict", f"{evaluator.id} ({exc.message})")
        return
    # The latest launch's [wave-verdict] first, then the report's "Verdict:" line: closure's order.
    for check in gates.evaluator_checks(scan, str(log), _report(ctx, evaluator)):
        if check.name == _VERDICT_CHECK and not check.ok:
            detail = f"{evaluator.id} ({check.found}, in {check.evidence})"
            reasons.add(check.code or "missing-evaluator-verdict", detail)


def _coordination_reasons(ctx: WaveContext, reasons: _Reasons) -> None:
    """Blocking clarifications and questions for a human, read from the wave's coordination log."""
    from pytest_wave.coordination import engine as coordination
    from pytest_wave.coordination.state import CoordinationState

    try:
        wave_coordination = coordination.for_context(ctx)
        if wave_coordination is None:
            return
        batch = wave_coordination.log.read_all()
        state = CoordinationState(wave_coordination.roster)
        state.apply_all((entry.record, entry.set_keys) for entry in batch.entries)
    except (OSError, ValueError, WaveError) as exc:
        # Unreadable shared state cannot prove that nothing waits: the wave stays out, said why.
        reasons.add("coordination-unavailable", f"{type(exc).__name__}: {exc}")
        return
    blocking = state.blocking_ids  # as closure reads it: only blocking records hold a wave open
    for code, records in (
        ("open-clarification", state.open_clarifications()),
        ("open-clarification-request", state.clarification_linked_requests()),
        ("open-human-escalation", state.open_of_kind("human-escalation")),
        ("open-human-feedback", state.open_of_kind("human-feedback")),
    ):
        ids = [record["id"] for record in records if record["id"] in blocking]
        if ids:
            reasons.add(code, ", ".join(ids))

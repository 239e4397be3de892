"""``pytest --wave-gate waves/wave-7.md``: is this wave closed on this commit? Starts no agent.

Items per wave file:

* ``evidence``: the lane state holds a closed run of the wave (``results/wave-<n>/<run>/wave.json``)
  whose every agent passed with the prompt fingerprint the current wave file gives it. The newest
  such run counts; a changed prompt, exit contract, deliverable list or validation command makes
  the recorded closure stale. A changed wave file whose prompts are unchanged is reported, not failed.
* one item per agent: its deliverables exist and are owned, its validation commands pass on the
  current tree, the component matrix holds the promoted levels (documentation steward) and the
  evaluator's report does not say anything but PASS (evaluator).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.engine import gates
from pytest_wave.engine.agent_run import build_task
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.gates import matrix_checks
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.engine.validation import run_validation
from pytest_wave.errors import WaveError
from pytest_wave.items import WaveItemFailure, _WaveNode
from pytest_wave.model.result import Check, WaveOutcome
from pytest_wave.model.wave import Agent
from pytest_wave.modes.launch import offline, prompt_and_fingerprint

EVIDENCE = pytest.StashKey["Evidence"]()
Row = tuple[str, str, str, str]


@dataclass
class Evidence:
    outcome: WaveOutcome | None
    headline: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def recorded_outcomes(ctx: WaveContext) -> list[WaveOutcome]:
    """Every recorded outcome of the wave in the lane state, newest run first (run ids start with a UTC stamp)."""
    results = ctx.paths.state_dir / "results" / ("wave-x" if ctx.wave.number is None else f"wave-{ctx.wave.number}")
    found: list[WaveOutcome] = []
    for path in sorted(results.glob("*/wave.json"), key=lambda p: p.parent.name, reverse=True):
        try:
            found.append(WaveOutcome.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a torn or foreign file is no evidence
    return found


def executor_as_recorded(ctx: WaveContext, agent: Agent, executor_id: str) -> ResolvedExecutor:
    try:
        resolved = ctx.executor_for(agent)
    except WaveError:
        return ResolvedExecutor(id=executor_id, selected_by="recorded")
    return dataclasses.replace(resolved, id=executor_id)


def fingerprint_now(ctx: WaveContext, agent: Agent, executor_id: str) -> str:
    """The fingerprint a launch of ``agent`` on ``executor_id`` would record today (no network, no files)."""
    quiet = offline(ctx)
    task = build_task(quiet, agent, executor_as_recorded(quiet, agent, executor_id), "gate", 1)
    return prompt_and_fingerprint(quiet, agent, task)[1]


def _mismatches(ctx: WaveContext, outcome: WaveOutcome) -> list[Row]:
    rows: list[Row] = []
    run = f"run {outcome.run_id}"
    for agent in ctx.wave.agents:
        recorded = outcome.agents.get(agent.id)
        if recorded is None:
            rows.append((f"{agent.id} result", "a passing result", f"none in {run}", "the agent was added later"))
            continue
        if not recorded.ok:
            rows.append((f"{agent.id} result", "passed", recorded.status, recorded.log_path or ""))
            continue
        try:
            now = fingerprint_now(ctx, agent, recorded.executor_id)
        except WaveError as exc:
            rows.append((f"{agent.id} prompt fingerprint", "computable", exc.one_line(), ""))
            continue
        if now != recorded.prompt_hash:
            rows.append(
                (
                    f"{agent.id} prompt fingerprint",
                    (recorded.prompt_hash or "none")[:12],
                    now[:12],
                    "its prompt, role prompts, exit contract, deliverables or validation changed since the run",
                )
            )
    current = {agent.id for agent in ctx.wave.agents}
    for agent_id in outcome.agents:
        if agent_id not in current:
            rows.append((f"{agent_id} result", "an agent of the wave", f"removed from the wave file since {run}", ""))
    return rows


def find_evidence(ctx: WaveContext) -> Evidence:
    outcomes = recorded_outcomes(ctx)
    where = ctx.paths.state_dir / "results"
    label = f"wave {ctx.wave.number if ctx.wave.number is not None else ctx.wave.path}"
    closed = [o for o in outcomes if o.closed]
    if not closed:
        latest = outcomes[0] if outcomes else None
        said = f"; latest run {latest.run_id}: NOT CLOSED ({latest.reason})" if latest else ""
        return Evidence(None, f"{label} has no closed run recorded under {where}{said}")
    first_rows: list[Row] | None = None
    for outcome in closed:
        rows = _mismatches(ctx, outcome)
        if not rows:
            evidence = Evidence(outcome, f"{label} closed in run {outcome.run_id}")
            current = _sha256(ctx.wave_path)
            if outcome.wave_sha256 and outcome.wave_sha256 != current:
                evidence.notes.append(
                    f"the wave file changed since run {outcome.run_id}, but no agent's prompt fingerprint did"
                )
            return evidence
        first_rows = first_rows if first_rows is not None else rows
    newest = closed[0]
    return Evidence(
        None,
        f"{label}: the recorded closure (run {newest.run_id}) does not match the current wave file",
        first_rows or [],
    )


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class GateEvidenceItem(_WaveNode):
    def runtest(self) -> None:
        ctx = self.validated_context(": the wave cannot be closed")
        evidence = find_evidence(ctx)
        self.wave_file.stash[EVIDENCE] = evidence
        for note in evidence.notes:
            self.add_report_section("call", "wave gate", note)
        if evidence.outcome is None:
            raise WaveItemFailure(evidence.headline, evidence.rows)
        self.user_properties += [("run_id", evidence.outcome.run_id), ("attempts", evidence.outcome.attempts)]


class GateAgentItem(_WaveNode):
    """One agent's recorded work, checked again on the current tree."""

    def __init__(self, *, agent: Agent, **kwargs: Any) -> None:
        super().__init__(line=agent.line, **kwargs)
        self.agent = agent

    def runtest(self) -> None:
        ctx = self.wave_file.context()
        agent = self.agent
        evidence = self.wave_file.stash.get(EVIDENCE, None)
        recorded = evidence.outcome.agents.get(agent.id) if evidence and evidence.outcome else None
        executor = executor_as_recorded(ctx, agent, recorded.executor_id if recorded else "local")
        task = build_task(ctx, agent, executor, "gate", 1)
        role = ctx.role(agent)
        checks = gates.deliverable_checks(task, ctx.repo_root, agent.owns)
        if role == "documentation" and ctx.wave.promoted:
            matrix = ctx.repo_root / ctx.lane.component_matrix_json_path
            checks += matrix_checks(ctx.wave.promoted, matrix, ctx.wave.number)
        if role == "evaluator" and task.evaluator_report_path:
            report = ctx.repo_root / task.evaluator_report_path
            verdict = gates.report_verdict(report)
            ok = verdict in (None, "pass")  # no Verdict line: the recorded [wave-verdict] marker decided
            checks.append(
                Check(
                    name="evaluator report verdict",
                    ok=ok,
                    expected="PASS (or no Verdict: line)",
                    found=verdict or "no Verdict: line",
                    code=None if ok else f"evaluator-{verdict}",
                    evidence=str(report),
                )
            )
        if task.validation_commands:
            safe = ctx.paths.safe(ctx.wave.number, agent.slug)
            checks += run_validation(
                task.validation_commands,
                cwd=ctx.repo_root,
                log_dir=ctx.paths.state_dir / "gate" / f"wave-{ctx.wave.number}" / safe,
                timeout=ctx.options.validation_timeout,
            )
        self.user_properties += [("agent", agent.id), ("role", role), ("checks", len(checks))]
        failed = [c for c in checks if not c.ok]
        if failed:
            raise WaveItemFailure(
                f"{agent.id} ({role}): {len(failed)} check(s) fail on the current tree",
                [(c.name, c.expected, c.found, c.evidence or "") for c in failed],
            )

"""Write the trace bundle of one wave attempt (artifacts.md §4.2, traceVersion 2).

Everything is copied into a temporary folder next to the target and renamed into place at the
end, so a reader never sees half a bundle; a rewrite of the same attempt (the final verdict after
the attempt's own capture) replaces the folder whole.

Layout, all paths bundle-relative::

    run-metadata.json               the TraceManifest (version, agents, verdict, every file's sha256)
    wave/<wave file>                the wave file as it was run
    roster.json                     the wave as coordination saw it (agents, roles, routing)
    coordination.raw.jsonl          copy of the coordination log
    coordination.materialized.json  the log folded into state
    ledger.json docs-queue.json capability-assignments.json dependency-snapshot.json
    integration.json integration.md shared-summary.md board.md feedback/...
    component-cutover-matrix.json   iff the wave promotes components
    results/attempt-<j>/<Agent>.json every agent result of attempts 1..k
    prompts/ logs/ status/ tasks/ inboxes/   per agent (its latest attempt up to k)
    tree/<repo path>                deliverables, evaluator report, role prompts, the matrix
    tree-changes.json               files changed since the run's baseline, now
    tree-changes/<Agent>.json       ... right after a closure stage checked ownership
    markers.json timeline.json budgets.json closure.json quality.json
    outcome.json                    the recorded verdict replay must reproduce
    wave.json                       the wave's outcome, in the bundle of its last attempt
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pytest_wave import __version__
from pytest_wave.coordination import engine as coordination
from pytest_wave.coordination.records import dumps_pretty
from pytest_wave.engine import baseline
from pytest_wave.engine.context import WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import Roster
from pytest_wave.model.result import AgentResult, Check, WaveOutcome
from pytest_wave.traces.bundle import (
    MANIFEST,
    TraceAgent,
    TraceExecutor,
    TraceFile,
    TraceManifest,
    TraceOptions,
    TraceRoles,
    TraceVerdict,
    sha256_file,
)
from pytest_wave.traces.derived import (
    RAW_LOG,
    closure_summary,
    latest_results,
    markers,
    materialized,
    quality_metrics,
    reduce_log,
    spend,
    timeline,
)

OWNERSHIP_CHECK = "ownership of changed files"


def bundle_dir(ctx: WaveContext, attempt: int) -> Path:
    number = "x" if ctx.wave.number is None else str(ctx.wave.number)
    return ctx.paths.state_dir / "traces" / f"wave-{number}" / f"attempt-{attempt}"


def tree_changes(ctx: WaveContext, run_id: str) -> list[str] | None:
    """Files changed since the run's baseline (None without a baseline: the engine then checks nothing)."""
    before = baseline.load(ctx.paths.run_dir(ctx.wave.number, run_id) / "baseline.json")
    if before is None:
        return None
    return baseline.changed(before, baseline.snapshot(ctx.repo_root))


class _Builder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, TraceFile] = {}

    def _record(self, rel: str, *, required: bool, present: bool, source: Path | None = None) -> str | None:
        self.files[rel] = TraceFile(
            path=rel, required=required, present=present, source=str(source) if source is not None else None
        )
        return rel if present else None

    def copy(self, rel: str, source: Path | None, *, required: bool) -> str | None:
        if source is None or not source.is_file():
            return self._record(rel, required=required, present=False, source=source)
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # follows the logs/ symlinks: the bundle holds the bytes
        return self._record(rel, required=required, present=True, source=source)

    def text(self, rel: str, text: str, *, required: bool = True) -> str:
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self._record(rel, required=required, present=True)
        return rel

    def json(self, rel: str, data: Any, *, required: bool = True) -> str:
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json", by_alias=True)
        return self.text(rel, dumps_pretty(data), required=required)

    def sealed(self) -> list[TraceFile]:
        out: list[TraceFile] = []
        for rel in sorted(self.files):
            entry = self.files[rel]
            if entry.present:
                path = self.folder / rel
                entry = entry.model_copy(update={"sha256": sha256_file(path), "size": path.stat().st_size})
            out.append(entry)
        return out


def _inside(root: Path, rel: str) -> Path | None:
    target = (root / rel).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def _history(ctx: WaveContext, run_id: str, attempt: int) -> dict[int, dict[str, Path]]:
    """Result files of attempts 1..``attempt`` of the run: attempt -> agent id -> path."""
    run_dir = ctx.paths.run_dir(ctx.wave.number, run_id)
    found: dict[int, dict[str, Path]] = {}
    for folder in sorted(run_dir.glob("attempt-*")):
        number = folder.name.split("-", 1)[1]
        if not number.isdigit() or int(number) > attempt:
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                result = AgentResult.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a torn result of a killed run is no evidence
            found.setdefault(int(number), {})[result.agent_id] = path
    return dict(sorted(found.items()))


def _barrier(ctx: WaveContext, run_id: str) -> list[Check]:
    """The coordination barrier as the engine sees it now (this also flushes the derived files)."""
    if ctx.wave.number is None:
        return []
    return coordination.closure_checks(ctx, run_id)


def _executor(ctx: WaveContext, agent_id: str) -> TraceExecutor | None:
    agent = ctx.wave.agent(agent_id)
    if agent is None:
        return None
    try:
        resolved = ctx.executor_for(agent)
    except WaveError:
        return None
    return TraceExecutor(
        id=resolved.id,
        selected_by=resolved.selected_by,
        profile=resolved.profile,
        model=resolved.model,
        fallbacks=list(resolved.fallbacks),
        budget_turns=resolved.budget_turns,
        budget_minutes=resolved.budget_minutes,
    )


def write_bundle(
    ctx: WaveContext,
    run_id: str,
    attempt: int,
    *,
    outcome: WaveOutcome | None = None,
    stage_changes: dict[str, list[str]] | None = None,
) -> Path:
    """Capture attempt ``attempt`` of run ``run_id``; returns the bundle folder.

    ``outcome`` (the wave's final verdict) makes this the wave's last bundle; ``stage_changes`` are
    the changed files each closure stage saw when it checked ownership.
    """
    target = bundle_dir(ctx, attempt)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        _fill(_Builder(work), ctx, run_id, attempt, outcome, stage_changes or {})
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    work.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _fill(
    b: _Builder,
    ctx: WaveContext,
    run_id: str,
    attempt: int,
    outcome: WaveOutcome | None,
    stage_changes: dict[str, list[str]],
) -> None:
    paths = ctx.paths
    number = ctx.wave.number
    roles = ctx.roles
    barrier = _barrier(ctx, run_id)  # first: it refreshes the derived files copied below
    wave_copy = f"wave/{ctx.wave_path.name}"
    b.copy(wave_copy, ctx.wave_path, required=True)
    roster: Roster = coordination.roster_from_context(ctx)
    b.json("roster.json", roster)

    has_coordination = number is not None
    cpaths = coordination.coordination_paths(ctx)
    b.copy(RAW_LOG, cpaths.log, required=has_coordination)
    for rel, source in (
        ("ledger.json", cpaths.ledger),
        ("docs-queue.json", cpaths.docs_queue),
        ("capability-assignments.json", cpaths.assignments),
        ("dependency-snapshot.json", cpaths.dependencies_json),
        ("integration.json", cpaths.integration_json),
        ("shared-summary.md", cpaths.shared_summary),
    ):
        b.copy(rel, source, required=has_coordination)
    for rel, source in (
        ("integration.md", cpaths.integration_md),
        ("dependency-snapshot.md", cpaths.dependencies_md),
        ("board.md", cpaths.board),
        ("feedback/triage.jsonl", cpaths.triage_log),
        ("feedback/pending-human.md", cpaths.pending_human),
    ):
        b.copy(rel, source, required=False)
    promotions = ctx.wave.promoted
    matrix = _inside(ctx.repo_root, ctx.lane.component_matrix_json_path)
    if promotions:
        b.copy("component-cutover-matrix.json", matrix, required=True)

    state, issues = reduce_log(b.folder / RAW_LOG, roster)
    b.json("coordination.materialized.json", materialized(state, roster, issues))

    # Agent results of every attempt so far, then each agent's files for its latest attempt.
    history_files = _history(ctx, run_id, attempt)
    history: dict[int, dict[str, AgentResult]] = {}
    for number_j, agents in history_files.items():
        for agent_id, source in agents.items():
            rel = f"results/attempt-{number_j}/{agent_id}.json"
            b.copy(rel, source, required=True)
            history.setdefault(number_j, {})[agent_id] = AgentResult.model_validate_json(
                (b.folder / rel).read_text(encoding="utf-8")
            )
    latest = latest_results(history)

    tree: set[str] = set()
    trace_agents: list[TraceAgent] = []
    ordered = [*ctx.implementation_agents(), *ctx.closure_agents()]
    for agent in ordered:
        role = ctx.role(agent)
        tree.update(agent.deliverable_paths)
        tree.update(agent.role_prompt_paths)
        if role == "evaluator":
            report = ctx.evaluator_report(agent)
            if report:
                tree.add(report)
        result = latest.get(agent.id)
        entry = TraceAgent(agent_id=agent.id, title=agent.title, role=role, executor=_executor(ctx, agent.id))
        if has_coordination:
            entry.inbox = b.copy(f"inboxes/{agent.id}.md", cpaths.inbox(agent.id), required=True)
        if result is not None:
            launched = result.attempt == attempt
            safe = paths.safe(number, agent.slug)
            log = Path(result.log_path) if result.log_path else None
            entry.status = result.status
            entry.latest_attempt = result.attempt
            entry.launched_in_attempt = launched
            entry.prompt_fingerprint = result.prompt_hash
            entry.result = f"results/attempt-{result.attempt}/{agent.id}.json"
            ran = bool(result.checks)  # no checks: the attempt failed before its process started
            entry.log = b.copy(f"logs/{safe}.log", log, required=launched and ran)
            entry.prompt = b.copy(f"prompts/{safe}.prompt.md", paths.prompt(safe), required=launched and ran)
            task = Path(result.task_path) if result.task_path else None
            entry.task = b.copy(f"tasks/{safe}.task.json", task, required=launched and ran)
            entry.status_file = b.copy(f"status/{safe}.status", paths.status(safe), required=launched and ran)
            if log is not None:
                validation_dir = log.parent / f"{safe}.validation"
                for path in sorted(validation_dir.glob("*")) if validation_dir.is_dir() else []:
                    copied = b.copy(f"logs/{safe}.validation/{path.name}", path, required=True)
                    if copied:
                        entry.validation_logs.append(copied)
            for index, switch in enumerate(result.executor_switches, start=1):
                if switch.log_path:
                    b.copy(f"logs/{safe}.try-{index}.log", Path(switch.log_path), required=False)
            changes = stage_changes.get(agent.id)
            if changes is not None and any(c.name == OWNERSHIP_CHECK for c in result.checks):
                entry.tree_snapshot = b.json(f"tree-changes/{agent.id}.json", {"changed": changes})
        trace_agents.append(entry)
    if promotions and matrix is not None:
        tree.add(ctx.lane.component_matrix_json_path)
    for repo_path in sorted(tree):
        inside = _inside(ctx.repo_root, repo_path)
        if inside is not None and inside.is_dir():
            (b.folder / "tree" / repo_path).mkdir(parents=True, exist_ok=True)  # a deliverable that is a folder
        elif inside is not None:
            b.copy(f"tree/{repo_path}", inside, required=False)
    changes_now = tree_changes(ctx, run_id)
    if changes_now is not None:
        b.json("tree-changes.json", {"changed": changes_now})

    integration = _read_json(b.folder / "integration.json", {})
    docs_queue = _read_json(b.folder / "docs-queue.json", {})
    dependencies = _read_json(b.folder / "dependency-snapshot.json", None)
    quality = quality_metrics(
        attempt=attempt,
        state=state,
        roster=roster,
        integration=integration,
        docs_queue=docs_queue,
        dependencies=dependencies,
        history=history,
    )
    options = TraceOptions(
        max_retries=ctx.options.max_retries,
        max_parallel=ctx.options.max_parallel,
        agent_timeout=ctx.options.agent_timeout,
        validation_timeout=ctx.options.validation_timeout,
        forced_executor=ctx.options.forced_executor,
        dry_run=ctx.options.dry_run,
    )
    executors = {a.agent_id: a.executor.model_dump(by_alias=True) for a in trace_agents if a.executor}
    b.json("markers.json", markers(b.folder, {a.agent_id: a.log for a in trace_agents}))
    b.json("timeline.json", timeline(history))
    b.json("budgets.json", spend(history, executors, options.model_dump(by_alias=True)))
    b.json(
        "closure.json",
        closure_summary(
            latest,
            integration_id=roles.integration,
            documentation_id=roles.documentation,
            evaluator_id=roles.evaluator,
            integration=integration,
        ),
    )
    b.json("quality.json", quality)

    agents_ok = bool(ordered) and all(a.id in latest and latest[a.id].ok for a in ordered)
    closed = outcome.closed if outcome is not None else agents_ok and all(c.ok for c in barrier)
    reason = outcome.reason if outcome is not None else (None if closed else _reason(ordered, latest, barrier))
    b.json(
        "outcome.json",
        {
            "closed": closed,
            "final": outcome is not None,
            "reason": reason,
            "agents": {a.id: (latest[a.id].status if a.id in latest else "not-run") for a in ordered},
            "barrier": [c.model_copy(update={"evidence": RAW_LOG}).model_dump() for c in barrier],
            "quality": quality,
        },
    )
    if outcome is not None:
        b.text("wave.json", outcome.model_dump_json(indent=2) + "\n")

    display = ctx.wave.path or str(ctx.wave_path)
    manifest = TraceManifest(
        producer=f"pytest-wave {__version__}",
        lane=ctx.lane.name,
        wave=number,
        run_id=run_id,
        attempt=attempt,
        captured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        wave_file=display,
        wave_copy=wave_copy,
        wave_sha256=sha256_file(b.folder / wave_copy),
        repo_root=str(ctx.repo_root),
        roles=TraceRoles(integration=roles.integration, documentation=roles.documentation, evaluator=roles.evaluator),
        options=options,
        agents=trace_agents,
        verdict=TraceVerdict(closed=closed, final=outcome is not None, reason=reason),
        files=b.sealed(),
    )
    (b.folder / MANIFEST).write_text(manifest.model_dump_json(by_alias=True, indent=2) + "\n", encoding="utf-8")


def _reason(ordered: list[Any], latest: dict[str, AgentResult], barrier: list[Check]) -> str:
    for agent in ordered:
        result = latest.get(agent.id)
        if result is None:
            return f"{agent.id}: not run"
        if not result.ok:
            return f"{agent.id}: {result.reason}"
    failed = next((c for c in barrier if not c.ok), None)
    return f"{failed.name}: {failed.found}" if failed else "not closed"


def _read_json(path: Path, default: Any) -> Any:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text(encoding="utf-8"))
    return default

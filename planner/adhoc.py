"""Ad-hoc runs: a request in plain words becomes a transient, unnumbered wave run by the same engine.

Each run lives in ``.wave/adhoc/runs/<run-id>/``: ``request.md``, the plan's ``spec.json`` (a
:class:`~planner.models.DraftSpec` with ``"wave": null``), the rendered ``wave-adhoc.md``, ``run.json``
(an :class:`~planner.models.AdhocRun`) and, once it ran, ``results/``. An ad-hoc wave has no number, so it
never enters ``completedWaves`` and never counts as a numbered wave.

Who plans: the lane's planner runtime (:mod:`planner.runtime`) when one is configured and installed,
else the deterministic template below (one worker per request plus the three closure stewards). Both
produce a draft spec that is validated exactly like ``wave draft``'s (:func:`planner.draft.check_spec`);
a runtime plan that is missing or invalid falls back to the template. ``run.json`` records which one
planned and why. Nothing is written unless the final plan validates.

When the lane requires component promotions or agent components for unnumbered waves (the defaults:
``requireComponentPromotionsFromWave = 0``), the template promotes the ``adhoc`` component (added to the
component matrix if missing) and the documentation steward owns the matrix, as validation asks.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from planner.common import Repo, now, write_all
from planner.draft import _read_matrix, check_spec, matrix_files
from planner.models import (
    AdhocRun,
    DraftSpec,
    SpecAgent,
    SpecComponent,
    SpecContext7,
    SpecExitContract,
    SpecProjectProfile,
    SpecPromotion,
)
from planner.rendering import render
from planner.runtime import ExecutorLookup, PlannerFailed, PlannerUnavailable, configured_planner, run_planner
from pytest_wave.errors import WaveError
from pytest_wave.executors.registry import builtin_executor
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.result import WaveOutcome
from pytest_wave.model.wave import FreeSection

ADHOC_DIR = ".wave/adhoc/runs"
WAVE_NAME = "wave-adhoc.md"
SPEC_NAME = "spec.json"
ADHOC_COMPONENT = "adhoc"
ADHOC_TARGET = "repo-landed"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PATHISH = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]*|[\w-]+\.[A-Za-z0-9]{1,6})(?![\w/])")


def new_adhoc_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def run_dir(root: Path, run_id: str) -> Path:
    return root / ADHOC_DIR / run_id


def mentioned_paths(request: str, root: Path) -> list[str]:
    """Repository paths a request names (``src/login.py``, ``docs/``) that exist: the worker may touch them."""
    found: list[str] = []
    for match in _PATHISH.finditer(request):
        rel = match.group(1).strip("./") if not match.group(1).startswith("./") else match.group(1)[2:]
        target = (root / rel).resolve()
        if rel and target.is_relative_to(root) and target.exists() and not rel.startswith((".wave", ".tmp", ".git")):
            found.append(rel + ("/" if target.is_dir() and not rel.endswith("/") else ""))
    return list(dict.fromkeys(found))


def needs_promotions(lane: LaneConfig) -> bool:
    """Whether validation asks an unnumbered wave for component promotions or agent components."""
    rules = lane.validation
    return rules.active(rules.require_component_promotions_from_wave, None) or rules.active(
        rules.require_agent_components_from_wave, None
    )


def _adhoc_component(matrix: dict[str, Any]) -> SpecComponent:
    """The ``adhoc`` component, promoted to ``repo-landed`` (or where it already is, if higher)."""
    levels: list[str] = list(matrix["levels"])
    existing = matrix.get("components", {}).get(ADHOC_COMPONENT) or {}
    current = existing.get("currentLevel", levels[0])
    default = ADHOC_TARGET if ADHOC_TARGET in levels else levels[min(2, len(levels) - 1)]
    target = current if current in levels and levels.index(current) > levels.index(default) else default
    return SpecComponent(
        component_id=ADHOC_COMPONENT,
        title=existing.get("title") or "Ad-hoc runs",
        current_level=current,
        target_level=target,
        canonical_docs=list(existing.get("canonicalDocs") or ["README.md"]),
        proof_surfaces=list(existing.get("proofSurfaces") or ["tests"]),
    )


def _title(request: str) -> str:
    words = " ".join(request.split())
    return (words[:60] + "...") if len(words) > 60 else words


def template_spec(repo: Repo, lane: LaneConfig, requests: list[str], run_id: str, matrix: dict[str, Any]) -> DraftSpec:
    """The deterministic ad-hoc plan: A1..An (one per request), then the integration, documentation and
    evaluator stewards, each with a report under the run folder."""
    base = f"{ADHOC_DIR}/{run_id}"
    roles = lane.roles
    references = list(lane.validation.required_prompt_references)
    closure = {roles.evaluator_agent_id, roles.integration_agent_id, roles.documentation_agent_id}
    promote = needs_promotions(lane)
    catalog = [_adhoc_component(matrix)] if promote else []
    promoted = [c.component_id for c in catalog]
    workers: list[SpecAgent] = []
    number = 1
    for request in requests:
        while f"A{number}" in closure:
            number += 1
        agent_id = f"A{number}"
        number += 1
        report = f"{base}/{agent_id}-report.md"
        workers.append(
            SpecAgent(
                agent_id=agent_id,
                title=_title(request),
                components=promoted,
                exit_contract=SpecExitContract(
                    completion="contract", durability="none", proof="unit", doc_impact="owned"
                ),
                primary_goal=f"Carry out this ad-hoc request: {request}",
                required_context=references,
                owned_paths=[*mentioned_paths(request, repo.root), report],
                deliverables=[report],
                requirements=[
                    "Keep every change inside the file ownership above; if the request needs more, report it as a gap.",
                    f"Write {report}: what you changed, why, and how it was proved.",
                ],
                output_summary="The change, its proof and any gap.",
            )
        )
    steward_docs = list(lane.shared_plan_docs)
    if promote:
        steward_docs += [lane.component_matrix_doc_path, lane.component_matrix_json_path]
    stewards = [
        (roles.integration_agent_id, "Integration steward", roles.integration_role_prompt_path, "integration.md", [],
         "Reconcile what the ad-hoc workers landed before documentation closure."),
        (roles.documentation_agent_id, "Documentation steward", roles.documentation_role_prompt_path,
         "documentation.md", list(dict.fromkeys(steward_docs)), "Record what this ad-hoc run changed."),
        (roles.evaluator_agent_id, "Evaluator", roles.evaluator_role_prompt_path, "evaluator.md", [],
         "Gate the ad-hoc run: PASS only when every worker's proof holds and documentation is closed."),
    ]  # fmt: skip
    closure_agents = [
        SpecAgent(
            agent_id=agent_id,
            title=title,
            role_prompt_paths=[role_prompt],
            primary_goal=goal,
            required_context=references,
            owned_paths=[f"{base}/{report}", *extra],
            deliverables=[f"{base}/{report}"],
        )
        for agent_id, title, role_prompt, report, extra, goal in stewards
    ]
    title = _title(requests[0]) + (f" (+{len(requests) - 1} more)" if len(requests) > 1 else "")
    return DraftSpec(
        generated_at=now(),
        project_profile=SpecProjectProfile(
            project_name=repo.config.project_name, new_project=False, default_terminal_surface="vscode"
        ),
        template="implementation",
        lane=lane.name,
        wave=None,
        title=title,
        commit_message=f"Ad-hoc: {title}",
        oversight_mode="oversight",
        context7_defaults=SpecContext7(bundle="none"),
        component_promotions=[SpecPromotion(component_id=c.component_id, target_level=c.target_level) for c in catalog],
        components_catalog=catalog,
        agents=[*workers, *closure_agents],
    )


def _notes(run_id: str, requests: list[str]) -> list[FreeSection]:
    return [
        FreeSection(
            heading="Ad-hoc request", body=render("adhoc-preamble.md.j2", run_id=run_id, requests=requests).strip()
        )
    ]


def plan_adhoc(
    repo: Repo,
    lane_name: str | None,
    requests: list[str],
    run_id: str | None = None,
    *,
    use_runtime: bool = True,
    lookup: ExecutorLookup = builtin_executor,
) -> AdhocRun:
    """Plan, validate and store an ad-hoc run; nothing is written when no plan validates.

    ``use_runtime=False`` (dry runs, ``--planner template``) never starts the planner runtime."""
    cleaned = [" ".join(r.split()) for r in requests]
    if not cleaned or any(not r for r in cleaned):
        raise WaveError("an ad-hoc request is empty", fix='describe the task: --wave-adhoc "fix the login bug"')
    if run_id is not None and not _RUN_ID.match(run_id):
        raise WaveError(f'invalid ad-hoc run id "{run_id}"', fix="use letters, digits, '.', '_' and '-' (64 at most)")
    lane = repo.lane(lane_name)
    run_id = run_id or new_adhoc_id()
    folder = run_dir(repo.root, run_id)
    if folder.exists():
        raise WaveError(f"ad-hoc run {run_id} already exists", path=folder, fix="choose another run id")
    rel = f"{ADHOC_DIR}/{run_id}/{WAVE_NAME}"
    matrix = _read_matrix(repo, lane)
    heading = f"Ad-hoc run {run_id}"
    notes = _notes(run_id, cleaned)
    baseline = template_spec(repo, lane, cleaned, run_id, matrix)
    planned_by, planner_runtime, note = "template", None, "no planner runtime configured"
    checked = None
    spec = baseline
    try:
        if not use_runtime:
            raise PlannerUnavailable("the planner runtime is not used for this run")
        runtime = configured_planner(lane, lookup)
        planner_runtime = runtime.executor_id
        proposed = run_planner(
            repo,
            lane,
            runtime,
            folder=folder,
            wave_rel=rel,
            prompt_context=_prompt_context(lane, cleaned, run_id, baseline, matrix),
        )
        if proposed.wave is not None or proposed.lane != lane.name:
            raise PlannerFailed(f'the planner\'s spec must say "wave": null and "lane": "{lane.name}"')
        try:
            checked = check_spec(
                repo, proposed, matrix, rel, heading=f"{heading} - {proposed.title}", notes=notes, what="plan"
            )
        except WaveError as exc:
            raise PlannerFailed(f"its spec does not validate: {exc.one_line()}") from None
        spec, planned_by, note = proposed, "runtime", f"planned by the {runtime.executor_id} planner runtime"
    except PlannerUnavailable as exc:
        note = str(exc)
    except PlannerFailed as exc:
        note = f"the {planner_runtime} planner runtime failed: {exc}"
    if checked is None:
        try:
            checked = check_spec(
                repo, baseline, matrix, rel, heading=f"{heading} - {baseline.title}", notes=notes, what="ad-hoc plan"
            )
        except WaveError:
            shutil.rmtree(folder, ignore_errors=True)  # a planner run's leftovers; the run never existed
            raise
    record = AdhocRun(
        run_id=run_id,
        created_at=now(),
        lane=lane.name,
        requests=cleaned,
        wave_path=rel,
        planner=planned_by,
        planner_runtime=planner_runtime,
        planner_note=note,
    )
    files = {
        folder / WAVE_NAME: checked.markdown,
        folder / SPEC_NAME: spec.dump(),
        folder / "request.md": render("adhoc-request.md.j2", record=record),
        folder / "run.json": record.model_dump_json(by_alias=True, indent=2) + "\n",
    }
    matrix_json = repo.root / lane.component_matrix_json_path
    if checked.matrix is not None and (
        checked.matrix != matrix or (spec.components_catalog and not matrix_json.exists())
    ):
        files.update(matrix_files(repo, lane, checked.matrix))
    write_all(files)
    return record


def _prompt_context(
    lane: LaneConfig, requests: list[str], run_id: str, baseline: DraftSpec, matrix: dict[str, Any]
) -> dict[str, object]:
    roles = lane.roles
    return {
        "run_id": run_id,
        "requests": requests,
        "lane": lane.name,
        "base": f"{ADHOC_DIR}/{run_id}",
        "closure_ids": [roles.evaluator_agent_id, roles.integration_agent_id, roles.documentation_agent_id],
        "components": sorted({*matrix.get("components", {}), *(c.component_id for c in baseline.components_catalog)})
        if baseline.components_catalog
        else [],
        "levels": list(matrix["levels"]),
        "matrix_path": lane.component_matrix_json_path,
        "references": list(lane.validation.required_prompt_references),
        "baseline": json.dumps(baseline.model_dump(by_alias=True, mode="json"), indent=2),
    }


def load_run(root: Path, run_id: str) -> AdhocRun:
    path = run_dir(root, run_id) / "run.json"
    try:
        return AdhocRun.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WaveError(f"no ad-hoc run {run_id!r}", fix="see 'wave adhoc list'") from None
    except ValueError as exc:
        raise WaveError(f"corrupt ad-hoc run record: {exc}", path=path) from None


def list_runs(root: Path) -> list[AdhocRun]:
    base = root / ADHOC_DIR
    if not base.is_dir():
        return []
    runs: list[AdhocRun] = []
    for folder in sorted(base.iterdir()):
        if (folder / "run.json").is_file():
            try:
                runs.append(load_run(root, folder.name))
            except WaveError:
                continue
    return runs


def record_outcome(root: Path, run_id: str, outcome_path: Path | None, session_run_id: str) -> AdhocRun:
    """Copy the run's results next to its wave and mark it closed or failed."""
    record = load_run(root, run_id)
    folder = run_dir(root, run_id)
    status, reason, agents = "failed", "the wave did not run to an outcome", {}
    if outcome_path is not None and outcome_path.is_file():
        try:
            outcome = WaveOutcome.model_validate_json(outcome_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            reason = f"unreadable outcome: {exc}"
        else:
            status = "closed" if outcome.closed else "failed"
            reason = outcome.reason or ""
            agents = {aid: result.status for aid, result in outcome.agents.items()}
            results = folder / "results"
            if results.exists():
                shutil.rmtree(results)
            shutil.copytree(outcome_path.parent, results)
    updated = record.model_copy(
        update={
            "status": status,
            "reason": reason or None,
            "finished_at": now(),
            "session_run_id": session_run_id,
            "agents": agents,
        }
    )
    write_all({folder / "run.json": updated.model_dump_json(by_alias=True, indent=2) + "\n"})
    return updated


def show_run(record: AdhocRun) -> str:
    return render("adhoc-show.txt.j2", record=record, json=json)

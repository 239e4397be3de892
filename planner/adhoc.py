"""Ad-hoc runs: a request in plain words becomes a transient, unnumbered wave run by the same engine.

Each run lives in ``.wave/adhoc/runs/<run-id>/``: ``request.md``, the planned ``wave-adhoc.md``,
``run.json`` (an :class:`~planner.models.AdhocRun`) and, once it ran, ``results/``. An ad-hoc wave has no
number, so it never enters ``completedWaves`` and never counts as a numbered wave.

Planning is the deterministic template below (one worker per request, plus the three closure stewards);
it is validated like any draft before anything is written.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from pathlib import Path

from planner.common import Repo, now, write_all
from planner.draft import check_findings
from planner.models import AdhocRun
from planner.rendering import render
from pytest_wave.errors import WaveError, WaveParseError
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.result import WaveOutcome
from pytest_wave.model.wave import Agent, ExitContract, PathEntry, Wave, slugify
from pytest_wave.parse.render import render_wave
from pytest_wave.parse.wave import parse_wave_text

ADHOC_DIR = ".wave/adhoc/runs"
WAVE_NAME = "wave-adhoc.md"
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


def _prompt(template: str, **context: object) -> str:
    return render(template, **context).strip("\n")


def adhoc_wave(repo: Repo, lane: LaneConfig, requests: list[str], run_id: str) -> Wave:
    """The deterministic ad-hoc plan: A1..An (one per request), then the integration, documentation and
    evaluator stewards, each owning a report under the run folder."""
    base = f"{ADHOC_DIR}/{run_id}"
    roles = lane.roles
    references = list(lane.validation.required_prompt_references)
    closure = {roles.evaluator_agent_id, roles.integration_agent_id, roles.documentation_agent_id}
    contract = ExitContract(completion="contract", durability="none", proof="unit", doc_impact="owned")
    agents: list[Agent] = []
    number = 1
    for request in requests:
        while f"A{number}" in closure:
            number += 1
        agent_id = f"A{number}"
        number += 1
        report = f"{base}/{agent_id}-report.md"
        owned = [*mentioned_paths(request, repo.root), report]
        agents.append(
            Agent(
                id=agent_id,
                title=_title(request),
                slug=slugify(f"adhoc-{agent_id}"),
                deliverables=[PathEntry(path=report)],
                exit_contract=contract,
                prompt=_prompt(
                    "adhoc-worker.txt.j2", request=request, owned=owned, references=references, report=report
                ),
            )
        )
    stewards = [
        (
            roles.integration_agent_id,
            "Integration steward",
            roles.integration_role_prompt_path,
            f"{base}/integration.md",
            [],
            "Reconcile what the ad-hoc workers landed before documentation closure.",
        ),
        (
            roles.documentation_agent_id,
            "Documentation steward",
            roles.documentation_role_prompt_path,
            f"{base}/documentation.md",
            list(lane.shared_plan_docs),
            "Record what this ad-hoc run changed.",
        ),
        (
            roles.evaluator_agent_id,
            "Evaluator",
            roles.evaluator_role_prompt_path,
            f"{base}/evaluator.md",
            [],
            "Gate the ad-hoc run: PASS only when every worker's proof holds and documentation is closed.",
        ),
    ]
    for agent_id, title, role_prompt, report, extra_owned, goal in stewards:
        owned = [report, *extra_owned]
        agents.append(
            Agent(
                id=agent_id,
                title=title,
                slug=slugify(f"adhoc-{agent_id}"),
                role_prompts=[PathEntry(path=role_prompt)],
                deliverables=[PathEntry(path=report)],
                prompt=_prompt("adhoc-steward.txt.j2", goal=goal, owned=owned, references=references),
            )
        )
    return Wave(
        path=f"{base}/{WAVE_NAME}",
        heading=f"Ad-hoc run {run_id}",
        preamble=_prompt("adhoc-preamble.md.j2", run_id=run_id, requests=requests),
        agents=agents,
    )


def _title(request: str) -> str:
    words = " ".join(request.split())
    return (words[:60] + "...") if len(words) > 60 else words


def plan_adhoc(repo: Repo, lane_name: str | None, requests: list[str], run_id: str | None = None) -> AdhocRun:
    """Plan, validate and store an ad-hoc run; nothing is written when the plan does not validate."""
    cleaned = [" ".join(r.split()) for r in requests]
    if not cleaned or any(not r for r in cleaned):
        raise WaveError("an ad-hoc request is empty", fix='describe the task: --wave-adhoc "fix the login bug"')
    lane = repo.lane(lane_name)
    run_id = run_id or new_adhoc_id()
    wave = adhoc_wave(repo, lane, cleaned, run_id)
    markdown = render_wave(wave)
    try:
        parsed = parse_wave_text(markdown, path=wave.path, file_name=WAVE_NAME)
    except WaveParseError as exc:
        raise WaveError(f"the planned ad-hoc wave does not parse: {exc.message}", line=exc.line) from None
    if parsed.number is not None:
        raise WaveError("an ad-hoc wave must not carry a wave number")
    findings = check_findings(parsed, repo, lane, None)
    if findings:
        first = findings[0]
        raise WaveError(
            f"ad-hoc plan rejected, nothing written: {first.message}", path=wave.path, line=first.line, fix=first.fix
        )
    record = AdhocRun(
        run_id=run_id, created_at=now(), lane=lane.name, requests=cleaned, wave_path=wave.path, status="planned"
    )
    folder = run_dir(repo.root, run_id)
    write_all(
        {
            folder / WAVE_NAME: markdown,
            folder / "request.md": render("adhoc-request.md.j2", record=record),
            folder / "run.json": record.model_dump_json(by_alias=True, indent=2) + "\n",
        }
    )
    return record


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

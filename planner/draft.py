"""``wave draft``: a JSON draft spec (canonical) -> wave markdown -> parsed back and validated -> written.

Nothing is written until the rendered wave parses back to the same spec and passes validation (with
the updated component matrix held in memory), and then every file is written or none is.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.common import Repo, now, write_all
from planner.models import (
    ROLE_KINDS,
    TEMPLATES,
    DraftSpec,
    ProfileDeployEnvironment,
    ProjectProfile,
    SpecAgent,
    SpecComponent,
    SpecContext7,
    SpecExecutor,
    SpecExitContract,
    SpecProjectProfile,
    SpecPromotion,
)
from planner.profile import PROFILE_PATH, SetupAnswers, load_profile, run_setup
from planner.prompter import Prompter
from planner.rendering import render
from planner.templates import DEFAULT_EXIT, DEFAULT_REQUIREMENTS, EXIT_BY_ROLE
from planner.templates import TEMPLATES as TEMPLATE_DEFAULTS
from pytest_wave.errors import WaveError, WaveParseError
from pytest_wave.lint.context import LintContext
from pytest_wave.lint.runner import _BUILTIN, run_rules
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.executor import ExecutorSpec
from pytest_wave.model.findings import Finding
from pytest_wave.model.matrix import STARTER_LEVELS, ComponentMatrix, parse_matrix
from pytest_wave.model.wave import (
    Agent,
    ComponentPromotion,
    Context7Settings,
    DeployEnvironment,
    ExitContract,
    FreeSection,
    PathEntry,
    Wave,
    slugify,
)
from pytest_wave.parse.render import render_wave
from pytest_wave.parse.wave import parse_wave_text

WORKER_PROFILES = ("implement-fast", "deep-review", "docs-pass", "ops-triage")


# --------------------------------------------------------------------------- where things go


def wave_file(lane: LaneConfig, number: int) -> str:
    return f"{lane.waves_dir}/wave-{number}.md"


def spec_file(lane: LaneConfig, number: int) -> str:
    return f"{lane.waves_dir}/specs/wave-{number}.json"


def load_spec(root: Path, lane: LaneConfig, number: int) -> DraftSpec | None:
    rel = spec_file(lane, number)
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        spec = DraftSpec.model_validate_json(text)
    except ValidationError as exc:
        raise WaveError(f"invalid draft spec: {spec_error(exc)}", path=rel, fix="fix the JSON or re-draft") from None
    if spec.wave != number:
        raise WaveError(f'the spec says "wave": {spec.wave}, not {number}', path=rel, fix=f'set "wave": {number}')
    return spec


def spec_error(exc: ValidationError) -> str:
    """The first problem of a draft spec that does not validate, as ``where: what``."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


# --------------------------------------------------------------------------- answers


@dataclass
class DraftOptions:
    """``wave draft`` flags; ``None`` means: ask (or take the default)."""

    wave: int
    lane: str | None = None
    template: str | None = None
    force: bool = False
    title: str | None = None
    commit_message: str | None = None
    sequencing_note: str | None = None
    reference_rule: str | None = None
    oversight_mode: str | None = None
    context7_bundle: str | None = None
    context7_query: str | None = None
    components: list[str] | None = None  # ``id`` or ``id=target``
    workers: int | None = None
    goals: list[str] = field(default_factory=list)
    role_kind: str | None = None
    owned_paths: list[str] | None = None
    validation_command: str | None = None
    setup: SetupAnswers = field(default_factory=SetupAnswers)


def _c7_bundles(repo: Repo, lane: LaneConfig) -> list[str]:
    from pytest_wave.context7 import load_bundle_index

    index = load_bundle_index(repo.root / lane.context7_bundle_index_path, strict=False)
    return sorted(index.bundles) if index is not None else ["none"]


def _read_matrix(repo: Repo, lane: LaneConfig) -> dict[str, Any]:
    path = repo.root / lane.component_matrix_json_path
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return {"version": 1, "levels": list(STARTER_LEVELS), "components": {}}
    except (OSError, ValueError) as exc:
        raise WaveError(
            f"component matrix is not valid JSON: {exc}", path=lane.component_matrix_json_path, fix="repair it"
        ) from None
    if not isinstance(data, dict):
        raise WaveError("component matrix must be a JSON object", path=lane.component_matrix_json_path)
    parse_matrix(data, lane.component_matrix_json_path)  # raises a WaveError with the anchor's wording
    return data


def _shared_doc(lane: LaneConfig, name: str) -> str | None:
    return next((doc for doc in lane.shared_plan_docs if doc.rsplit("/", 1)[-1] == f"{name}.md"), None)


def _base_context(lane: LaneConfig) -> list[str]:
    return list(lane.validation.required_prompt_references)


def ask_spec(repo: Repo, prompter: Prompter, options: DraftOptions, profile: ProjectProfile) -> DraftSpec:
    """Turn flags and answers into a draft spec (no file is read besides config, matrix and index)."""
    lane_name = options.lane or profile.planner_defaults.lane or repo.config.default_lane
    lane = repo.lane(lane_name)
    template = options.template or profile.planner_defaults.template
    if template not in TEMPLATES:
        raise WaveError(f'unknown template "{template}"', fix=f"use one of: {', '.join(TEMPLATES)}")
    defaults = TEMPLATE_DEFAULTS[template]
    n = options.wave
    matrix = _read_matrix(repo, lane)
    levels: list[str] = list(matrix["levels"])
    components: dict[str, Any] = matrix["components"]

    title = prompter.text("Wave title", defaults.title, options.title)
    commit = prompter.text("Commit message", defaults.commit_message, options.commit_message)
    sequencing = prompter.text("Sequencing note", "", options.sequencing_note) or None
    reference = prompter.text("Reference rule", "", options.reference_rule) or None
    oversight = prompter.choice(
        "Wave execution posture", ("oversight", "dark-factory"), profile.default_oversight_mode, options.oversight_mode
    )
    bundles = _c7_bundles(repo, lane)
    bundle = prompter.choice("Wave Context7 bundle", bundles, "none", options.context7_bundle)
    query = prompter.text("Wave Context7 query", "", options.context7_query) or None

    # Component promotions.
    given = options.components
    count = (
        len(given)
        if given is not None
        else prompter.integer("How many component promotions belong in this wave?", 1, 1)
    )
    catalog: list[SpecComponent] = []
    level_default = defaults.target_level if defaults.target_level in levels else levels[-1]
    for index in range(count):
        if given is not None:
            cid, _, target_flag = given[index].partition("=")
            cid = cid.strip()
            existing = components.get(cid)
            ctitle = existing.get("title", cid) if existing else cid
            current = existing.get("currentLevel", levels[0]) if existing else levels[0]
            target = target_flag.strip() or _matrix_target(existing, n) or level_default
            docs = list(existing.get("canonicalDocs") or ["README.md"]) if existing else ["README.md"]
            proofs = list(existing.get("proofSurfaces") or ["tests"]) if existing else ["tests"]
        else:
            cid = prompter.text("Component id", "new-component" if index == 0 else f"component-{index + 1}")
            existing = components.get(cid)
            ctitle = prompter.text(f"Component {cid} title", existing.get("title", cid) if existing else cid)
            current = (
                existing.get("currentLevel", levels[0])
                if existing
                else prompter.choice(f"Component {cid} current level", levels, levels[0])
            )
            target = prompter.choice(f"Wave {n} target level", levels, _matrix_target(existing, n) or level_default)
            docs = prompter.items(
                f"Component {cid} canonical docs",
                list(existing.get("canonicalDocs") or ["README.md"]) if existing else ["README.md"],
            )
            proofs = prompter.items(
                f"Component {cid} proof surfaces",
                list(existing.get("proofSurfaces") or ["tests"]) if existing else ["tests"],
            )
        if target not in levels:
            raise WaveError(f'component {cid}: unknown level "{target}"', fix=f"use one of: {', '.join(levels)}")
        try:
            catalog.append(
                SpecComponent(
                    component_id=cid,
                    title=ctitle,
                    current_level=current,
                    target_level=target,
                    canonical_docs=docs,
                    proof_surfaces=proofs,
                )
            )
        except ValidationError as exc:
            raise WaveError(f"component {cid!r}: {exc.errors()[0]['msg']}") from None
    promoted = [c.component_id for c in catalog]
    if len(set(promoted)) != len(promoted):
        raise WaveError("a component is promoted twice", fix="promote each component once")

    # Worker agents.
    profiles = sorted(lane.executors.profiles)
    workers: list[SpecAgent] = []
    worker_count = (
        options.workers
        if options.workers is not None
        else (len(options.goals) or prompter.integer("How many worker agents belong in this wave?", 1, 1))
    )
    if worker_count < 1:
        raise WaveError("a wave needs at least one worker agent", fix="pass --workers 1 or more")
    default_env = profile.default_environment()
    closure_ids = {lane.roles.evaluator_agent_id, lane.roles.integration_agent_id, lane.roles.documentation_agent_id}
    next_id = 1
    for index in range(worker_count):
        while f"A{next_id}" in closure_ids:
            next_id += 1
        agent_default = f"A{next_id}"
        next_id += 1
        goal_flag = options.goals[index] if index < len(options.goals) else None
        # A worker given by flags (--goal) takes the defaults for everything else: no questions.
        ask = prompter if goal_flag is None and options.workers is None else Prompter(interactive=False)
        agent_id = ask.text("Agent id", agent_default)
        atitle = ask.text(f"Agent {agent_id} title", f"{template.capitalize()} Track {index + 1}")
        role = ask.choice(f"Agent {agent_id} role kind", ROLE_KINDS, defaults.role_kind, options.role_kind)
        profile_default = "ops-triage" if role in ("infra", "deploy", "research") else "implement-fast"
        exec_profile: str | None = None
        if profiles:
            exec_profile = ask.choice(
                f"Agent {agent_id} executor profile",
                profiles,
                profile_default if profile_default in profiles else profiles[0],
            )
        owned_default = _owned_default(lane, n, defaults.owned_paths, agent_id, index, worker_count)
        owned = ask.items(f"Agent {agent_id} owned paths", owned_default, options.owned_paths)
        comps = ask.items(f"Agent {agent_id} component ids", promoted)
        caps = ask.items(f"Agent {agent_id} capabilities", [] if role == "implementation" else [role])
        context_default = _base_context(lane) + [
            doc for name in defaults.required_context if (doc := _shared_doc(lane, name)) is not None
        ]
        context = ask.items(f"Agent {agent_id} additional required context", context_default)
        earlier = ask.items(f"Agent {agent_id} earlier wave outputs", [])
        reqs = ask.items(f"Agent {agent_id} requirements", list(DEFAULT_REQUIREMENTS))
        validation_default = defaults.validation.format(wave_file=wave_file(lane, n))
        validation = ask.text(f"Agent {agent_id} validation command", validation_default, options.validation_command)
        summary = ask.text(f"Agent {agent_id} output summary", "Summarize the landed change and its proof.")
        goal = ask.text(f"Agent {agent_id} primary goal", f"Land {atitle.lower()} for wave {n}.", goal_flag)
        env_id: str | None = None
        if role in ("infra", "deploy") and profile.deploy_environments:
            env_id = ask.choice(
                f"Agent {agent_id} deploy environment",
                ["none", *(env.id for env in profile.deploy_environments)],
                default_env.id if default_env else "none",
            )
            env_id = None if env_id == "none" else env_id
        completion, durability, proof, doc_impact = EXIT_BY_ROLE.get(role, DEFAULT_EXIT)
        workers.append(
            SpecAgent(
                agent_id=agent_id,
                title=atitle,
                executor=SpecExecutor(profile=exec_profile),
                context7=SpecContext7(bundle="none"),
                components=comps,
                capabilities=caps,
                exit_contract=SpecExitContract(
                    completion=completion, durability=durability, proof=proof, doc_impact=doc_impact
                ),
                primary_goal=goal,
                required_context=context,
                earlier_wave_outputs=earlier,
                owned_paths=owned,
                requirements=reqs,
                validation_command=validation or None,
                output_summary=summary,
                deploy_environment_id=env_id,
            )
        )
    used_envs = {w.deploy_environment_id for w in workers if w.deploy_environment_id}
    envs = [env for env in profile.deploy_environments if env.id in used_envs]
    return DraftSpec(
        generated_at=now(),
        project_profile=SpecProjectProfile(
            project_name=repo.config.project_name,
            new_project=profile.new_project,
            default_terminal_surface=profile.default_terminal_surface,
        ),
        template=template,
        lane=lane.name,
        wave=n,
        title=title,
        commit_message=commit,
        oversight_mode=oversight,
        sequencing_note=sequencing,
        reference_rule=reference,
        deploy_environments=envs,
        context7_defaults=SpecContext7(bundle=bundle, query=query),
        component_promotions=[SpecPromotion(component_id=c.component_id, target_level=c.target_level) for c in catalog],
        components_catalog=catalog,
        agents=[*closure_agents(lane, n, profiles), *workers],
    )


def _owned_default(
    lane: LaneConfig, n: int, paths: tuple[str, ...], agent_id: str, index: int, count: int
) -> list[str]:
    """The template's paths for a lone worker. With several, defaults must not overlap (lint refuses two
    owners of a path): the first worker keeps the files, and each directory becomes ``<dir><agent>/``."""
    if count == 1:
        return list(paths)
    own = [f"{p}{agent_id.lower()}/" for p in paths if p.endswith("/")]
    if index == 0:
        own = [p for p in paths if not p.endswith("/")] + own
    return own or [f"{lane.waves_dir}/work/wave-{n}/{agent_id.lower()}/"]


def _matrix_target(existing: dict[str, Any] | None, wave: int) -> str | None:
    if not existing:
        return None
    found: str | None = None
    for promotion in existing.get("promotions") or []:
        if isinstance(promotion, dict) and promotion.get("wave") == wave:
            found = str(promotion.get("target"))
    return found


def closure_agents(lane: LaneConfig, n: int, profiles: list[str]) -> list[SpecAgent]:
    """The evaluator, integration and documentation stewards every drafted wave carries."""
    roles = lane.roles
    base = _base_context(lane)
    shared = list(lane.shared_plan_docs)
    steward_paths = list(
        dict.fromkeys([*lane.shared_plan_docs, lane.component_matrix_doc_path, lane.component_matrix_json_path])
    )
    if not lane.validation.active(lane.validation.require_component_promotions_from_wave, n) and not shared:
        steward_paths = [f"{lane.waves_dir}/docs/wave-{n}.md"]

    def profile(name: str) -> SpecExecutor:
        return SpecExecutor(profile=name if name in profiles else None)

    return [
        SpecAgent(
            agent_id=roles.evaluator_agent_id,
            title="Evaluator",
            role_prompt_paths=[roles.evaluator_role_prompt_path],
            executor=profile("deep-review"),
            context7=SpecContext7(bundle="none", query="Architecture evaluation for the planned slice"),
            primary_goal=f"Gate wave {n}: PASS only when every agent's proof holds and documentation is closed.",
            required_context=[*base, *shared],
            owned_paths=[f"{lane.waves_dir}/reviews/wave-{n}-evaluator.md"],
            output_summary="Verdict, gate markers and the reasons behind them.",
        ),
        SpecAgent(
            agent_id=roles.integration_agent_id,
            title="Integration steward",
            role_prompt_paths=[roles.integration_role_prompt_path],
            executor=profile("deep-review"),
            context7=SpecContext7(bundle="none"),
            capabilities=["integration", "docs-shared-plan"],
            primary_goal="Reconcile what the implementation agents landed before documentation closure.",
            required_context=[*base, *shared],
            owned_paths=[f"{lane.waves_dir}/integration/wave-{n}.md"],
            output_summary="Integration state, claims, conflicts and blockers.",
        ),
        SpecAgent(
            agent_id=roles.documentation_agent_id,
            title="Documentation steward",
            role_prompt_paths=[roles.documentation_role_prompt_path],
            executor=profile("docs-pass"),
            context7=SpecContext7(bundle="none"),
            primary_goal="Record what this wave landed in the shared plan docs and the component matrix.",
            required_context=[*base, *shared],
            owned_paths=steward_paths,
            output_summary="Documentation closure state and the docs that changed.",
        ),
    ]


# --------------------------------------------------------------------------- spec -> wave -> spec


def agent_prompt(agent: SpecAgent, envs: dict[str, ProfileDeployEnvironment]) -> str:
    notes = list(agent.collaboration_notes)
    if agent.deploy_environment_id:
        env = envs.get(agent.deploy_environment_id)
        kind = env.kind if env else "custom"
        notes.append(f"Deploy environment: `{agent.deploy_environment_id}` ({kind})")
    return render("agent-prompt.txt.j2", agent=agent, notes=notes).strip("\n")


def spec_to_wave(spec: DraftSpec, path: str, *, heading: str | None = None, notes: Sequence[FreeSection] = ()) -> Wave:
    """The wave a spec renders to; ``heading`` and ``notes`` (free sections) are for ad-hoc plans."""
    envs = {env.id: env for env in spec.deploy_environments}
    agents: list[Agent] = []
    for a in spec.agents:
        executor = None
        if a.executor.profile or a.executor.id:
            executor = ExecutorSpec(profile=a.executor.profile, id=a.executor.id)
        contract = a.exit_contract
        agents.append(
            Agent(
                id=a.agent_id,
                title=a.title,
                slug=slugify(f"{spec.wave if spec.wave is not None else 'adhoc'}-{a.agent_id}"),
                role_prompts=[PathEntry(path=p) for p in a.role_prompt_paths],
                deliverables=[PathEntry(path=p) for p in a.deliverables],
                executor=executor,
                context7=Context7Settings(bundle=a.context7.bundle, query=a.context7.query),
                skills=a.skills,
                components=a.components,
                capabilities=a.capabilities,
                exit_contract=ExitContract(
                    completion=contract.completion,
                    durability=contract.durability,
                    proof=contract.proof,
                    doc_impact=contract.doc_impact,
                )
                if contract
                else None,
                prompt=agent_prompt(a, envs),
            )
        )
    extra = [*notes]
    extra.append(
        FreeSection(heading="Project profile", body=render("project-profile-section.md.j2", spec=spec).strip())
    )
    if spec.sequencing_note:
        extra.append(FreeSection(heading="Sequencing note", body=spec.sequencing_note))
    if spec.reference_rule:
        extra.append(FreeSection(heading="Reference rule", body=spec.reference_rule))
    return Wave(
        path=path,
        number=spec.wave,
        heading=heading or f"Wave {spec.wave} - {spec.title}",
        commit_message=spec.commit_message,
        component_promotions=[
            ComponentPromotion(component_id=p.component_id, target_level=p.target_level)
            for p in spec.component_promotions
        ],
        context7_defaults=Context7Settings(bundle=spec.context7_defaults.bundle, query=spec.context7_defaults.query),
        deploy_environments=[
            DeployEnvironment(id=e.id, kind=e.kind, is_default=e.is_default, notes=e.notes)
            for e in spec.deploy_environments
        ],
        agents=agents,
        extra_sections=extra,
    )


_HEADERS = {
    "Primary goal:": "goal",
    "Collaboration notes:": "notes",
    "Required context before coding:": "context",
    "Earlier wave outputs to read:": "earlier",
    "File ownership (only touch these paths):": "owned",
    "Requirements:": "requirements",
    "Validation:": "validation",
    "Output:": "output",
}
_NUMBERED = re.compile(r"^\d+\.\s+(.*)$")
_ENV_NOTE = re.compile(r"^Deploy environment: `([^`]+)`")


def _prompt_fields(prompt: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for raw in prompt.splitlines():
        line = raw.strip()
        if line in _HEADERS:
            current = _HEADERS[line]
            fields.setdefault(current, [])
        elif current and line:
            numbered = _NUMBERED.match(line)
            item = numbered.group(1) if numbered else line[2:] if line.startswith("- ") else line
            fields[current].append(item)
    return fields


def wave_to_spec_facts(wave: Wave) -> dict[str, Any]:
    """The spec facts a parsed wave carries (compare with :meth:`DraftSpec.wave_facts`)."""
    title = (wave.heading or "").split(" - ", 1)[1] if " - " in (wave.heading or "") else (wave.heading or "")
    agents: list[dict[str, Any]] = []
    for a in wave.agents:
        f = _prompt_fields(a.prompt)
        notes = f.get("notes", [])
        env_id = next((m.group(1) for n in notes if (m := _ENV_NOTE.match(n))), None)
        contract = a.exit_contract
        agents.append(
            SpecAgent(
                agent_id=a.id,
                title=a.title,
                role_prompt_paths=a.role_prompt_paths,
                skills=a.skills,
                executor=SpecExecutor(
                    profile=a.executor.profile if a.executor else None, id=a.executor.id if a.executor else None
                ),
                context7=SpecContext7(
                    bundle=a.context7.bundle or "none" if a.context7 else "none",
                    query=a.context7.query if a.context7 else None,
                ),
                components=a.components,
                capabilities=a.capabilities,
                exit_contract=SpecExitContract(
                    completion=contract.completion or "",
                    durability=contract.durability or "",
                    proof=contract.proof or "",
                    doc_impact=contract.doc_impact or "",
                )
                if contract
                else None,
                primary_goal=" ".join(f.get("goal", [])),
                collaboration_notes=[n for n in notes if not _ENV_NOTE.match(n)],
                required_context=[c[5:].rstrip(".") if c.startswith("Read ") else c for c in f.get("context", [])],
                earlier_wave_outputs=f.get("earlier", []),
                owned_paths=a.owned,
                deliverables=a.deliverable_paths,
                requirements=f.get("requirements", []),
                validation_command=next((v.command for v in a.validation), None),
                output_summary=" ".join(f.get("output", [])),
                deploy_environment_id=env_id,
            ).model_dump(by_alias=True, mode="json")
        )
    c7 = wave.context7_defaults
    return {
        "wave": wave.number,
        "title": title,
        "commitMessage": wave.commit_message,
        "deployEnvironments": [
            {"id": e.id, "kind": e.kind, "isDefault": e.is_default, "notes": e.notes} for e in wave.deploy_environments
        ],
        "context7Defaults": {"bundle": (c7.bundle if c7 else None) or "none", "query": c7.query if c7 else None},
        "componentPromotions": [
            {"componentId": p.component_id, "targetLevel": p.target_level} for p in wave.component_promotions
        ],
        "agents": agents,
    }


# --------------------------------------------------------------------------- matrix


def upsert_matrix(matrix: dict[str, Any], spec: DraftSpec) -> dict[str, Any]:
    """The matrix with this wave's catalog and promotions applied (a new dict)."""
    data: dict[str, Any] = json.loads(json.dumps(matrix))
    components: dict[str, Any] = data.setdefault("components", {})
    # The spec is canonical for its wave: promotions of this wave that it no longer lists go away.
    for entry in components.values():
        if spec.wave is not None and isinstance(entry, dict) and isinstance(entry.get("promotions"), list):
            entry["promotions"] = [
                p for p in entry["promotions"] if not (isinstance(p, dict) and p.get("wave") == spec.wave)
            ]
    for c in spec.components_catalog:
        entry = components.setdefault(c.component_id, {"currentLevel": c.current_level, "promotions": []})
        entry["title"] = c.title
        entry["canonicalDocs"] = c.canonical_docs
        entry["proofSurfaces"] = c.proof_surfaces
        entry.setdefault("currentLevel", c.current_level)
        if spec.wave is None:
            continue  # an ad-hoc plan has no wave number to record a promotion under
        promotions = [
            p for p in entry.get("promotions") or [] if not (isinstance(p, dict) and p.get("wave") == spec.wave)
        ]
        promotions.append({"wave": spec.wave, "target": c.target_level})
        entry["promotions"] = sorted(promotions, key=lambda p: int(p.get("wave", 0)))
    return data


def render_matrix_markdown(matrix: dict[str, Any], json_path: str) -> str:
    components = sorted(matrix.get("components", {}).items())
    promotions = sorted((int(p["wave"]), cid, p["target"]) for cid, c in components for p in c.get("promotions") or [])
    return render(
        "component-matrix.md.j2",
        json_path=json_path,
        levels=matrix["levels"],
        components=components,
        promotions=promotions,
    )


# --------------------------------------------------------------------------- check and write


@dataclass
class Draft:
    spec: DraftSpec
    markdown: str
    wave: Wave
    matrix: dict[str, Any]
    files: dict[Path, str]


def check_findings(wave: Wave, repo: Repo, lane: LaneConfig, matrix: ComponentMatrix | None) -> list[Finding]:
    """Validation and lint errors of ``wave`` as if ``matrix`` were already on disk."""
    ctx = LintContext(wave=wave, repo_root=repo.root, lane=lane)
    if matrix is not None:
        ctx._memo["matrix"] = (matrix, None)
    return [f for f in run_rules(ctx, _BUILTIN) if f.is_error]


@dataclass
class CheckedSpec:
    markdown: str
    wave: Wave
    matrix: dict[str, Any] | None  # the matrix with the spec applied (None: no matrix was given)


def check_spec(
    repo: Repo,
    spec: DraftSpec,
    matrix: dict[str, Any] | None,
    rel: str,
    *,
    heading: str | None = None,
    notes: Sequence[FreeSection] = (),
    what: str = "draft",
) -> CheckedSpec:
    """Render ``spec`` to ``rel``, parse the markdown back, compare, validate (as if the updated matrix
    were on disk); raise a :class:`WaveError` on any problem. ``wave draft``, ``wave update`` and ad-hoc
    plans (template or planner runtime) all go through here."""
    lane = repo.lane(spec.lane)
    markdown = render_wave(spec_to_wave(spec, rel, heading=heading, notes=notes))
    try:
        parsed = parse_wave_text(markdown, path=rel, file_name=os.path.basename(rel))
    except WaveParseError as exc:
        raise WaveError(f"the rendered wave does not parse: {exc.message}", path=rel, line=exc.line) from None
    if parsed.number != spec.wave:
        raise WaveError(f"the rendered wave carries wave number {parsed.number}, not {spec.wave}", path=rel)
    expected = spec.wave_facts()
    got = wave_to_spec_facts(parsed)
    if got != expected:
        differing = sorted(k for k in expected if expected.get(k) != got.get(k))
        raise WaveError(
            f"the rendered wave does not parse back to its spec (differs in: {', '.join(differing)})",
            path=rel,
            fix="simplify the answer that holds markdown syntax (fences, headings) and draft again",
        )
    updated = upsert_matrix(matrix, spec) if matrix is not None else None
    model = parse_matrix(updated, lane.component_matrix_json_path) if updated is not None else None
    findings = check_findings(parsed, repo, lane, model)
    if findings:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise WaveError(
            f"{what} rejected, nothing written: {first.message}{more}", path=rel, line=first.line, fix=first.fix
        )
    return CheckedSpec(markdown=markdown, wave=parsed, matrix=updated)


def matrix_files(repo: Repo, lane: LaneConfig, matrix: dict[str, Any]) -> dict[Path, str]:
    """The component matrix JSON and its (fully re-rendered) markdown."""
    return {
        repo.root / lane.component_matrix_json_path: json.dumps(matrix, indent=2) + "\n",
        repo.root / lane.component_matrix_doc_path: render_matrix_markdown(matrix, lane.component_matrix_json_path),
    }


def build_draft(repo: Repo, spec: DraftSpec, matrix: dict[str, Any] | None, *, write_matrix: bool = True) -> Draft:
    """Render ``spec``, parse the markdown back, compare, validate; raise a :class:`WaveError` on any problem."""
    if spec.wave is None:
        raise WaveError("a draft spec needs a wave number", fix='set "wave" to the wave number')
    lane = repo.lane(spec.lane)
    rel = wave_file(lane, spec.wave)
    checked = check_spec(repo, spec, matrix, rel)
    files = {repo.root / spec_file(lane, spec.wave): spec.dump(), repo.root / rel: checked.markdown}
    if checked.matrix is not None and write_matrix:
        files.update(matrix_files(repo, lane, checked.matrix))
    return Draft(spec=spec, markdown=checked.markdown, wave=checked.wave, matrix=checked.matrix or {}, files=files)


def run_draft(repo: Repo, prompter: Prompter, options: DraftOptions) -> Draft:
    """The whole ``wave draft`` flow: profile, checks, questions, render, validate, then write everything."""
    profile = load_profile(repo.root)
    created = profile is None
    if profile is None:
        profile = run_setup(repo, prompter, options.setup)
    lane = repo.lane(options.lane or profile.planner_defaults.lane or None)
    n = options.wave
    if n in repo.closed_waves(lane):
        raise WaveError(
            f"wave {n} is closed (run-state completedWaves); closed waves are immutable",
            path=wave_file(lane, n),
            fix=f"draft a later wave, or replan open waves with 'wave update --from-wave {n + 1}'",
        )
    existing = [rel for rel in (wave_file(lane, n), spec_file(lane, n)) if (repo.root / rel).exists()]
    if existing and not options.force:
        raise WaveError(f"Wave {n} already exists ({', '.join(existing)})", fix="re-run with --force to replace it")
    spec = ask_spec(repo, prompter, options, profile)
    draft = build_draft(repo, spec, _read_matrix(repo, lane))
    stamp = now()
    saved = profile.model_copy(
        update={
            "planner_defaults": profile.planner_defaults.model_copy(
                update={"template": spec.template, "lane": spec.lane}
            ),
            "updated_at": stamp if not created else profile.updated_at,
        }
    )
    draft.files[repo.root / PROFILE_PATH] = saved.model_dump_json(by_alias=True, indent=2) + "\n"
    write_all(draft.files)
    return draft


def relative(repo: Repo, paths: Iterable[Path]) -> list[str]:
    return [os.path.relpath(p, repo.root) for p in paths]

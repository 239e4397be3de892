"""The Node.js tool's wave validation (``validateWaveDefinition``), one rule per function.

Messages keep the anchor's wording so users moving over recognise them; each finding also names the
most precise line the model holds and a fix. The numbers in the docstrings refer to the rule list in
``wave-format.md`` §2.4. Three checks the anchor ran while *parsing* or *resolving* (deliverables
inside owned paths, readable role prompts, known executor profiles) and an always-on exit contract
value check live here too: they are validation, just earlier in the anchor.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.lint.roles import path_escapes_repo, role_prompt_path_allowed
from pytest_wave.model.findings import Finding
from pytest_wave.model.wave import EXIT_CONTRACT_FIELDS, Agent, ExitContract
from pytest_wave.parse.roles import compose_prompt

FIX_EVALUATOR = "add '## Agent {ev}: Running Evaluator' importing {path} and owning a review report path"
FIX_OWNERSHIP = "list the paths under 'File ownership (only touch these paths):' in the agent's prompt"


def _owned_agents(ctx: LintContext) -> Iterator[Agent]:
    """Agents that get the per-agent checks of rule 6 (those with at least one owned path)."""
    return (agent for agent in ctx.wave.agents if agent.owned_paths)


@lint_rule("matrix-load", category="validation", ids=("matrix-invalid",))
def matrix_load(ctx: LintContext) -> Iterator[Finding]:
    """1. The component matrix loads when promotions or agent components are in play."""
    if not ctx.matrix_wanted:
        return
    _, error = ctx.matrix()
    if error is not None:
        yield ctx.finding(
            "matrix-invalid",
            error.message,
            line=ctx.wave_section_line("Component promotions"),
            fix=f"fix {ctx.matrix_path} (see 'wave schema matrix') or point the lane's "
            "componentCutoverMatrixJsonPath at a valid matrix",
        )


@lint_rule("agents-present", category="validation", ids=("no-agents", "duplicate-agent-id"))
def agents_present(ctx: LintContext) -> Iterator[Finding]:
    """2. At least one agent, and no agent id twice."""
    if not ctx.wave.agents:
        yield ctx.finding(
            "no-agents",
            f"{ctx.label} must declare at least one agent",
            line=ctx.wave_line,
            fix="add an '## Agent <ID>: <title>' section",
        )
        return
    seen: set[str] = set()
    repeated: dict[str, Agent] = {}
    for agent in ctx.wave.agents:
        if agent.id in seen and agent.id not in repeated:
            repeated[agent.id] = agent
        seen.add(agent.id)
    if repeated:
        first = next(iter(repeated.values()))
        yield ctx.finding(
            "duplicate-agent-id",
            f"{ctx.label} must not repeat agent ids ({', '.join(repeated)})",
            line=first.line,
            fix="give every agent its own id",
            agent=first,
        )


@lint_rule("evaluator-present", category="validation", ids=("missing-evaluator",))
def evaluator_present(ctx: LintContext) -> Iterator[Finding]:
    """3. The running evaluator (``roles.evaluatorAgentId``, A0) is part of the wave."""
    if ctx.wave.agent(ctx.evaluator_id) is None:
        yield ctx.finding(
            "missing-evaluator",
            f"{ctx.label} must include Agent {ctx.evaluator_id} as the running evaluator",
            line=ctx.wave_line,
            fix=FIX_EVALUATOR.format(ev=ctx.evaluator_id, path=ctx.lane.roles.evaluator_role_prompt_path),
        )


@lint_rule("promotions-required", category="validation", ids=("missing-component-promotions",))
def promotions_required(ctx: LintContext) -> Iterator[Finding]:
    """4. From ``requireComponentPromotionsFromWave`` on, a wave promotes components."""
    threshold = ctx.lane.validation.require_component_promotions_from_wave
    if ctx.active(threshold) and not ctx.wave.component_promotions:
        yield ctx.finding(
            "missing-component-promotions",
            f"{ctx.label} must declare a ## Component promotions section in waves {threshold} and later",
            line=ctx.wave_line,
            fix="add '## Component promotions' with '- <component-id>: <level>' bullets matching the matrix",
        )


@lint_rule(
    "matrix-promotions",
    category="validation",
    ids=(
        "promotion-unknown-component",
        "promotion-invalid-level",
        "promotion-not-in-matrix",
        "promotion-target-mismatch",
        "promotion-below-current-level",
        "matrix-promotion-not-declared",
    ),
)
def matrix_promotions(ctx: LintContext) -> Iterator[Finding]:
    """5. Declared promotions agree with the matrix, and the matrix's promotions for this wave are declared."""
    if not ctx.matrix_wanted:
        return
    matrix, _ = ctx.matrix()
    if matrix is None:
        return
    where = ctx.matrix_path
    number = ctx.number
    for promotion in ctx.wave.component_promotions:
        component_id, target = promotion.component_id, promotion.target_level
        component = matrix.components.get(component_id)
        if component is None:
            yield ctx.finding(
                "promotion-unknown-component",
                f'{ctx.label} references unknown component "{component_id}" from {where}',
                line=promotion.line,
                fix=f"add the component to {where} or fix the id",
            )
            continue
        if matrix.level_rank(target) is None:
            yield ctx.finding(
                "promotion-invalid-level",
                f'{ctx.label} uses invalid component level "{target}" for {component_id}',
                line=promotion.line,
                fix=f"use one of: {', '.join(matrix.levels)}",
            )
            continue
        if number is None:
            continue
        declared = component.target_for_wave(number)
        if declared is None:
            yield ctx.finding(
                "promotion-not-in-matrix",
                f'Component "{component_id}" is missing a wave {number} promotion entry in {where}',
                line=promotion.line,
                fix=f'add {{"wave": {number}, "target": "{target}"}} to the promotions of {component_id} in {where}',
            )
            continue
        if declared != target:
            yield ctx.finding(
                "promotion-target-mismatch",
                f"{ctx.label} promotes {component_id} to {target}, but {where} declares {declared}",
                line=promotion.line,
                fix=f"promote to {declared} here, or change the matrix entry",
            )
            continue
        current_rank = matrix.level_rank(component.current_level)
        target_rank = matrix.level_rank(target)
        if (
            current_rank is not None
            and target_rank is not None
            and target_rank < current_rank
            # A later wave's promotion explains it: that wave ran after this one (a rerun of a wave
            # that closed before later waves moved the component on), not a regression.
            and matrix.passed_by_later_wave(component_id, target, number) is None
        ):
            yield ctx.finding(
                "promotion-below-current-level",
                f"{ctx.label} promotes {component_id} to {target}, but {where} already records "
                f"currentLevel {component.current_level}",
                line=promotion.line,
                fix=f"promote to {component.current_level} or later",
            )
    if number is None:
        return
    promoted = ctx.promoted
    for component_id, target in matrix.promotions_for_wave(number).items():
        if promoted.get(component_id) != target:
            yield ctx.finding(
                "matrix-promotion-not-declared",
                f"{ctx.label} must declare component promotion {component_id}: {target} to match {where}",
                line=ctx.wave_section_line("Component promotions"),
                fix=f"add '- {component_id}: {target}' under '## Component promotions'",
            )


@lint_rule("owned-paths", category="validation", ids=("missing-owned-paths", "owned-path-outside-repo"))
def owned_paths(ctx: LintContext) -> Iterator[Finding]:
    """6. Every agent owns at least one path, all inside the repository."""
    for agent in ctx.wave.agents:
        if not agent.owned_paths:
            yield ctx.finding(
                "missing-owned-paths",
                f"Agent {agent.id} must declare at least one owned path",
                line=ctx.section_line(agent, "Prompt"),
                fix=FIX_OWNERSHIP,
                agent=agent,
            )
            continue
        outside = [entry for entry in agent.owned_paths if path_escapes_repo(entry.path)]
        if outside:
            yield ctx.finding(
                "owned-path-outside-repo",
                f"Agent {agent.id} has non-repo-owned paths ({', '.join(e.path for e in outside)})",
                line=outside[0].line,
                fix="use paths relative to the repository root, without '..'",
                agent=agent,
            )


@lint_rule("role-prompt-paths", category="validation", ids=("role-prompt-path-invalid",))
def role_prompt_paths(ctx: LintContext) -> Iterator[Finding]:
    """6. Role prompts live under ``roles.rolePromptDir`` and end in ``.md`` (checked for every agent:
    the anchor refused such paths while parsing)."""
    prompt_dir = ctx.lane.roles.role_prompt_dir
    for agent in ctx.wave.agents:
        bad = [entry for entry in agent.role_prompts if not role_prompt_path_allowed(entry.path, prompt_dir)]
        if bad:
            yield ctx.finding(
                "role-prompt-path-invalid",
                f"Agent {agent.id} has invalid role prompt paths ({', '.join(e.path for e in bad)})",
                line=bad[0].line,
                fix=f"role prompts must stay within {prompt_dir}/*.md",
                agent=agent,
            )


@lint_rule(
    "role-prompt-files",
    category="validation",
    ids=("role-prompt-missing", "role-prompt-missing-standing-section", "role-prompt-missing-fence"),
)
def role_prompt_files(ctx: LintContext) -> Iterator[Finding]:
    """Each imported role prompt exists, has ``## Standing prompt`` and a fenced block after it."""
    prompt_dir = ctx.lane.roles.role_prompt_dir
    for agent in ctx.wave.agents:
        for entry in agent.role_prompts:
            if not role_prompt_path_allowed(entry.path, prompt_dir):
                continue  # reported by role-prompt-paths; never read files outside the prompt dir
            prompt = ctx.role_prompt(entry.path)
            if prompt.status == "missing":
                yield ctx.finding(
                    "role-prompt-missing",
                    f"Missing role prompt {entry.path} for agent {agent.id}",
                    line=entry.line,
                    fix=f"create {entry.path} or fix the path",
                    agent=agent,
                )
            elif prompt.status == "no-standing-section":
                yield ctx.finding(
                    "role-prompt-missing-standing-section",
                    f'Missing "## Standing prompt" section in {entry.path} required by agent {agent.id}',
                    line=entry.line,
                    fix=f"add a '## Standing prompt' heading followed by a fenced block to {entry.path}",
                    agent=agent,
                )
            elif prompt.status == "no-fence":
                yield ctx.finding(
                    "role-prompt-missing-fence",
                    f"Role prompt {entry.path} required by agent {agent.id}: missing fenced prompt block",
                    line=entry.line,
                    fix=f"put the standing prompt in a ```text fence after '## Standing prompt' in {entry.path}",
                    agent=agent,
                )


_EXECUTOR_NAMES = {"claude": "Claude", "opencode": "OpenCode", "codex": "Codex"}


@lint_rule("executor-overrides", category="validation", ids=("executor-override-mismatch",))
def executor_overrides(ctx: LintContext) -> Iterator[Finding]:
    """6. Runtime-specific ``### Executor`` keys match the declared executor id."""
    for agent in _owned_agents(ctx):
        spec = agent.executor
        if spec is None or spec.id is None:
            continue
        used = spec.vendor_groups_used()
        foreign = used - {spec.id}
        if not foreign:
            continue
        if spec.id == "local":
            message = f"Agent {agent.id} declares executor=local but includes vendor overrides"
        elif spec.id in _EXECUTOR_NAMES:
            message = (
                f"Agent {agent.id} declares executor={spec.id} but includes non-{_EXECUTOR_NAMES[spec.id]} overrides"
            )
        else:
            continue
        key = next(k for k in spec.key_lines if k.split(".", 1)[0] in foreign and "." in k)
        yield ctx.finding(
            "executor-override-mismatch",
            message,
            line=spec.key_lines.get(key, spec.line),
            fix=f"remove '{key}' (and other {', '.join(sorted(foreign))} keys) or change '- id:'",
            agent=agent,
        )


@lint_rule("executor-profile", category="validation", ids=("unknown-executor-profile",))
def executor_profile(ctx: LintContext) -> Iterator[Finding]:
    """A named executor profile exists in the lane's ``executors.profiles``."""
    profiles = ctx.lane.executors.profiles
    for agent in ctx.wave.agents:
        spec = agent.executor
        if spec is None or spec.profile is None or spec.profile in profiles:
            continue
        known = ", ".join(sorted(profiles)) or "none configured"
        yield ctx.finding(
            "unknown-executor-profile",
            f'Agent {agent.id} references unknown executor profile "{spec.profile}"',
            line=spec.key_lines.get("profile", spec.line),
            fix=f"use a profile from executors.profiles ({known})",
            agent=agent,
        )


@lint_rule("agent-context7", category="validation", ids=("missing-context7",))
def agent_context7(ctx: LintContext) -> Iterator[Finding]:
    """6. From ``requireContext7DeclarationsFromWave`` on, every agent declares ``### Context7``."""
    threshold = ctx.lane.validation.require_context7_declarations_from_wave
    if not ctx.active(threshold):
        return
    for agent in _owned_agents(ctx):
        if agent.context7 is None:
            yield ctx.finding(
                "missing-context7",
                f"Agent {agent.id} must declare a ### Context7 section in waves {threshold} and later",
                line=agent.line,
                fix="add '### Context7' with '- bundle: <id>' (or '- bundle: none')",
                agent=agent,
            )


def component_owner(ctx: LintContext, agent: Agent, component_id: str) -> bool:
    """Whether ``agent``'s component declaration makes it an owner of ``component_id`` (rule 13)."""
    if ctx.is_closure(agent) or not agent.owned_paths or component_id not in agent.components:
        return False
    matrix, _ = ctx.matrix() if ctx.matrix_wanted else (None, None)
    if matrix is not None and component_id not in matrix.components:
        return False
    return component_id in ctx.promoted


@lint_rule(
    "agent-components",
    category="validation",
    ids=("closure-role-components", "missing-components", "unknown-component", "component-not-promoted"),
)
def agent_components(ctx: LintContext) -> Iterator[Finding]:
    """6. Closure roles declare no components; others declare known components this wave promotes."""
    threshold = ctx.lane.validation.require_agent_components_from_wave
    required = ctx.active(threshold)
    matrix, _ = ctx.matrix() if ctx.matrix_wanted else (None, None)
    promoted = ctx.promoted
    for agent in _owned_agents(ctx):
        if ctx.is_closure(agent):
            if agent.components:
                yield ctx.finding(
                    "closure-role-components",
                    f"Agent {agent.id} must not declare a ### Components section",
                    line=ctx.section_line(agent, "Components"),
                    fix="remove '### Components': closure roles do not own components",
                    agent=agent,
                )
            continue
        if required and not agent.components:
            yield ctx.finding(
                "missing-components",
                f"Agent {agent.id} must declare a ### Components section in waves {threshold} and later",
                line=agent.line,
                fix="add '### Components' listing the promoted components this agent delivers",
                agent=agent,
            )
        for component_id in agent.components:
            if matrix is not None and component_id not in matrix.components:
                yield ctx.finding(
                    "unknown-component",
                    f'Agent {agent.id} references unknown component "{component_id}" from {ctx.matrix_path}',
                    line=ctx.section_line(agent, "Components"),
                    fix=f"add the component to {ctx.matrix_path} or fix the id",
                    agent=agent,
                )
            elif component_id not in promoted:
                yield ctx.finding(
                    "component-not-promoted",
                    f'Agent {agent.id} declares component "{component_id}" that is not promoted in '
                    f"wave {ctx.number if ctx.number is not None else '?'}",
                    line=ctx.section_line(agent, "Components"),
                    fix=f"add '- {component_id}: <level>' under '## Component promotions' or drop it here",
                    agent=agent,
                )


def _invalid_values(contract: ExitContract) -> list[str]:
    problems: list[str] = []
    for name, levels in EXIT_CONTRACT_FIELDS.items():
        value = getattr(contract, name)
        if value is not None and value not in levels:
            problems.append(f"{name.replace('_', '-')} must be one of {', '.join(levels)}")
    return problems


@lint_rule("exit-contract", category="validation", ids=("missing-exit-contract", "invalid-exit-contract"))
def exit_contract(ctx: LintContext) -> Iterator[Finding]:
    """6. From ``requireExitContractsFromWave`` on, non-closure agents declare a complete, valid exit
    contract. Values that are present must be valid in every wave (a typo would fail the gate later)."""
    threshold = ctx.lane.validation.require_exit_contracts_from_wave
    required = ctx.active(threshold)
    for agent in ctx.wave.agents:
        contract = agent.exit_contract
        full_check = required and bool(agent.owned_paths) and not ctx.is_closure(agent)
        if contract is None:
            if full_check:
                yield ctx.finding(
                    "missing-exit-contract",
                    f"Agent {agent.id} must declare a ### Exit contract section in waves {threshold} and later",
                    line=agent.line,
                    fix="add '### Exit contract' with completion, durability, proof and doc-impact bullets",
                    agent=agent,
                )
            continue
        problems = contract.problems() if full_check else _invalid_values(contract)
        if problems:
            yield ctx.finding(
                "invalid-exit-contract",
                f"Agent {agent.id} has invalid exit contract ({', '.join(problems)})",
                line=contract.line or ctx.section_line(agent, "Exit contract"),
                fix="use '- completion: contract|integrated|authoritative|live', "
                "'- durability: none|ephemeral|durable', '- proof: unit|integration|live', "
                "'- doc-impact: none|owned|shared-plan'",
                agent=agent,
            )


@lint_rule("deliverables-owned", category="validation", ids=("deliverable-not-owned",))
def deliverables_owned(ctx: LintContext) -> Iterator[Finding]:
    """Every deliverable lies inside the agent's owned paths."""
    for agent in ctx.wave.agents:
        for entry in agent.deliverables:
            if not agent.owns(entry.path):
                yield ctx.finding(
                    "deliverable-not-owned",
                    f'Deliverable "{entry.path}" for agent {agent.id} must stay within the agent\'s declared '
                    "file ownership",
                    line=entry.line,
                    fix=f"add {entry.path} (or its directory, ending in '/') to the agent's File ownership list",
                    agent=agent,
                )


@lint_rule("prompt-references", category="validation", ids=("missing-prompt-reference",))
def prompt_references(ctx: LintContext) -> Iterator[Finding]:
    """7. Every resolved prompt mentions each ``validation.requiredPromptReferences`` entry.

    Agents whose role prompts do not resolve are skipped: ``role-prompt-files`` reports the cause."""
    references = ctx.lane.validation.required_prompt_references
    if not references:
        return
    for agent in ctx.wave.agents:
        standing = ctx.standing_prompts(agent)
        if standing is None:
            continue
        for reference in references:
            if not _mentions(standing, agent.prompt, reference):
                yield ctx.finding(
                    "missing-prompt-reference",
                    f"Agent {agent.id} must reference {reference}",
                    line=agent.prompt_line or ctx.section_line(agent, "Prompt"),
                    fix=f"add '- Read {reference}.' under 'Required context before coding:' in the prompt",
                    agent=agent,
                )


def _mentions(standing: list[str], local: str, reference: str) -> bool:
    """``reference in compose_prompt(standing, local)``, without joining the prompts: a reference
    with no line break cannot span the blank line between two parts, so each part is searched alone."""
    if "\n" in reference:
        return reference in compose_prompt(standing, local)
    return reference in local or any(reference in part for part in standing)


@lint_rule("evaluator-role", category="validation", ids=("evaluator-role-prompt", "evaluator-report-path"))
def evaluator_role(ctx: LintContext) -> Iterator[Finding]:
    """8. The evaluator imports the evaluator role prompt and owns a report path."""
    role_path = ctx.lane.roles.evaluator_role_prompt_path
    agent = ctx.wave.agent(ctx.evaluator_id)
    if agent is None or role_path not in agent.role_prompt_paths:
        yield ctx.finding(
            "evaluator-role-prompt",
            f"Agent {ctx.evaluator_id} must import {role_path}",
            line=ctx.section_line(agent, "Role prompts") if agent else ctx.wave_line,
            fix=f"add '- {role_path}' under '### Role prompts' of Agent {ctx.evaluator_id}",
            agent=ctx.evaluator_id,
        )
    if agent is None or not agent.owned_paths:
        yield ctx.finding(
            "evaluator-report-path",
            f"Agent {ctx.evaluator_id} must own an evaluator report path",
            line=ctx.section_line(agent, "Prompt") if agent else ctx.wave_line,
            fix=f"list e.g. docs/plans/waves/reviews/wave-{ctx.number if ctx.number is not None else 'N'}"
            "-evaluator.md under the evaluator's File ownership",
            agent=ctx.evaluator_id,
        )


def _importers(ctx: LintContext, role_path: str) -> list[Agent]:
    return [agent for agent in ctx.wave.agents if role_path in agent.role_prompt_paths]


def _role_line(agent: Agent, role_path: str) -> int:
    return next((e.line for e in agent.role_prompts if e.path == role_path), agent.line)


@lint_rule("integration-steward", category="validation", ids=("integration-steward",))
def integration_steward(ctx: LintContext) -> Iterator[Finding]:
    """9. From ``requireIntegrationStewardFromWave`` on, exactly one agent imports the integration role."""
    if not ctx.active(ctx.lane.validation.require_integration_steward_from_wave):
        return
    role_path = ctx.lane.roles.integration_role_prompt_path
    importers = _importers(ctx, role_path)
    if len(importers) == 1:
        return
    if importers:
        line = _role_line(importers[1], role_path)
        fix = f"keep the import in one agent only (now: {', '.join(a.id for a in importers)})"
    else:
        steward = ctx.wave.agent(ctx.integration_id)
        line = steward.line if steward else ctx.wave_line
        fix = f"add Agent {ctx.integration_id} importing {role_path} under '### Role prompts'"
    yield ctx.finding(
        "integration-steward",
        f"{ctx.label} must include exactly one integration steward importing {role_path}",
        line=line,
        fix=fix,
    )


def required_steward_paths(ctx: LintContext) -> list[str]:
    """Paths the documentation steward must own: shared plan docs, plus the matrix files when the
    component-promotions rule is active (``requiredDocumentationStewardPathsForWave``)."""
    paths = list(ctx.lane.shared_plan_docs)
    if ctx.active(ctx.lane.validation.require_component_promotions_from_wave):
        paths += [ctx.lane.component_matrix_doc_path, ctx.lane.component_matrix_json_path]
    return list(dict.fromkeys(paths))


@lint_rule(
    "documentation-steward",
    category="validation",
    ids=("documentation-steward", "documentation-steward-paths", "shared-plan-docs-ownership"),
)
def documentation_steward(ctx: LintContext) -> Iterator[Finding]:
    """10. One documentation steward owns the shared plan docs (and the matrix), and nobody else does."""
    validation = ctx.lane.validation
    if not (
        ctx.active(validation.require_documentation_steward_from_wave)
        or ctx.active(validation.require_component_promotions_from_wave)
    ):
        return
    role_path = ctx.lane.roles.documentation_role_prompt_path
    importers = _importers(ctx, role_path)
    if len(importers) != 1:
        if importers:
            line = _role_line(importers[1], role_path)
            fix = f"keep the import in one agent only (now: {', '.join(a.id for a in importers)})"
        else:
            steward_agent = ctx.wave.agent(ctx.documentation_id)
            line = steward_agent.line if steward_agent else ctx.wave_line
            fix = f"add Agent {ctx.documentation_id} importing {role_path} under '### Role prompts'"
        yield ctx.finding(
            "documentation-steward",
            f"{ctx.label} must include exactly one documentation steward importing {role_path}",
            line=line,
            fix=fix,
        )
        return
    steward = importers[0]
    required = required_steward_paths(ctx)
    owned = set(steward.owned)
    missing = [path for path in required if path not in owned]
    if missing:
        yield ctx.finding(
            "documentation-steward-paths",
            f"Documentation steward {steward.id} must own {', '.join(missing)}",
            line=ctx.section_line(steward, "Prompt"),
            fix="list each path verbatim under the steward's File ownership (a parent directory does not count)",
            agent=steward,
        )
    required_set = set(required)
    others = [a for a in ctx.wave.agents if a is not steward and required_set.intersection(a.owned)]
    if others:
        first = others[0]
        line = next((e.line for e in first.owned_paths if e.path in required_set), first.line)
        yield ctx.finding(
            "shared-plan-docs-ownership",
            f"Shared plan docs must be owned only by {steward.id} (also owned by {', '.join(a.id for a in others)})",
            line=line,
            fix=f"remove the shared plan docs from the File ownership of {', '.join(a.id for a in others)}",
            agent=first,
        )


@lint_rule("context7-defaults", category="validation", ids=("missing-context7-defaults",))
def context7_defaults(ctx: LintContext) -> Iterator[Finding]:
    """11. From ``requireContext7DeclarationsFromWave`` on, the wave has ``## Context7 defaults``."""
    threshold = ctx.lane.validation.require_context7_declarations_from_wave
    if ctx.active(threshold) and ctx.wave.context7_defaults is None:
        yield ctx.finding(
            "missing-context7-defaults",
            f"Waves {threshold} and later must declare a ## Context7 defaults section",
            line=ctx.wave_line,
            fix="add '## Context7 defaults' with '- bundle: <id>' and '- query: \"...\"'",
        )


@lint_rule("runtime-mix", category="validation", ids=("runtime-mix-exceeded",))
def runtime_mix(ctx: LintContext) -> Iterator[Finding]:
    """12. Per executor, no more agents than the lane's ``runtimeMixTargets`` allow."""
    targets = ctx.lane.runtime_policy.runtime_mix_targets
    if not targets:
        return
    counts: dict[str, int] = {}
    first_over: dict[str, Agent] = {}
    for agent in ctx.wave.agents:
        executor_id = ctx.executor_id(agent)
        counts[executor_id] = counts.get(executor_id, 0) + 1
        target = targets.get(executor_id)
        if target is not None and counts[executor_id] > target and executor_id not in first_over:
            first_over[executor_id] = agent
    if not first_over:
        return
    violations = [f"{eid}={counts[eid]} exceeds target {targets[eid]}" for eid in first_over]
    first = min(first_over.values(), key=lambda a: a.line)
    yield ctx.finding(
        "runtime-mix-exceeded",
        f"{ctx.label} exceeds lane runtime mix targets ({'; '.join(violations)})",
        line=first.line,
        fix="move some agents to another executor ('- id:' or '- profile:' under '### Executor') "
        "or raise runtimeMixTargets in the lane config",
        agent=first,
    )


@lint_rule("component-owners", category="validation", ids=("promoted-component-unowned",))
def component_owners(ctx: LintContext) -> Iterator[Finding]:
    """13. Every promoted component has an owner that is not a closure role."""
    promotions = ctx.wave.component_promotions
    if not promotions:
        return
    closure = "/".join((ctx.evaluator_id, ctx.documentation_id))
    # Components declared by some agent (component_owner's first test), gathered once for all promotions.
    declared = {c for agent in ctx.wave.agents for c in agent.components}
    for promotion in promotions:
        component_id = promotion.component_id
        if component_id not in declared or not any(
            component_owner(ctx, agent, component_id) for agent in ctx.wave.agents
        ):
            yield ctx.finding(
                "promoted-component-unowned",
                f'{ctx.label} must assign promoted component "{component_id}" to at least one non-{closure} agent',
                line=promotion.line,
                fix=f"list '- {component_id}' under '### Components' of an implementation agent",
            )


VALIDATION_RULES = (
    matrix_load,
    agents_present,
    evaluator_present,
    promotions_required,
    matrix_promotions,
    owned_paths,
    role_prompt_paths,
    role_prompt_files,
    executor_overrides,
    executor_profile,
    agent_context7,
    agent_components,
    exit_contract,
    deliverables_owned,
    prompt_references,
    evaluator_role,
    integration_steward,
    documentation_steward,
    context7_defaults,
    runtime_mix,
    component_owners,
)

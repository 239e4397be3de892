"""Lint rules the Node.js tool planned (``wave lint``) but never shipped.

They catch mistakes that validation lets through and that only show up mid-run: two agents editing
the same file, a closure steward that is missing, a skill or Context7 bundle that does not exist, a
deploy environment the wave never declares. Promoted components without an owner and runtime-mix
overruns are validation rules already (``promoted-component-unowned``, ``runtime-mix-exceeded``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_wave.engine.resolve import declared_fallbacks
from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.lint.skills import skill_bundles
from pytest_wave.lint.validation import required_steward_paths
from pytest_wave.model.findings import Finding
from pytest_wave.model.wave import Agent, PathEntry

_DEPLOY_REFERENCES = (
    # "Deploy environment: prod", "deploy-env: prod", "deployment_env = prod"
    re.compile(r"\bdeploy(?:ment)?[ _-]?env(?:ironment)?\s*[:=]\s*`?([A-Za-z0-9][A-Za-z0-9._-]*)`?", re.IGNORECASE),
    # What the planner writes into infra/deploy prompts:
    # "- The primary deploy environment for this role is `prod` via `kubernetes`."
    re.compile(r"\bprimary deploy environment for this role is\s+`?([A-Za-z0-9][A-Za-z0-9._-]*)`?", re.IGNORECASE),
)


def _overlaps(a: str, b: str) -> bool:
    """Same path, or one is a directory (``dir/``) holding the other."""
    return a == b or (a.endswith("/") and b.startswith(a)) or (b.endswith("/") and a.startswith(b))


@lint_rule("ownership-overlap", ids=("ownership-overlap",))
def ownership_overlap(ctx: LintContext) -> Iterator[Finding]:
    """Two agents own the same path, or one owns a directory holding the other's path."""
    validation = ctx.lane.validation
    steward_rule = ctx.active(validation.require_documentation_steward_from_wave) or ctx.active(
        validation.require_component_promotions_from_wave
    )
    # Exact shared-plan-doc duplicates are reported by validation (shared-plan-docs-ownership).
    skip = set(required_steward_paths(ctx)) if steward_rule else set()
    agents = ctx.wave.agents
    for index, agent in enumerate(agents):
        for entry in agent.owned_paths:
            clashes: list[str] = []
            for earlier in agents[:index]:
                clash = _first_overlap(entry, earlier.owned_paths, skip)
                if clash is not None:
                    where = f"line {clash.line}" if clash.path == entry.path else f'"{clash.path}", line {clash.line}'
                    clashes.append(f"Agent {earlier.id} ({where})")
            if clashes:
                yield ctx.finding(
                    "ownership-overlap",
                    f'Agent {agent.id} owns "{entry.path}", which is also owned by {", ".join(clashes)}',
                    line=entry.line,
                    fix="give each path a single owner; split directories into the files each agent changes",
                    agent=agent,
                )


def _first_overlap(entry: PathEntry, others: list[PathEntry], skip: set[str]) -> PathEntry | None:
    for other in others:
        if entry.path == other.path and entry.path in skip:
            continue
        if _overlaps(entry.path, other.path):
            return other
    return None


def _is_worker(ctx: LintContext, agent: Agent) -> bool:
    """An implementation agent with a contract: it declares components or an exit contract."""
    return not ctx.is_closure(agent) and bool(agent.components or agent.exit_contract)


@lint_rule("closure-roles", ids=("closure-role-missing", "closure-role-misordered"))
def closure_roles(ctx: LintContext) -> Iterator[Finding]:
    """The integration and documentation stewards are present, and closure agents are listed together
    before or after the implementation agents (the closure sweep order does not depend on it)."""
    stewards = ((ctx.integration_id, "integration steward"), (ctx.documentation_id, "documentation steward"))
    for agent_id, role in stewards:
        if ctx.wave.agent(agent_id) is None:
            yield ctx.finding(
                "closure-role-missing",
                f"{ctx.label} has no Agent {agent_id} ({role}); closure will skip that step",
                line=ctx.wave_line,
                fix=f"add '## Agent {agent_id}: {role.title()}' importing its role prompt",
                severity="warning",
            )
    agents = ctx.wave.agents
    workers = [i for i, agent in enumerate(agents) if _is_worker(ctx, agent)]
    if not workers:
        return
    first, last = workers[0], workers[-1]
    for index, agent in enumerate(agents):
        if ctx.is_closure(agent) and first < index < last:
            before = agents[max(i for i in workers if i < index)]
            after = agents[min(i for i in workers if i > index)]
            yield ctx.finding(
                "closure-role-misordered",
                f"Closure Agent {agent.id} sits between implementation agents {before.id} and {after.id}",
                line=agent.line,
                fix="list the closure agents (evaluator, integration, documentation) together, "
                "before or after all implementation agents",
                agent=agent,
                severity="warning",
            )


@lint_rule("exit-contract-declared", ids=("no-exit-contract",))
def exit_contract_declared(ctx: LintContext) -> Iterator[Finding]:
    """Implementation agents declare an exit contract even before the lane requires one."""
    if ctx.active(ctx.lane.validation.require_exit_contracts_from_wave):
        return  # validation's missing-exit-contract covers it
    for agent in ctx.wave.agents:
        if not ctx.is_closure(agent) and agent.exit_contract is None:
            yield ctx.finding(
                "no-exit-contract",
                f"Agent {agent.id} has no ### Exit contract, so the gate cannot tell what done means",
                line=agent.line,
                fix="add '### Exit contract' with completion, durability, proof and doc-impact bullets",
                agent=agent,
                severity="warning",
            )


@lint_rule("validation-commands", ids=("no-validation-commands",))
def validation_commands(ctx: LintContext) -> Iterator[Finding]:
    """Implementation agents list commands that check their work."""
    for agent in ctx.wave.agents:
        if not ctx.is_closure(agent) and not agent.validation:
            yield ctx.finding(
                "no-validation-commands",
                f"Agent {agent.id} declares no validation commands",
                line=ctx.section_line(agent, "Prompt"),
                fix="add a 'Validation:' list of commands to the prompt, or a '### Validation' section",
                agent=agent,
                severity="warning",
            )


@lint_rule("context7-bundles", ids=("unknown-context7-bundle", "context7-index-missing"))
def context7_bundles(ctx: LintContext) -> Iterator[Finding]:
    """Context7 bundles named by the wave and its agents exist in the lane's bundle index."""
    used: list[tuple[str, int, Agent | None]] = []
    defaults = ctx.wave.context7_defaults
    if defaults is not None and defaults.bundle:
        used.append((defaults.bundle, defaults.line or ctx.wave_section_line("Context7 defaults"), None))
    for agent in ctx.wave.agents:
        if agent.context7 is not None and agent.context7.bundle:
            used.append((agent.context7.bundle, agent.context7.line or agent.line, agent))
    used = [item for item in used if item[0] != "none"]
    if not used:
        return
    index_path = ctx.lane.context7_bundle_index_path
    bundles = ctx.context7_bundles()
    if bundles is None:
        first_bundle, first_line, first_agent = used[0]
        yield ctx.finding(
            "context7-index-missing",
            f'Context7 bundle index {index_path} is missing or invalid, so bundle "{first_bundle}" cannot be resolved',
            line=first_line,
            fix=f"create {index_path} with a 'bundles' object (including 'none'), or use '- bundle: none'",
            agent=first_agent,
        )
        return
    for bundle, line, user in used:
        if bundle not in bundles:
            owner = f"agent {user.id}" if user else "the wave defaults"
            yield ctx.finding(
                "unknown-context7-bundle",
                f'Unknown Context7 bundle "{bundle}" for {owner}.',
                line=line,
                fix=f"use one of: {', '.join(sorted(bundles))} (from {index_path})",
                agent=user,
            )


@lint_rule("deploy-environments", ids=("undeclared-deploy-environment",))
def deploy_environments(ctx: LintContext) -> Iterator[Finding]:
    """Deploy environments an agent names (``Deploy environment: <id>``, ``deploy-env: <id>``, or the
    planner's "primary deploy environment for this role is `<id>`") are declared by the wave."""
    declared = {env.id for env in ctx.wave.deploy_environments}
    for agent in ctx.wave.agents:
        sources = [(agent.title, agent.line)]
        sources += [(text, agent.prompt_line + offset) for offset, text in enumerate(agent.prompt.splitlines())]
        for text, line in sources:
            for pattern in _DEPLOY_REFERENCES:
                for match in pattern.finditer(text):
                    env_id = match.group(1).lower().rstrip(".")
                    if env_id == "none" or env_id in declared:
                        continue
                    known = ", ".join(sorted(declared)) or "none declared"
                    yield ctx.finding(
                        "undeclared-deploy-environment",
                        f'Agent {agent.id} references deploy environment "{env_id}", which {ctx.label} does not '
                        f"declare ({known})",
                        line=line,
                        fix=f"add '- `{env_id}`: `<kind>`' under '## Deploy environments' or fix the id",
                        agent=agent,
                    )


@lint_rule("executor-fallbacks", ids=("fallback-is-self",))
def executor_fallbacks(ctx: LintContext) -> Iterator[Finding]:
    """An executor's fallback chain does not name the executor itself."""
    for agent in ctx.wave.agents:
        resolved = ctx.executor(agent)
        if resolved.id not in declared_fallbacks(agent, ctx.lane):
            continue
        spec = agent.executor
        line = spec.key_lines.get("fallbacks", spec.line) if spec else agent.line
        yield ctx.finding(
            "fallback-is-self",
            f"Agent {agent.id} runs on {resolved.id} and lists {resolved.id} as its own fallback",
            line=line or agent.line,
            fix=f"remove {resolved.id} from '- fallbacks:' (or from the profile's fallbacks)",
            agent=agent,
            severity="warning",
        )


LINT_RULES = (
    ownership_overlap,
    closure_roles,
    exit_contract_declared,
    validation_commands,
    skill_bundles,
    context7_bundles,
    deploy_environments,
    executor_fallbacks,
)

"""``dark-factory`` posture: a wave that runs without a human in the loop must say where it deploys,
how its work is checked and how it is undone. Missing context is a validation error, so no agent of
the wave is launched (the Node.js tool recorded the posture and enforced nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_wave.engine.posture import RISKY_ROLES, posture_of
from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.model.findings import Finding

_ROLLBACK = re.compile(r"\b(roll\s*-?\s*back|revert)\b", re.IGNORECASE)


@lint_rule(
    "dark-factory-context",
    category="validation",
    ids=(
        "dark-factory-missing-deploy-environment",
        "dark-factory-missing-validation",
        "dark-factory-missing-rollback",
    ),
)
def dark_factory_context(ctx: LintContext) -> Iterator[Finding]:
    """Under dark-factory posture: deploy environments, validation commands and rollback context."""
    if posture_of(ctx.wave, ctx.repo_root) != "dark-factory":
        return
    if not ctx.wave.deploy_environments:
        yield ctx.finding(
            "dark-factory-missing-deploy-environment",
            f"{ctx.label} runs under dark-factory posture but declares no deploy environment",
            line=ctx.wave_line,
            fix="add '## Deploy environments' with '- `<id>`: `<kind>` default' (or use oversight posture)",
        )
    for agent in ctx.wave.agents:
        if ctx.is_closure(agent):
            continue
        if not agent.validation:
            yield ctx.finding(
                "dark-factory-missing-validation",
                f"Agent {agent.id} runs under dark-factory posture with no validation command",
                line=ctx.section_line(agent, "Prompt"),
                fix="add a 'Validation:' list to the prompt (or a '### Validation' section) with commands to run",
                agent=agent,
            )
        if ctx.role(agent) in RISKY_ROLES and not _ROLLBACK.search(agent.prompt):
            yield ctx.finding(
                "dark-factory-missing-rollback",
                f"Agent {agent.id} ({ctx.role(agent)}) runs under dark-factory posture with no rollback context",
                line=ctx.section_line(agent, "Prompt"),
                fix="say in the prompt how to roll the change back (a 'Rollback:' line with the steps or command)",
                agent=agent,
            )


POSTURE_RULES = (dark_factory_context,)

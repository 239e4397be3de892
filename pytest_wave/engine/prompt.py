"""The execution prompt every runtime receives, and its fingerprint (what reuse is keyed on)."""

from __future__ import annotations

import hashlib
import json
import re

from pytest_wave.engine.resolve import RoleIds
from pytest_wave.model.task import AgentTask
from pytest_wave.rendering import render


def _fence(text: str) -> str:
    longest = max((len(m.group(1)) for m in re.finditer(r"(?m)^\s*(`{3,})", text)), default=0)
    return "`" * max(3, longest + 1)


def render_prompt(
    task: AgentTask,
    resolved_prompt: str,
    roles: RoleIds,
    coordination: str = "",
    skills: str = "",
    context7: str = "",
) -> str:
    """The execution prompt; ``coordination`` is the agent's inbox and the shared summary (not in the fingerprint)."""
    return (
        render(
            "prompt.md.j2",
            task=task,
            roles=roles,
            coordination=coordination,
            skills=skills,
            context7=context7,
            repo_root=task.repo_root,
            wave_label="?" if task.wave is None else task.wave,
            prompt=resolved_prompt,
            fence=_fence(resolved_prompt),
        ).rstrip("\n")
        + "\n"
    )


def prompt_fingerprint(task: AgentTask, resolved_prompt: str, extra: dict[str, str] | None = None) -> str:
    """sha256 over what the agent was asked to do; attempt numbers and paths are left out.

    ``extra`` adds hashes of what else shapes the prompt (skills, the Context7 selection); empty ones are
    left out so a prompt without them keeps its fingerprint."""
    payload: dict[str, object] = {
        "prompt": resolved_prompt,
        "agent": task.agent_id,
        "executor": task.executor_id,
        "exitContract": task.exit_contract.model_dump(exclude={"line"}) if task.exit_contract else None,
        "components": task.components,
        "deliverables": task.deliverables,
        "validation": task.validation_commands,
    }
    payload.update({key: value for key, value in (extra or {}).items() if value})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

"""Run posture: ``oversight`` (a human approves risky agents before they start) or ``dark-factory``
(the plan must carry deploy-environment, validation and rollback context; see ``lint/posture.py``).

The posture is read where the Node.js tool records it: the wave's ``## Project profile`` section
(``- oversight-mode: <mode>``, written by the planner) wins over the project profile
(``.wave/project-profile.json``, ``defaultOversightMode``). With neither, no posture applies and
nothing is enforced, as in the Node.js tool.

Risky agents (under ``oversight``): role ``deploy`` or ``infra``, or a prompt that names a deploy
environment whose ``## Deploy environments`` entry is marked risky (its notes say ``risky`` or
``production``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Literal

from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_model
from pytest_wave.engine.resolve import ResolvedExecutor, RoleIds, infer_role
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.result import AgentResult
from pytest_wave.model.wave import Agent, Wave

Posture = Literal["oversight", "dark-factory"]
POSTURES: tuple[Posture, ...] = ("oversight", "dark-factory")
RISKY_ROLES = frozenset({"deploy", "infra"})
_RISKY_NOTE = re.compile(r"\b(risky|production|prod)\b", re.IGNORECASE)
_MODE_LINE = re.compile(r"^\s*-\s*oversight[- ]mode\s*:\s*`?([a-z-]+)`?\s*$", re.IGNORECASE | re.MULTILINE)
APPROVAL_PREFIX = "Approve the launch of"
APPROVED = re.compile(r"^\s*(approve|approved|yes|y|ok|go)\b", re.IGNORECASE)


def wave_posture(wave: Wave) -> Posture | None:
    for section in wave.extra_sections:
        if section.heading.strip().lower() == "project profile":
            match = _MODE_LINE.search(section.body)
            if match and match.group(1).lower() in POSTURES:
                return match.group(1).lower()  # type: ignore[return-value]
    return None


def profile_posture(repo_root: Path) -> Posture | None:
    try:
        data = json.loads((repo_root / ".wave" / "project-profile.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mode = data.get("defaultOversightMode") if isinstance(data, dict) else None
    return mode if mode in POSTURES else None


def posture_of(wave: Wave, repo_root: Path) -> Posture | None:
    return wave_posture(wave) or profile_posture(repo_root)


def risky_environments(wave: Wave) -> set[str]:
    return {env.id for env in wave.deploy_environments if env.notes and _RISKY_NOTE.search(env.notes)}


def risk_of(wave: Wave, agent: Agent, lane: LaneConfig) -> str | None:
    """Why ``agent`` needs a human's approval under ``oversight`` (None when it does not)."""
    role = infer_role(agent, RoleIds.from_lane(lane))
    if role in RISKY_ROLES:
        return f"role {role}"
    for env in sorted(risky_environments(wave)):
        if re.search(rf"(?<![A-Za-z0-9._-]){re.escape(env)}(?![A-Za-z0-9_-])", agent.prompt):
            return f"deploy environment {env} (marked risky)"
    return None


def approval_hold(
    ctx: WaveContext, agent: Agent, run_id: str, attempt: int, executor: ResolvedExecutor
) -> AgentResult | None:
    """Under ``oversight``, a risky agent starts only once a human approved it through the feedback
    queue. Returns the failed result that stands in for the launch (None: launch it)."""
    from pytest_wave.coordination import engine as coordination

    wave = ctx.wave
    if wave.number is None or ctx.options.dry_run or posture_of(wave, ctx.repo_root) != "oversight":
        return None
    risk = risk_of(wave, agent, ctx.lane)
    if risk is None:
        return None
    store = coordination.for_context(ctx)
    if store is None:
        return None
    queue = store.feedback_queue()
    asked = [
        request
        for request in queue.list(ctx.lane.name, wave.number)
        if request.agent_id == agent.id and request.question.startswith(APPROVAL_PREFIX)
    ]
    latest = asked[-1] if asked else None
    if latest is not None and latest.status == "answered" and latest.response is not None:
        if APPROVED.match(latest.response.text):
            return None
        reason = f"launch declined by {latest.response.operator}: {latest.response.text} (request {latest.id})"
    else:
        if latest is None:
            latest = queue.ask(
                ctx.lane.name,
                wave.number,
                agent.id,
                f"{APPROVAL_PREFIX} {agent.id} ({agent.title}) in wave {wave.number}: {risk} under oversight posture",
                f"Answer 'approve' to let it run; any other answer declines. Wave file: {ctx.wave_path}",
            )
        reason = (
            f"waiting on human approval ({risk}, oversight posture): "
            f"run `wave feedback respond --id {latest.id} --response approve`, then run the wave again"
        )
    now = time.time()
    result = AgentResult(
        wave=wave.number,
        wave_path=str(ctx.wave_path),
        lane=ctx.lane.name,
        run_id=run_id,
        attempt=attempt,
        agent_id=agent.id,
        title=agent.title,
        role=ctx.role(agent),
        executor_id=executor.id,
        status="not-run",
        reason=reason,
        started_at=now,
        finished_at=now,
    )
    write_model(ctx.paths.attempt_dir(wave.number, run_id, attempt) / f"{agent.id}.json", result)
    return result

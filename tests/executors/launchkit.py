"""Helpers of the launch-builder tests: an agent parsed from a real ``### Executor`` block, a lane
resolved from a real config dict, and the request the engine would build for them. No CLI runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_wave.engine.resolve import RoleIds, infer_role, resolve_executor
from pytest_wave.executors.common import AgentLaunchRequest
from pytest_wave.model.config import LaneConfig, WaveConfig
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent
from pytest_wave.parse.wave import parse_wave_text


def agent(executor_lines: str = "- id: codex", agent_id: str = "A1", title: str = "Part one") -> Agent:
    text = f"""# Wave 3 - Launch

## Agent {agent_id}: {title}

### Executor

{executor_lines}

### Deliverables

- out/part.md

### Prompt

```text
Do the part.

File ownership (only touch these paths):
- out/
```
"""
    wave = parse_wave_text(text, path="wave-3.md", file_name="wave-3.md")
    return wave.agents[0]


def lane(config: dict[str, Any] | None = None) -> LaneConfig:
    return WaveConfig.model_validate(config or {}).resolve_lane()


def request(
    root: Path,
    the_agent: Agent,
    the_lane: LaneConfig | None = None,
    *,
    forced: str | None = None,
) -> AgentLaunchRequest:
    """The request ``engine/agent_run`` builds for ``the_agent`` (resolution included)."""
    the_lane = the_lane or lane()
    role = infer_role(the_agent, RoleIds.from_lane(the_lane))
    executor = resolve_executor(the_agent, role, the_lane, forced)
    state = root / ".tmp" / "main-wave-launcher"
    prompt = state / "prompts" / "wave-3-3-a1.prompt.md"
    task = AgentTask(
        wave=3,
        wave_path=str(root / "wave-3.md"),
        lane=the_lane.name,
        agent_id=the_agent.id,
        title=the_agent.title,
        role="implementation",
        executor_id=executor.id,
        attempt=1,
        repo_root=str(root),
        prompt_path=str(prompt),
        log_path=str(state / "logs" / "a1.log"),
        deliverables=the_agent.deliverable_paths,
    )
    overlay = state / "executors" / "wave-3" / the_agent.slug
    return AgentLaunchRequest(
        task=task,
        task_path=overlay / "task.json",
        prompt_path=prompt,
        overlay_dir=overlay,
        repo_root=root,
        lane=the_lane,
        model=executor.model,
        agent_executor=the_agent.executor,
        profile=the_lane.executors.profiles.get(executor.profile) if executor.profile else None,
        budget_turns=executor.budget_turns,
        budget_minutes=executor.budget_minutes,
    )


def after(argv: list[str], flag: str) -> list[str]:
    """Every value that follows ``flag`` (for repeated single-value flags)."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]


def variadic(argv: list[str], flag: str) -> list[str]:
    """The values of a variadic flag: everything after it up to the next ``-`` argument."""
    start = argv.index(flag) + 1
    out: list[str] = []
    for arg in argv[start:]:
        if arg.startswith("-"):
            break
        out.append(arg)
    return out

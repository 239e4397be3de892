"""Everything one wave run needs to know, built once from a wave file path."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pytest_wave.config import find_repo_root, load_config, resolve_lane
from pytest_wave.engine.confine import check_agent_ids
from pytest_wave.engine.paths import LanePaths
from pytest_wave.engine.resolve import ResolvedExecutor, RoleIds, infer_role, resolve_executor
from pytest_wave.executors.base import Executor
from pytest_wave.executors.registry import ExecutorLookup, builtin_executor
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.wave import Agent, Wave
from pytest_wave.parse.wave import parse_wave_file

_REPORT = re.compile(r"(^|/)(reviews?|.*evaluator).*\.(md|txt)$", re.IGNORECASE)


@dataclass(frozen=True)
class RunOptions:
    lane: str | None = None
    forced_executor: str | None = None
    max_retries: int = 1
    max_parallel: int = 8
    agent_timeout: float = 240 * 60.0  # seconds; an agent's budget.minutes can only lower it
    validation_timeout: float = 600.0
    dry_run: bool = False
    fresh: bool = False  # --wave-fresh: earlier runs' results are never reused
    # "shared" tree, or "worktree": one git worktree and branch per agent; "": the lane's waveIsolation
    # config, else shared (see engine/isolation.py).
    isolation: str = ""


@dataclass
class WaveContext:
    wave: Wave
    wave_path: Path
    repo_root: Path
    lane: LaneConfig
    options: RunOptions
    lookup: ExecutorLookup = field(default=builtin_executor)

    @classmethod
    def load(
        cls,
        wave_path: Path,
        options: RunOptions,
        *,
        repo_root: Path | None = None,
        lookup: ExecutorLookup = builtin_executor,
    ) -> WaveContext:
        wave_path = wave_path.resolve()
        root = (repo_root or find_repo_root(wave_path.parent)).resolve()
        lane = resolve_lane(load_config(root), options.lane)
        display = os.path.relpath(wave_path, root) if wave_path.is_relative_to(root) else str(wave_path)
        wave = parse_wave_file(wave_path, display_path=display)
        # Agent ids become file names: refuse one that could point a write elsewhere (see confine.py).
        check_agent_ids([(agent.id, agent.line) for agent in wave.agents], display)
        return cls(wave=wave, wave_path=wave_path, repo_root=root, lane=lane, options=options, lookup=lookup)

    @cached_property
    def roles(self) -> RoleIds:
        return RoleIds.from_lane(self.lane)

    @cached_property
    def paths(self) -> LanePaths:
        return LanePaths.for_lane(self.repo_root, self.lane.state_dir, dry_run=self.options.dry_run)

    def role(self, agent: Agent) -> str:
        return infer_role(agent, self.roles)

    def is_closure(self, agent: Agent) -> bool:
        return self.roles.role_of_id(agent.id) is not None

    def implementation_agents(self) -> list[Agent]:
        return [agent for agent in self.wave.agents if not self.is_closure(agent)]

    def closure_agents(self) -> list[Agent]:
        """Closure agents present in the wave, in the fixed order integration -> documentation -> evaluator."""
        found = (self.wave.agent(agent_id) for agent_id in self.roles.closure_order())
        return [agent for agent in found if agent is not None]

    def executor_for(self, agent: Agent) -> ResolvedExecutor:
        return resolve_executor(agent, self.role(agent), self.lane, self.options.forced_executor)

    def executor_impl(self, executor_id: str) -> Executor | None:
        return self.lookup(executor_id)

    def evaluator_report(self, agent: Agent) -> str | None:
        owned = [path for path in agent.owned if not path.endswith("/")]
        for path in owned:
            if _REPORT.search(path):
                return path
        return owned[0] if owned else None

    def owned_components(self, agent: Agent) -> dict[str, str]:
        """Components the agent declares that this wave promotes -> their target level."""
        if self.is_closure(agent):
            return {}
        promoted = self.wave.promoted
        return {component: promoted[component] for component in agent.components if component in promoted}

    def timeout_for(self, executor: ResolvedExecutor) -> float:
        if executor.budget_minutes:
            return min(self.options.agent_timeout, executor.budget_minutes * 60.0)
        return self.options.agent_timeout

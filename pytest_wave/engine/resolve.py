"""Who an agent is (its role) and which runtime runs it (its resolved executor).

The order follows the Node.js tool (agent, then profile, then the lane's per-role default, then the
lane default) so old waves pick the same runtimes; ``--wave-executor`` overrides everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pytest_wave.errors import WaveError
from pytest_wave.model.config import ExecutorProfile, LaneConfig
from pytest_wave.model.task import AgentRole
from pytest_wave.model.wave import Agent

_SPECIALISTS: tuple[AgentRole, ...] = ("infra", "deploy", "research")
_WORDS = {kind: re.compile(rf"\b{kind}\b") for kind in _SPECIALISTS}


@dataclass(frozen=True)
class RoleIds:
    evaluator: str
    integration: str
    documentation: str

    @classmethod
    def from_lane(cls, lane: LaneConfig) -> RoleIds:
        roles = lane.roles
        return cls(roles.evaluator_agent_id, roles.integration_agent_id, roles.documentation_agent_id)

    def closure_order(self) -> tuple[str, str, str]:
        """Closure runs integration -> documentation -> evaluator, always in this order."""
        return (self.integration, self.documentation, self.evaluator)

    def role_of_id(self, agent_id: str) -> AgentRole | None:
        roles: dict[str, AgentRole] = {
            self.evaluator: "evaluator",
            self.integration: "integration",
            self.documentation: "documentation",
        }
        return roles.get(agent_id)


def infer_role(agent: Agent, roles: RoleIds) -> AgentRole:
    """Closure roles by configured id, else infra/deploy/research by capability prefix or title word."""
    by_id = roles.role_of_id(agent.id)
    if by_id:
        return by_id
    title = agent.title.lower()
    capabilities = [c.lower() for c in agent.capabilities]
    for kind, word in _WORDS.items():
        if any(c.startswith(kind) for c in capabilities) or word.search(title):
            return kind
    return "implementation"


@dataclass(frozen=True)
class ResolvedExecutor:
    id: str
    selected_by: str
    model: str | None = None
    profile: str | None = None
    fallbacks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    budget_turns: int | None = None
    budget_minutes: int | None = None
    history: tuple[str, ...] = field(default=())


def role_default_key(agent: Agent, role: str, lane: LaneConfig) -> str | None:
    """The ``defaultExecutorByRole`` key that applies to ``agent`` (see ``RolesConfig.role_keys``)."""
    defaults = lane.runtime_policy.default_executor_by_role
    return next((key for key in lane.roles.role_keys(agent.id, role) if key in defaults), None)


def declared_fallbacks(agent: Agent, lane: LaneConfig) -> tuple[str, ...]:
    """Profile then agent ``fallbacks``, deduplicated, as written (the agent's own id included)."""
    spec = agent.executor
    profile = lane.executors.profiles.get(spec.profile) if spec and spec.profile else None
    return tuple(dict.fromkeys([*(profile.fallbacks if profile else []), *(spec.fallbacks if spec else [])]))


def resolve_executor(
    agent: Agent, role: str, lane: LaneConfig, forced: str | None = None, *, strict: bool = True
) -> ResolvedExecutor:
    """Agent id, then profile id, then the lane's default for ``role``, then the lane default.

    With ``strict`` an unknown profile raises; lint passes ``strict=False`` and reports it itself.
    """
    spec = agent.executor
    profile: ExecutorProfile | None = None
    profile_name = spec.profile if spec else None
    if profile_name:
        profile = lane.executors.profiles.get(profile_name)
        if profile is None and strict:
            raise WaveError(
                f'agent {agent.id} references unknown executor profile "{profile_name}"',
                line=spec.key_lines.get("profile", spec.line) if spec else agent.line,
                fix="declare it under executors.profiles in wave.config.json or [tool.wave]",
            )
    budget_turns = (spec.budget.turns if spec else None) or (profile.budget.turns if profile else None)
    budget_minutes = (spec.budget.minutes if spec else None) or (profile.budget.minutes if profile else None)
    model = (spec.model if spec else None) or (profile.model if profile else None)
    tags = tuple(dict.fromkeys([*(profile.tags if profile else []), *(spec.tags if spec else [])]))
    if forced:
        return ResolvedExecutor(
            id=forced,
            selected_by="forced",
            model=None,  # a model named for another runtime means nothing to the forced one
            profile=profile_name if profile else None,
            tags=tags,
            budget_turns=budget_turns,
            budget_minutes=budget_minutes,
        )
    if spec and spec.id:
        executor_id, selected_by = spec.id, "agent-id"
    elif profile and profile.id:
        executor_id, selected_by = profile.id, "agent-profile"
    elif (key := role_default_key(agent, role, lane)) is not None:
        executor_id, selected_by = lane.runtime_policy.default_executor_by_role[key], "lane-role-default"
    else:
        executor_id, selected_by = lane.executors.default, "lane-default"
    chain = list(declared_fallbacks(agent, lane))
    if not chain:
        chain = [e for e in lane.runtime_policy.fallback_executor_order if e != executor_id]
    return ResolvedExecutor(
        id=executor_id,
        selected_by=selected_by,
        model=model,
        profile=profile_name if profile else None,
        fallbacks=tuple(e for e in chain if e != executor_id),
        tags=tags,
        budget_turns=budget_turns,
        budget_minutes=budget_minutes,
    )

"""What the orchestrator hands one agent attempt, as data (``task.json`` in the agent's overlay dir).

Every runtime gets the rendered prompt; the deterministic ``local`` executor reads this file instead
of scraping prose, so its behaviour cannot drift with the prompt template.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_wave.model.wave import ExitContract

AgentRole = Literal["implementation", "integration", "documentation", "evaluator", "research", "infra", "deploy"]
CLOSURE_ROLES: tuple[str, ...] = ("integration", "documentation", "evaluator")


class AgentTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    wave: int | None
    wave_path: str
    lane: str
    agent_id: str
    title: str
    role: AgentRole
    executor_id: str
    attempt: int
    repo_root: str
    prompt_path: str
    log_path: str
    owned_paths: list[str] = Field(default_factory=list)
    deliverables: list[str] = Field(default_factory=list)
    # Components this agent owns -> the level the wave promotes them to.
    components: dict[str, str] = Field(default_factory=dict)
    promotions: dict[str, str] = Field(default_factory=dict)
    exit_contract: ExitContract | None = None
    evaluator_report_path: str | None = None
    component_matrix_json_path: str | None = None
    validation_commands: list[str] = Field(default_factory=list)

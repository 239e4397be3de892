"""What an agent attempt and a wave produced: the records closure and reports are built from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AgentStatus = Literal["passed", "failed", "reused", "not-run"]


class Check(BaseModel):
    """One assertion about an agent's work, checked by the orchestrator itself."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ok: bool
    expected: str
    found: str
    code: str | None = None  # reason code, e.g. ``missing-wave-proof``
    evidence: str | None = None  # a path a human can open to see why


class AgentResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    wave: int | None
    wave_path: str
    lane: str
    run_id: str
    attempt: int
    agent_id: str
    title: str
    role: str
    executor_id: str
    status: AgentStatus
    reason: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    started_at: float = 0.0
    finished_at: float = 0.0
    prompt_hash: str | None = None
    prompt_path: str | None = None
    log_path: str | None = None
    task_path: str | None = None
    markers: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "reused")

    @property
    def duration(self) -> float:
        return max(0.0, self.finished_at - self.started_at)

    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


class WaveOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    wave: int | None
    wave_path: str
    lane: str
    run_id: str
    closed: bool
    attempts: int
    reason: str | None = None
    # Agent id -> its final attempt's result.
    agents: dict[str, AgentResult] = Field(default_factory=dict)

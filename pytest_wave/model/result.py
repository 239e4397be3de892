"""What an agent attempt and a wave produced: the records closure and reports are built from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AgentStatus = Literal["passed", "failed", "reused", "not-run"]
SwitchKind = Literal["retry", "fallback"]


class Usage(BaseModel):
    """Tokens and cost as the runtime reported them (zero / None where it reports nothing)."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    turns: int | None = None

    def plus(self, other: Usage | None) -> Usage:
        if other is None:
            return self

        def add(a: float | int | None, b: float | int | None) -> float | int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        cost = add(self.cost_usd, other.cost_usd)
        turns = add(self.turns, other.turns)
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=None if cost is None else round(float(cost), 6),
            turns=None if turns is None else int(turns),
        )


def sum_usage(items: Iterable[Usage | None]) -> Usage | None:
    total: Usage | None = None
    for usage in items:
        if usage is not None:
            total = usage if total is None else total.plus(usage)
    return total


class ExecutorSwitch(BaseModel):
    """One relaunch inside an attempt: a rate-limit retry on the same runtime, or a fallback."""

    model_config = ConfigDict(extra="forbid")

    kind: SwitchKind
    from_executor: str
    to_executor: str
    reason: str  # e.g. "overloaded (HTTP 529): <the line that said so>"
    delay_seconds: float = 0.0
    at: float = 0.0
    log_path: str | None = None  # the log of the try that was given up on


class Check(BaseModel):
    """One assertion about an agent's work, checked by the orchestrator itself."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ok: bool
    expected: str
    found: str
    code: str | None = None  # reason code, e.g. ``missing-wave-proof``
    evidence: str | None = None  # a path a human can open to see why


class ReuseEvidence(BaseModel):
    """Where a reused result's proof came from: the earlier run's own result file and log."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    attempt: int
    result_path: str
    log_path: str | None = None
    finished_at: float = 0.0


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
    # Filled by real runtimes: what the CLI reported spending, and every relaunch inside the attempt.
    usage: Usage | None = None
    executor_switches: list[ExecutorSwitch] = Field(default_factory=list)
    # Resume (engine/resume.py): sha256 of each deliverable and owned file when the attempt passed,
    # a closure stage's digest of the proof it judged, and for a reused result where it came from.
    proof_hashes: dict[str, str] | None = None
    inputs_digest: str | None = None
    reused_from: ReuseEvidence | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "reused")

    @property
    def crashed(self) -> bool:
        """The agent process died from a signal nobody in the orchestrator sent (not a timeout)."""
        return self.signal is not None and not self.timed_out

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
    # Summed over every attempt of every agent in the run (None when no runtime reported usage).
    usage: Usage | None = None
    # sha256 of the wave file when the outcome was recorded (``--wave-gate`` compares it with the current file).
    wave_sha256: str | None = None

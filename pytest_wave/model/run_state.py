"""The lane's run state (``run-state.json``) and lane lock holder (``launcher.lock``).

``completedWaves`` and ``lastUpdatedAt`` are the Node.js tool's fields (artifacts.md 4.1), so either
tool can read the other's progress. ``closures`` is ours: what each closed wave's inputs were when it
closed, so a later session can tell whether the wave may be reused. Unknown keys are kept on rewrite.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field, field_validator


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class WaveClosure(BaseModel):
    """One closed wave: the run that closed it and the hashes of its inputs at that moment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    wave: int
    wave_file: str = Field(alias="waveFile")  # repository-relative
    wave_sha256: str | None = Field(None, alias="waveSha256")
    run_id: str = Field(alias="runId")
    closed_at: str = Field(alias="closedAt")
    # Deliverable path (repository-relative) -> sha256 of its bytes, or None when it did not exist.
    deliverables: dict[str, str | None] = Field(default_factory=dict)
    # "closure" (a run closed it), "reconcile" (rebuilt from a closed wave.json) or "status-files"
    # (rebuilt from the agents' status files; run_id is the run that left their latest logs)
    source: str = "closure"


class RunState(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    completed_waves: list[int] = Field(default_factory=list, alias="completedWaves")
    last_updated_at: str | None = Field(None, alias="lastUpdatedAt")
    closures: dict[str, WaveClosure] = Field(default_factory=dict)

    @field_validator("completed_waves")
    @classmethod
    def _sorted_unique(cls, value: list[int]) -> list[int]:
        if any(number < 0 for number in value):
            raise ValueError("wave numbers must be 0 or more")
        return sorted(set(value))

    def closure(self, number: int) -> WaveClosure | None:
        return self.closures.get(str(number))


class LockHolder(BaseModel):
    """``launcher.lock``: the Node.js tool's fields plus ``host`` (so another machine is recognised)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    lane: str
    pid: int
    host: str = ""
    started_at: str = Field(alias="startedAt")
    argv: list[str] = Field(default_factory=list)
    cwd: str = ""
    mode: str = "launch"
    run_id: str | None = Field(None, alias="runId")

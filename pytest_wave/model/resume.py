"""How a run started (``results/wave-N/<run-id>/resume.json``): what it inherited and what it cleaned up."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoppedProcess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pid: int
    agent_id: str = ""
    run_id: str = ""
    pid_file: str


class RunStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    run_id: str
    fresh: bool = False  # --wave-fresh: nothing of earlier runs was reused
    # The run whose baseline this run kept (an earlier run of the wave that did not close), if any.
    baseline_from: str | None = None
    # Why an unfinished run's baseline was not kept: another wave ran since ("<run>: wave-N (run R) ran since").
    baseline_dropped: str | None = None
    stopped: list[StoppedProcess] = Field(default_factory=list)
    # Agent logs of runs that died before their verdict, redacted now (paths under the state folder).
    logs_redacted: list[str] = Field(default_factory=list)

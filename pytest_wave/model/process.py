"""The record of a live agent process (``<state_dir>/pids/<safe>.proc.json``, next to ``<safe>.pid``).

The plain ``.pid`` file (the pid alone) is what dashboards read; this record adds what is needed to
stop the process safely after its owner died: the start time (a recycled pid is somebody else's
process) and the process that owns it (an agent whose owner still runs is not an orphan).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AgentProcessRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    pid: int
    create_time: float  # psutil's create_time() of ``pid``: identifies the process, not just the number
    owner_pid: int  # the pytest process (controller or xdist worker) that launched it and waits for it
    owner_create_time: float
    run_id: str = ""
    agent_id: str = ""
    attempt: int = 0

"""The executor protocol: one object per runtime that turns an agent attempt into a real process.

An executor only *builds* the launch (argv, env, overlay files) and reads markers back from the log;
the engine runs the process, so timeouts, tree kills and logs behave the same for every runtime.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pytest_wave.model.config import LaneConfig
from pytest_wave.model.markers import MarkerScan
from pytest_wave.model.task import AgentTask


@dataclass(frozen=True)
class LaunchRequest:
    task: AgentTask
    task_path: Path
    prompt_path: Path
    overlay_dir: Path
    repo_root: Path
    lane: LaneConfig
    model: str | None = None


@dataclass
class LaunchSpec:
    executor_id: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)  # added to the orchestrator's environment
    stdin_path: Path | None = None
    overlay_files: dict[str, str] = field(default_factory=dict)  # overlay-dir-relative name -> text

    def preview(self) -> dict[str, Any]:
        """The exact launch as data, for dry runs and reports."""
        return {
            "executorId": self.executor_id,
            "command": self.argv,
            "cwd": str(self.cwd),
            "env": dict(sorted(self.env.items())),
            "stdin": str(self.stdin_path) if self.stdin_path else None,
            "overlayFiles": sorted(self.overlay_files),
        }


class Executor(Protocol):
    id: str

    def command(self, lane: LaneConfig) -> str:
        """The program this runtime needs on PATH (an absolute path is taken as is)."""
        ...

    def build_launch(self, request: LaunchRequest) -> LaunchSpec: ...

    def scan_output(self, log_path: Path) -> MarkerScan: ...


def find_command(command: str) -> str | None:
    """Absolute path of ``command`` if it can be run, else None."""
    if "/" in command:
        path = Path(command)
        return str(path) if path.is_file() else None
    return shutil.which(command)

"""The built-in ``local`` runtime: a deterministic Python program, no model, real subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

from pytest_wave.engine.markers import scan_log
from pytest_wave.executors.base import LaunchRequest, LaunchSpec
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.markers import MarkerScan


class LocalExecutor:
    id = "local"

    def command(self, lane: LaneConfig) -> str:
        return sys.executable

    def build_launch(self, request: LaunchRequest) -> LaunchSpec:
        return LaunchSpec(
            executor_id=self.id,
            argv=[sys.executable, "-m", "pytest_wave.executors.local_agent", "--task-file", str(request.task_path)],
            cwd=request.repo_root,
        )

    def scan_output(self, log_path: Path) -> MarkerScan:
        return scan_log(log_path)

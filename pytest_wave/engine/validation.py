"""Validation commands, run by the orchestrator itself: an agent saying "tests pass" is not proof."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_wave.engine.process import run_process
from pytest_wave.model.result import Check


def _shell() -> list[str]:
    return ["/bin/bash", "-c"] if Path("/bin/bash").exists() else ["/bin/sh", "-c"]


def run_validation(
    commands: Sequence[str],
    *,
    cwd: Path,
    log_dir: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> list[Check]:
    checks: list[Check] = []
    for index, command in enumerate(commands, start=1):
        digest = hashlib.sha1(command.encode()).hexdigest()[:8]
        log = log_dir / f"validation-{index}-{digest}.log"
        result = run_process([*_shell(), command], cwd=cwd, log_path=log, env=env or os.environ, timeout=timeout)
        checks.append(
            Check(
                name=f"validation `{command}`",
                ok=result.ok,
                expected="exit 0",
                found=result.describe(),
                code=None if result.ok else ("validation-timeout" if result.timed_out else "validation-failed"),
                evidence=str(log),
            )
        )
    return checks

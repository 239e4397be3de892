"""Pid files of running agents: ``pids/<safe>.pid`` (the pid alone) and ``pids/<safe>.proc.json``.

The record next to the pid file says which process it is (pid + start time) and which pytest process
owns it, so a later run can tell a crashed session's leftover agent (an orphan: stop it) from a
recycled pid (somebody else's process: leave it) and from a live session's agent (leave it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import psutil
from pydantic import ValidationError

from pytest_wave.engine.files import write_model
from pytest_wave.model.process import AgentProcessRecord


def record_path(pid_path: Path) -> Path:
    return pid_path.with_name(pid_path.stem + ".proc.json")


def create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def write_record(pid_path: Path, pid: int, env: Mapping[str, str] | None) -> None:
    """Record ``pid`` (just started by this process) next to its pid file; best effort."""
    started = create_time(pid)
    owner = os.getpid()
    owner_started = create_time(owner)
    if started is None or owner_started is None:
        return  # already gone: nothing will be left behind
    env = env or {}
    attempt = env.get("WAVE_ATTEMPT", "")
    record = AgentProcessRecord(
        pid=pid,
        create_time=started,
        owner_pid=owner,
        owner_create_time=owner_started,
        run_id=env.get("WAVE_RUN_ID", ""),
        agent_id=env.get("WAVE_AGENT_ID", ""),
        attempt=int(attempt) if attempt.isdigit() else 0,
    )
    with contextlib.suppress(OSError):
        write_model(record_path(pid_path), record)


def read_record(pid_path: Path) -> AgentProcessRecord | None:
    try:
        return AgentProcessRecord.model_validate_json(record_path(pid_path).read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def remove(pid_path: Path) -> None:
    for path in (pid_path, record_path(pid_path)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

"""Orphaned agents: real processes in their own sessions, real pid files, real signals."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pytest_wave.engine import pidfiles
from pytest_wave.engine.files import write_model
from pytest_wave.engine.orphans import stop_orphans
from pytest_wave.model.process import AgentProcessRecord

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def agent() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _gone(proc: subprocess.Popen[bytes]) -> bool:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return True


def _dead_owner() -> tuple[int, float]:
    """A pid and start time of a process that has exited (the killed pytest worker)."""
    owner = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    started = psutil.Process(owner.pid).create_time()
    owner.communicate(b"")
    return owner.pid, started


def _pid_file(state: Path, name: str, pid: int, owner: tuple[int, float] | None, *, skew: float = 0.0) -> Path:
    path = state / "pids" / f"{name}.pid"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n")
    if owner is not None:
        record = AgentProcessRecord(
            pid=pid,
            create_time=psutil.Process(pid).create_time() + skew,
            owner_pid=owner[0],
            owner_create_time=owner[1],
            run_id="20260101T000000-abcdef",
            agent_id="A1",
            attempt=1,
        )
        write_model(pidfiles.record_path(path), record)
    return path


def test_an_agent_whose_owner_died_is_stopped(tmp_path: Path, agent: subprocess.Popen[bytes]) -> None:
    path = _pid_file(tmp_path, "wave-1-1-a1", agent.pid, _dead_owner())
    stopped = stop_orphans(tmp_path, prefix="wave-1-", grace=1.0)
    assert [(s.pid, s.agent_id, s.run_id) for s in stopped] == [(agent.pid, "A1", "20260101T000000-abcdef")]
    assert _gone(agent)
    assert not path.exists() and not pidfiles.record_path(path).exists()


def test_a_live_sessions_agent_is_left_alone(tmp_path: Path, agent: subprocess.Popen[bytes]) -> None:
    me = (os.getpid(), psutil.Process().create_time())
    path = _pid_file(tmp_path, "wave-1-1-a1", agent.pid, me)
    assert stop_orphans(tmp_path, grace=1.0) == []
    assert agent.poll() is None and path.exists()


def test_a_recycled_pid_is_never_killed(tmp_path: Path, agent: subprocess.Popen[bytes]) -> None:
    # The record says the agent started 50 s earlier than the process now holding that pid.
    path = _pid_file(tmp_path, "wave-1-1-a1", agent.pid, _dead_owner(), skew=-50.0)
    assert stop_orphans(tmp_path, grace=1.0) == []
    assert agent.poll() is None, "somebody else's process was killed"
    assert not path.exists(), "the stale pid file stays behind"


def test_only_the_named_agent_or_wave(tmp_path: Path, agent: subprocess.Popen[bytes]) -> None:
    owner = _dead_owner()
    _pid_file(tmp_path, "wave-1-1-a1", agent.pid, owner)
    assert stop_orphans(tmp_path, name="wave-1-1-a10", grace=1.0) == []
    assert stop_orphans(tmp_path, prefix="wave-10-", grace=1.0) == []
    assert agent.poll() is None
    assert [s.name for s in stop_orphans(tmp_path, name="wave-1-1-a1", grace=1.0)] == ["wave-1-1-a1"]
    assert _gone(agent)


def test_a_pid_file_without_a_record_needs_our_environment(tmp_path: Path, agent: subprocess.Popen[bytes]) -> None:
    path = _pid_file(tmp_path, "wave-1-1-a1", agent.pid, None)  # no WAVE_STATE_DIR in its environment
    assert stop_orphans(tmp_path, grace=1.0) == []
    assert agent.poll() is None and path.exists()
    agent.kill()
    agent.wait()
    assert stop_orphans(tmp_path, grace=1.0) == []
    assert not path.exists(), "a pid file of a process that is gone is removed"


def test_run_process_writes_and_removes_the_record(tmp_path: Path) -> None:
    from pytest_wave.engine.process import run_process

    pid_path = tmp_path / "pids" / "wave-1-1-a1.pid"
    script = f"import pathlib; print(pathlib.Path({str(pidfiles.record_path(pid_path))!r}).read_text())"
    env = {**os.environ, "WAVE_RUN_ID": "r1", "WAVE_AGENT_ID": "A1", "WAVE_ATTEMPT": "2"}
    result = run_process(
        [sys.executable, "-c", script], cwd=tmp_path, log_path=tmp_path / "log", env=env, pid_path=pid_path
    )
    assert result.ok
    record = AgentProcessRecord.model_validate_json((tmp_path / "log").read_text())
    assert (record.pid, record.owner_pid, record.run_id, record.agent_id, record.attempt) == (
        result.pid,
        os.getpid(),
        "r1",
        "A1",
        2,
    )
    assert not pid_path.exists() and not pidfiles.record_path(pid_path).exists()

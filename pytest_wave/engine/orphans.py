"""Find and stop agent processes a killed run left behind, before anything is relaunched.

Agents run in their own sessions (so a timeout can kill their whole tree), which also means that a
``kill -9`` of pytest and its workers leaves them running: still writing into the tree, still
spending. Each live agent has ``pids/<safe>.pid`` plus a record (:mod:`pytest_wave.engine.pidfiles`).
A pid file is judged like this:

* the process is gone, or the pid now belongs to another process (different start time): stale
  files, removed;
* the process that launched it (a pytest controller or xdist worker) still runs: a live session's
  agent, left alone;
* otherwise it is an orphan: its whole tree is stopped (SIGTERM, grace, SIGKILL) and the files removed.

A pid file without a record (its owner died between the two writes) is trusted only when the process
carries this lane's ``WAVE_STATE_DIR`` in its environment and its parent is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil

from pytest_wave.engine import pidfiles
from pytest_wave.engine.process import kill_tree


@dataclass(frozen=True)
class StoppedOrphan:
    name: str  # the pid file's stem: wave-<n>-<slug>
    pid: int
    agent_id: str
    run_id: str
    exit_code: int | None

    def describe(self) -> str:
        who = self.agent_id or self.name
        run = f" of run {self.run_id}" if self.run_id else ""
        return f"{who}{run} (pid {self.pid})"


def _same_process(pid: int, started: float) -> psutil.Process | None:
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def _alive(pid: int, started: float) -> bool:
    return _same_process(pid, started) is not None


def _legacy_orphan(pid: int, state_dir: Path) -> bool:
    """A pid file without a record: ours only if the environment says so and its parent is gone."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if proc.environ().get("WAVE_STATE_DIR") != str(state_dir):
            return False
        parent = proc.parent()
        return parent is None or parent.pid == 1 or parent.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _pid_of(pid_path: Path) -> int | None:
    try:
        text = pid_path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def stop_orphans(
    state_dir: Path, *, prefix: str = "", name: str | None = None, grace: float = 3.0
) -> list[StoppedOrphan]:
    """Stop every orphaned agent recorded under ``state_dir/pids``: those whose pid file's name
    (``wave-<n>-<slug>``) starts with ``prefix``, or only ``name``."""
    stopped: list[StoppedOrphan] = []
    folder = state_dir / "pids"
    if not folder.is_dir():
        return stopped
    for pid_path in sorted(folder.glob("*.pid")):
        if not pid_path.stem.startswith(prefix) or (name is not None and pid_path.stem != name):
            continue
        pid = _pid_of(pid_path)
        if pid is None:
            continue  # being written, or not ours to judge
        record = pidfiles.read_record(pid_path)
        if record is not None and record.pid == pid:
            if _same_process(pid, record.create_time) is None:
                pidfiles.remove(pid_path)  # exited, or the pid was recycled: not ours to kill
                continue
            if _alive(record.owner_pid, record.owner_create_time):
                continue  # a live session still waits for it
        elif not _legacy_orphan(pid, state_dir):
            if not psutil.pid_exists(pid):
                pidfiles.remove(pid_path)
            continue
        code = kill_tree(pid, grace=grace)
        pidfiles.remove(pid_path)
        stopped.append(
            StoppedOrphan(
                name=pid_path.stem,
                pid=pid,
                agent_id=record.agent_id if record else "",
                run_id=record.run_id if record else "",
                exit_code=code,
            )
        )
    return stopped

"""One live run per lane: an OS file lock plus a holder file that says who holds it.

The lock itself is :class:`filelock.FileLock` on ``launcher.lock.flock`` (``flock``), which the kernel
releases when the holding process dies, even on ``kill -9``: a crashed run never blocks the next one.
``launcher.lock`` is the holder file, in the Node.js tool's shape (``{lane,pid,startedAt,argv,cwd,mode}``)
plus ``host``, so a message can name the holder, and so the Node.js launcher (which checks that file
and its pid) and pytest-wave also keep out of each other's way.

A holder file whose owner is gone is stale and is taken over: on this host when its pid is dead (or
was reused by a newer process); from another host (a shared state folder) when it is older than
:data:`FOREIGN_HOLDER_STALE_SECONDS`, since its pid cannot be checked from here.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from filelock import FileLock, Timeout
from pydantic import ValidationError

from pytest_wave.engine.files import write_text_atomic
from pytest_wave.errors import WaveError
from pytest_wave.model.run_state import LockHolder, now_iso

EXIT_LANE_BUSY = 32  # the Node.js launcher's exit code for "another live launcher holds the lane lock"
FOREIGN_HOLDER_STALE_SECONDS = 24 * 3600.0


class LaneBusy(WaveError):
    """Another live run holds the lane."""

    def __init__(self, lane: str, holder: LockHolder | None, path: Path) -> None:
        who = describe(holder) if holder else "another process (its holder file is unreadable)"
        super().__init__(
            f"lane {lane} is busy: another run holds it: {who}",
            path=path,
            fix="wait for that run to finish, or run in another lane with --wave-lane NAME",
        )
        self.holder = holder


def describe(holder: LockHolder) -> str:
    command = " ".join(holder.argv)[:200]
    where = f" on {holder.host}" if holder.host else ""
    return f"pid {holder.pid}{where}, started {holder.started_at}" + (f", running: {command}" if command else "")


def read_holder(path: Path) -> LockHolder | None:
    try:
        return LockHolder.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return None


def _epoch(stamp: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def holder_alive(holder: LockHolder, *, now: float | None = None) -> bool:
    """Whether ``holder`` may still be running (see the module docstring for the stale rules)."""
    started = _epoch(holder.started_at)
    if holder.host and holder.host != socket.gethostname():
        if started is None:
            return False
        return (now or time.time()) - started < FOREIGN_HOLDER_STALE_SECONDS
    try:
        process = psutil.Process(holder.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        # A newer process that reused the pid is not the holder (2 s of clock slack).
        return started is None or process.create_time() <= started + 2.0
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


@dataclass
class LaneLock:
    state_dir: Path
    lane: str
    taken_over: LockHolder | None = None
    _lock: FileLock | None = field(default=None, repr=False)

    @property
    def holder_path(self) -> Path:
        return self.state_dir / "launcher.lock"

    def acquire(self, *, run_id: str, argv: list[str], cwd: Path) -> None:
        """Take the lane or raise :class:`LaneBusy` at once (never waits)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.state_dir / "launcher.lock.flock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise LaneBusy(self.lane, read_holder(self.holder_path), self.holder_path) from None
        previous = read_holder(self.holder_path)
        if previous is not None and previous.pid != os.getpid() and holder_alive(previous):
            # Not holding our OS lock but alive: the Node.js launcher (or a run on another host).
            lock.release()
            raise LaneBusy(self.lane, previous, self.holder_path)
        self.taken_over = previous if previous is not None and previous.pid != os.getpid() else None
        holder = LockHolder(
            lane=self.lane,
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=now_iso(),
            argv=argv,
            cwd=str(cwd),
            mode="launch",
            run_id=run_id,
        )
        try:
            write_text_atomic(self.holder_path, holder.model_dump_json(by_alias=True, indent=2) + "\n")
        except OSError:
            lock.release()
            raise
        self._lock = lock

    def release(self) -> None:
        if self._lock is None:
            return
        holder = read_holder(self.holder_path)
        if holder is not None and holder.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.holder_path.unlink()
        self._lock.release()
        self._lock = None

    @property
    def held(self) -> bool:
        return self._lock is not None

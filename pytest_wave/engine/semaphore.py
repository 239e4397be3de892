"""A counting semaphore shared by every process of a run: N slot lock files under the lane's state.

Concurrency limits belong to the engine, not to the number of xdist workers: workers are cheap,
agent CLIs are not, and xdist hands out items statically when there are few of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

POLL_SECONDS = 0.05


@contextmanager
def slot(lock_dir: Path, name: str, slots: int) -> Iterator[int]:
    """Hold one of ``slots`` cross-process slots named ``name`` for the duration of the block."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    locks = [FileLock(str(lock_dir / f"{name}.slot-{i}.lock")) for i in range(max(1, slots))]
    while True:
        for index, lock in enumerate(locks):
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                yield index
            finally:
                lock.release()
            return
        time.sleep(POLL_SECONDS)

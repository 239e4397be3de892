"""Engine parts of multi-wave sessions: numbering checks, run state (corrupt, reuse), the lane lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_wave.engine import run_state
from pytest_wave.engine.lane_lock import FOREIGN_HOLDER_STALE_SECONDS, LaneBusy, LaneLock, holder_alive
from pytest_wave.engine.session_order import PlannedWave, check_numbering, heading_number
from pytest_wave.model.run_state import LockHolder


def _wave(folder: Path, name: str, heading: str) -> PlannedWave:
    path = folder / name
    path.write_text(f"{heading}\n\nprose\n\n## Agent A1: x\n")
    number = int(name.split("-")[1].split(".")[0]) if name.split("-")[1].split(".")[0].isdigit() else None
    return PlannedWave(key=str(path), shown=f"waves/{name}", number=number)


def test_numbering_problems_name_the_files(tmp_path: Path) -> None:
    ok = [_wave(tmp_path, "wave-0.md", "# Wave 0 - a"), _wave(tmp_path, "wave-1.md", "# Wave 1 - b")]
    assert check_numbering(ok, set()) == []
    gap = [ok[0], _wave(tmp_path, "wave-3.md", "# Wave 3 - c")]
    (problem,) = check_numbering(gap, set())
    assert "waves/wave-0.md (wave 0) is followed by waves/wave-3.md (wave 3); missing: wave 1, 2" in problem
    assert check_numbering(gap, {1, 2}) == []  # completed earlier (their files archived): no gap
    wrong = _wave(tmp_path, "wave-2.md", "# Wave 5 - d")
    (problem,) = check_numbering([ok[1], wrong], set())
    assert problem.startswith("waves/wave-2.md:1: the file name says wave 2 but the heading says wave 5")
    twin = PlannedWave(key=str(tmp_path / "wave-example.md"), shown="waves/wave-example.md", number=1)
    (tmp_path / "wave-example.md").write_text("# Wave 1 - twin\n")
    (problem,) = check_numbering([ok[1], twin], set())
    assert problem.startswith("waves/wave-1.md and waves/wave-example.md are all wave 1")
    assert heading_number(tmp_path / "wave-2.md") == (5, 1)


def test_corrupt_run_state_is_reported_not_discarded(tmp_path: Path) -> None:
    path = tmp_path / "run-state.json"
    assert run_state.load(path).completed_waves == []
    path.write_text('{"completedWaves": [0, -1]}')
    with pytest.raises(run_state.RunStateError) as info:
        run_state.load(path)
    assert "run-state.json: error: run state is corrupt" in info.value.one_line()
    assert "--wave-reconcile" in info.value.one_line()
    path.write_text('{"completedWaves": [2, 0, 2], "lastUpdatedAt": "x", "nodeOnly": true}')
    state = run_state.load(path)
    assert state.completed_waves == [0, 2]
    run_state.save(path, state)
    saved = json.loads(path.read_text())
    assert saved["completedWaves"] == [0, 2] and saved["nodeOnly"] is True  # unknown keys survive a rewrite


def test_second_lock_in_a_lane_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = LaneLock(tmp_path, "main")
    first.acquire(run_id="r1", argv=["pytest", "waves"], cwd=tmp_path)
    try:
        with pytest.raises(LaneBusy) as info:
            LaneLock(tmp_path, "main").acquire(run_id="r2", argv=["pytest"], cwd=tmp_path)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in info.value.one_line()
        assert "running: pytest waves" in info.value.one_line()
    finally:
        first.release()
    assert not (tmp_path / "launcher.lock").exists()
    again = LaneLock(tmp_path, "main")
    again.acquire(run_id="r3", argv=[], cwd=tmp_path)
    again.release()


def test_stale_holders_do_not_block(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    holder = LockHolder(lane="main", pid=dead.pid, host=socket.gethostname(), started_at=stamp)
    (tmp_path / "launcher.lock").write_text(holder.model_dump_json(by_alias=True))
    lock = LaneLock(tmp_path, "main")
    lock.acquire(run_id="r", argv=[], cwd=tmp_path)
    assert lock.taken_over is not None and lock.taken_over.pid == dead.pid
    lock.release()
    # Another host: trusted while recent, stale once older than the documented limit.
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - FOREIGN_HOLDER_STALE_SECONDS - 60))
    assert holder_alive(LockHolder(lane="main", pid=1, host="elsewhere", started_at=stamp))
    assert not holder_alive(LockHolder(lane="main", pid=1, host="elsewhere", started_at=old))
    # A live pid that started after the holder file was written is a reused pid, not the holder.
    ancient = "2000-01-01T00:00:00Z"
    assert not holder_alive(LockHolder(lane="main", pid=os.getpid(), host=socket.gethostname(), started_at=ancient))

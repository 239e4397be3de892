"""One live run per lane: a second run exits at once naming the holder; a killed run's lock does not
block the next one; the orchestrator board records both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from e2ekit import STATE, WaveState, assert_no_traceback, make_repo, output, run_wave, wave_text

from pytest_wave.engine.lane_lock import EXIT_LANE_BUSY

pytestmark = pytest.mark.slow


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_second_run_in_a_lane_is_refused_and_a_killed_run_does_not_block(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    holder_file = repo / STATE / "launcher.lock"
    env = {**os.environ, "WAVE_LOCAL_FAULTS": "A1=hang"}
    with (pytester.path / "first.out").open("w") as sink:
        first = subprocess.Popen(
            [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider"],
            cwd=repo,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(lambda: holder_file.exists() and any((repo / STATE).glob("logs/*.log")))
        holder = json.loads(holder_file.read_text())
        assert holder["pid"] == first.pid and holder["lane"] == "main" and holder["host"]

        started = time.monotonic()
        second = run_wave(pytester, "waves/wave-1.md")
        assert second.ret == EXIT_LANE_BUSY, output(second)
        assert time.monotonic() - started < 30  # at once: it does not wait for the holder
        assert_no_traceback(second)
        assert f"lane main is busy: another run holds it: pid {first.pid}" in output(second)
        assert not WaveState(repo).outcomes(), "the refused run recorded an outcome"

        # kill -9 the holder (and its hanging agent): its holder file stays behind, stale.
        tree = [first.pid, *(child.pid for child in psutil.Process(first.pid).children(recursive=True))]
        for pid in tree:
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    assert json.loads(holder_file.read_text())["pid"] == first.pid

    third = run_wave(pytester, "waves/wave-1.md")
    assert third.ret == 0, output(third)
    assert not holder_file.exists(), "the lane was not released at the end of the run"
    board = (repo / ".tmp" / "wave-orchestrator" / "messageboards" / "orchestrator.md").read_text()
    assert board.startswith("# Orchestrator Coordination Board")
    assert "- Event: launcher_lock_blocked." in board
    assert f"took over a stale lock of pid {first.pid}" in board
    assert "- Event: wave_complete." in board
    lanes = (repo / ".tmp" / "wave-orchestrator" / "messageboards" / "lanes.md").read_text()
    assert "| main | none | 1 |" in lanes

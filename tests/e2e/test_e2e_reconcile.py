"""``--wave-reconcile`` from status files (lifecycle.md 7.11): real runs, real ``kill -9``, real files.

One repository, five waves, each left in another state by real ``pytest`` runs:

* wave 0: SIGKILLed at the end of its closure attempt (every agent finished and recorded, nothing
  decided yet), so no ``wave.json`` says it closed: added from its status files;
* wave 1: A1 exited non-zero: ``nonzero-status`` (and closure never ran: ``missing-status``);
* wave 2: closed, then its A1 prompt was edited and ``run-state.json`` lost: ``prompt-hash-mismatch``;
  with the prompt restored, its closed ``wave.json`` (the stronger evidence) adds it "from results";
* wave 3: its process tree SIGKILLed while the orchestrator ran the evaluator's validation command,
  and an agent's human escalation is open: ``validation-unproven`` and ``open-human-escalation``;
* wave 4: every agent exited 0, but the evaluator's log blocks the gate: ``invalid-evaluator-summary``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from e2ekit import STATE, WaveState, assert_no_traceback, fault_env, make_repo, output, run_wave, wave_text

pytestmark = pytest.mark.slow

N0 = ("-n", "0")  # one wave of one implementation agent needs no xdist workers
SLOW_VALIDATION = "- `sleep 300`"  # the evaluator's validation: the window in which the run is killed
ESCALATION = ("--kind", "human-escalation", "--summary", "Which database may the wave drop?")


# The kill point of wave 0: a conftest of the repository SIGKILLs pytest itself (no cleanup of any kind)
# when the closure attempt of the wave named in KILL_ENV has ended, before closure is decided.
KILL_ENV = "E2E_KILL_AT_ATTEMPT_END"
CONFTEST = f"""\
import os
import signal


def pytest_wave_attempt_finished(wave_path):
    if os.path.basename(wave_path) == os.environ.get("{KILL_ENV}"):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_at_attempt_end(repo: Path, wave: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", f"waves/wave-{wave}.md", "-p", "no:cacheprovider", *N0],
        cwd=repo,
        env={**fault_env(), KILL_ENV: f"wave-{wave}.md"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr


def _killable(number: int) -> str:
    """A wave whose evaluator, once its process exited (status written), runs a long validation command."""
    text = wave_text(number)
    return text.replace("Gate the wave.\n", f"Gate the wave.\n\nValidation:\n{SLOW_VALIDATION}\n", 1)


def _killed_during_validation(repo: Path, wave: int) -> None:
    """Run the wave and SIGKILL its whole process tree once the evaluator's status file exists."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", f"waves/wave-{wave}.md", "-p", "no:cacheprovider", *N0],
        cwd=repo,
        env=fault_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    status = repo / STATE / "status" / f"wave-{wave}-{wave}-a0.status"
    deadline = time.monotonic() + 120
    try:
        while not status.exists():
            assert proc.poll() is None, "pytest ended before the evaluator's status file appeared"
            assert time.monotonic() < deadline, "the evaluator never finished"
            time.sleep(0.05)
    finally:
        # The whole tree: pytest, and its validation command (which runs in a session of its own).
        tree = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def _post_human_escalation(repo: Path, wave: int) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_wave.cli", "coord", "post", "--wave", str(wave), "--agent", "A1", *ESCALATION],
        cwd=repo,
        env=fault_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(result.stdout)
    assert record["kind"] == "human-escalation" and record["status"] == "open"
    return str(record["id"])


def _line(text: str, prefix: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(found) == 1, f"expected one line starting {prefix!r}:\n{text}"
    return found[0]


def test_reconcile_rebuilds_from_status_files_and_says_why_not(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(
        pytester, monkeypatch, {0: wave_text(0), 1: wave_text(1), 2: wave_text(2), 3: _killable(3), 4: wave_text(4)}
    )
    (repo / "conftest.py").write_text(CONFTEST)
    state = WaveState(repo)

    _killed_at_attempt_end(repo, 0)
    assert not list(state.state_dir.glob("results/wave-0/*/wave.json")), "the killed run recorded an outcome"
    assert sorted(p.name for p in state.state_dir.glob("status/wave-0-*.status")) == [
        "wave-0-0-a0.status",
        "wave-0-0-a1.status",
        "wave-0-0-a8.status",
        "wave-0-0-a9.status",
    ]

    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "wave-1:A1=exit-nonzero")
    failed = run_wave(pytester, "waves/wave-1.md", "--wave-max-retries", "0", *N0)
    assert failed.ret == 1, output(failed)
    monkeypatch.delenv("WAVE_LOCAL_FAULTS")

    closed = run_wave(pytester, "waves/wave-2.md", *N0)
    assert closed.ret == 0, output(closed)
    wave_2 = repo / "waves" / "wave-2.md"
    original = wave_2.read_text()
    wave_2.write_text(original.replace("Write part 1.", "Write part 1, with tests.", 1))
    (state.state_dir / "run-state.json").unlink()  # lost: reconcile must rebuild it

    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "wave-4:A0=wrong-markers")
    blocked = run_wave(pytester, "waves/wave-4.md", "--wave-max-retries", "0", *N0)
    assert blocked.ret == 1, output(blocked)
    monkeypatch.delenv("WAVE_LOCAL_FAULTS")

    _killed_during_validation(repo, 3)
    escalation = _post_human_escalation(repo, 3)  # A1 asks a human; the operator answers nothing yet

    rebuilt = run_wave(pytester, "waves", "--wave-reconcile")
    assert rebuilt.ret == 0, output(rebuilt)
    assert_no_traceback(rebuilt)
    text = output(rebuilt)
    assert "[reconcile] added from results: none" in text
    assert "[reconcile] added from status files: 0" in text
    assert "[reconcile] completed waves now: 0" in text
    assert "wave 0 not reconstructable" not in text
    one = _line(text, "[reconcile] wave 1 not reconstructable: ")
    assert "nonzero-status=A1 (code 3)" in one
    assert "missing-status=A8, A9, A0" in one  # closure never ran after A1 failed
    two = _line(text, "[reconcile] wave 2 not reconstructable: ")
    assert two.endswith(" not reconstructable: prompt-hash-mismatch=A1 (its prompt changed since its last launch)")
    three = _line(text, "[reconcile] wave 3 not reconstructable: ")
    assert three == (
        "[reconcile] wave 3 not reconstructable: validation-unproven=A0 (its validation commands did not finish: "
        f"no result was recorded); open-human-escalation={escalation}"
    )
    four = _line(text, "[reconcile] wave 4 not reconstructable: ")
    assert four.endswith(": invalid-evaluator-summary=A0 (gate-architecture-blocked: gate architecture found blocked)")
    recorded = state.run_state()
    assert recorded["completedWaves"] == [0]
    closure = recorded["closures"]["0"]
    assert closure["source"] == "status-files"
    assert closure["runId"] == next(state.state_dir.glob("results/wave-0/*")).name  # the killed run

    # The prompt as it was when wave 2 closed: its closed wave.json (stronger evidence) adds it.
    wave_2.write_text(original)
    again = run_wave(pytester, "waves", "--wave-reconcile")
    assert again.ret == 0, output(again)
    text = output(again)
    assert "[reconcile] added from results: 2" in text
    assert "[reconcile] added from status files: none" in text
    assert "[reconcile] completed waves now: 0, 2" in text
    assert state.run_state()["closures"]["2"]["source"] == "reconcile"

    # Edited again: no longer reconstructable, yet reconcile only ever adds: wave 2 stays complete.
    wave_2.write_text(original.replace("Write part 1.", "Write part 1, with tests.", 1))
    kept = run_wave(pytester, "waves", "--wave-reconcile")
    text = output(kept)
    two = _line(text, "[reconcile] wave 2 not reconstructable: ")
    assert two.endswith("(it stays in completedWaves: reconcile never removes a wave)")
    assert "[reconcile] completed waves now: 0, 2" in text
    assert state.run_state()["completedWaves"] == [0, 2]

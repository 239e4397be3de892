"""Resume after ``kill -9``: real pytest process groups, real signals, real orphaned agents.

Each test starts ``pytest waves/wave-1.md`` in its own session, waits until a chosen agent hangs
(the local executor's ``hang`` fault), SIGKILLs the whole process group (controller and xdist
workers; agents run in sessions of their own and survive as orphans), then runs the same command
again and checks what was reused, what ran again, that the orphan was stopped, and that the
coordination log kept every record written before the kill exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from e2ekit import STATE, fault_env, make_repo, process_gone, wave_text

pytestmark = pytest.mark.slow

LOG = STATE / "coordination" / "wave-1.jsonl"
CLOSURE = ("A8", "A9", "A0")
N0 = ("-n", "0")  # tests that kill nothing need no xdist workers (reruns with nothing to do start none anyway)
_VOLATILE = frozenset({"createdAt", "updatedAt"})


def _start(repo: Path, faults: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", *args],
        cwd=repo,
        env=fault_env(faults),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: what a terminal's job is
    )


def _hanging_pid(repo: Path, proc: subprocess.Popen[bytes], agent: str, done: tuple[str, ...] = ()) -> int:
    """Pid of ``agent`` once it logged that it hangs (and every agent in ``done`` has a result)."""
    state = repo / STATE
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "pytest ended before the kill point"
        logs = [p for p in state.glob("results/wave-1/*/attempt-1/*.log") if p.name.endswith(f"-{agent.lower()}.log")]
        finished = all(list(state.glob(f"results/wave-1/*/attempt-1/{other}.json")) for other in done)
        pid_file = next(iter(state.glob(f"pids/wave-1-*-{agent.lower()}.pid")), None)
        if finished and pid_file and any("hanging until killed" in p.read_text() for p in logs):
            text = pid_file.read_text().strip()
            if text.isdigit():
                return int(text)
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError(f"{agent} never reached its kill point")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # pytest and its xdist workers, no cleanup of any kind
    proc.wait(timeout=30)


def _rerun(repo: Path, *args: str, wave: tuple[str, ...] = ("waves/wave-1.md",)) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *wave, "-p", "no:cacheprovider", "-rA", *args],
        cwd=repo,
        env=fault_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def _runs(repo: Path) -> list[Path]:
    return sorted((repo / STATE / "results" / "wave-1").iterdir(), key=lambda p: p.name)


def _statuses(run: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for attempt in sorted(run.glob("attempt-*")):
        for path in attempt.glob("*.json"):
            found[path.stem] = json.loads(path.read_text())["status"]
    return found


def _comparable(record: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in record.items() if k not in _VOLATILE}, sort_keys=True)


def _assert_log_kept(before: bytes, after: bytes) -> None:
    """Every line written before the kill is still there, once, unchanged; nothing was re-appended."""
    assert after.startswith(before), "the rerun rewrote or lost records written before the kill"
    old_lines = [line for line in before.splitlines() if line.strip()]
    new_lines = [line for line in after[len(before) :].splitlines() if line.strip()]
    for line in set(old_lines):
        # (Concurrent first writers can each append one identical seed line; the rerun adds no copy.)
        assert new_lines.count(line) == 0, f"record line written again: {line[:120]!r}"
    latest: dict[str, str] = {}
    for line in old_lines:
        record = json.loads(line)
        latest[record["id"]] = _comparable(record)
    for line in new_lines:
        record = json.loads(line)
        assert latest.get(record["id"]) != _comparable(record), f"record {record['id']} appended again unchanged"
        latest[record["id"]] = _comparable(record)


KILL_POINTS = {
    # name: (fault, agent that hangs, agents with a result before the kill, expected reused on rerun)
    "implementation": ("A2=hang", "A2", ("A1",), {"A1"}),
    "integration-A8": ("A8=hang", "A8", ("A1", "A2"), {"A1", "A2"}),
    "evaluator-A0": ("A0=hang", "A0", ("A1", "A2", "A8", "A9"), {"A1", "A2", "A8", "A9"}),
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_kill_9_then_rerun_resumes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    fault, hanging, done, reused = KILL_POINTS[point]
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    proc = _start(repo, fault, "-n", "2", "--wave-agent-timeout", "300")
    orphan = _hanging_pid(repo, proc, hanging, done)
    _kill_group(proc)
    assert not process_gone(orphan), "the agent runs in its own session: kill -9 of pytest leaves it behind"
    before = (repo / LOG).read_bytes()
    [killed_run] = _runs(repo)
    assert not (killed_run / "wave.json").exists()

    result = _rerun(repo)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "wave waves/wave-1.md: CLOSED" in out
    assert process_gone(orphan), "the orphaned agent of the killed run still runs"
    assert f"stopped 1 orphaned agent process(es) of a dead session: {hanging} of run {killed_run.name}" in out
    assert f"kept the baseline of unfinished run {killed_run.name}" in out

    new_run = _runs(repo)[-1]
    statuses = _statuses(new_run)
    assert {a for a, s in statuses.items() if s == "reused"} == reused, statuses
    assert all(s == "passed" for a, s in statuses.items() if a not in reused), statuses
    assert set(statuses) == {"A1", "A2", *CLOSURE}
    for agent in reused:
        data = json.loads((new_run / "attempt-1" / f"{agent}.json").read_text())
        assert data["reused_from"]["run_id"] == killed_run.name
        assert Path(data["reused_from"]["result_path"]).is_file()
        assert f"PASSED waves/wave-1.md::{agent}" not in out  # reported as reused, not as a fresh pass
    assert f"{len(reused)} reused" in out
    _assert_log_kept(before, (repo / LOG).read_bytes())


def test_rerun_of_a_closed_wave_reuses_everything_and_fresh_reruns_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    first = _rerun(repo, *N0)
    assert first.returncode == 0, first.stdout
    before = (repo / LOG).read_bytes()
    # Nothing changed at all: the session reports the closed wave reused whole and starts nothing.
    same = _rerun(repo, *N0)
    assert same.returncode == 0 and "reused" in same.stdout, same.stdout
    assert not any(s == "passed" for run in _runs(repo)[1:] for s in _statuses(run).values())
    assert (repo / LOG).read_bytes() == before

    # A wave file edited where no agent looks (its heading): the session runs the wave again (the
    # file's hash changed), and every agent, closure included, finds its proof still valid.
    wave = repo / "waves" / "wave-1.md"
    wave.write_text(wave.read_text().replace("End-to-end", "End-to-end (renamed)", 1))
    again = _rerun(repo, "-v", *N0)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "5 reused" in again.stdout and " passed" in again.stdout  # the plan item passes
    for agent in ("A1", "A2", *CLOSURE):
        assert f"waves/wave-1.md::{agent} REUSED" in again.stdout
    assert set(_statuses(_runs(repo)[-1]).values()) == {"reused"}
    assert (repo / LOG).read_bytes() == before, "a rerun with nothing to redo must not append records"
    # The run's trace bundle re-judges the reused proof from the earlier logs it points at.
    replay = _rerun(repo, "--wave-replay", str(STATE / "traces" / "wave-1" / "attempt-1"), wave=())
    assert replay.returncode == 0, replay.stdout
    assert "recorded CLOSED reproduces" in replay.stdout

    # The proof of A2 changed on disk: A2 runs again; closure judged A2's old files, so it runs again too.
    (repo / "out" / "a2" / "part.py").write_text("# edited by hand\n")
    edited = _rerun(repo, *N0)
    assert edited.returncode == 0, edited.stdout
    statuses = _statuses(_runs(repo)[-1])
    assert statuses == {"A1": "reused", "A2": "passed", "A8": "passed", "A9": "passed", "A0": "passed"}

    fresh = _rerun(repo, "--wave-fresh", *N0)
    assert fresh.returncode == 0, fresh.stdout
    assert "reused" not in fresh.stdout.split("short test summary")[-1]
    assert set(_statuses(_runs(repo)[-1]).values()) == {"passed"}
    assert "--wave-fresh: earlier results were not reused" in fresh.stdout


def test_changed_prompt_is_not_reused(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    assert _rerun(repo, *N0).returncode == 0
    wave = repo / "waves" / "wave-1.md"
    wave.write_text(wave.read_text().replace("Write part 2.", "Write part 2, with tests."))
    result = _rerun(repo, *N0)
    assert result.returncode == 0, result.stdout
    statuses = _statuses(_runs(repo)[-1])
    assert statuses["A1"] == "reused" and statuses["A2"] == "passed"


def test_wave_file_fixed_after_a_failed_run_is_not_an_unowned_change(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resumed run keeps the failed run's baseline, but the wave file is the plan, not work product."""
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    failed = subprocess.run(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", *N0],
        cwd=repo,
        env=fault_env("A2=exit-nonzero"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert failed.returncode == 1, failed.stdout
    wave = repo / "waves" / "wave-1.md"
    wave.write_text(wave.read_text().replace("Write part 2.", "Write part 2, carefully."))  # the human's fix
    result = _rerun(repo, *N0)
    assert result.returncode == 0, result.stdout
    assert "unowned changes" not in result.stdout
    assert _statuses(_runs(repo)[-1])["A1"] == "reused"


def test_ctrl_c_then_rerun_resumes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    proc = _start(repo, "A2=hang", "-n", "2", "--wave-agent-timeout", "300")
    orphan = _hanging_pid(repo, proc, "A2", ("A1",))
    os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: the whole foreground group
    assert proc.wait(timeout=60) == 2
    assert process_gone(orphan), "Ctrl-C stops the agents it started"
    outcome = json.loads(next((repo / STATE).glob("results/wave-1/*/wave.json")).read_text())
    assert outcome["closed"] is False
    result = _rerun(repo)
    assert result.returncode == 0, result.stdout
    assert _statuses(_runs(repo)[-1]) == {
        "A1": "reused",
        "A2": "passed",
        "A8": "passed",
        "A9": "passed",
        "A0": "passed",
    }


def test_crashed_agent_is_an_error_with_its_signal(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "A1=crash")
    result = pytester.runpytest_subprocess("waves/wave-1.md", "--wave-max-retries", "0", "-rA", timeout=120)
    assert result.ret == 1
    out = result.stdout.str()
    assert "A1 (implementation, local, attempt 1) crashed: killed by SIGKILL" in out
    result.assert_outcomes(passed=1, errors=1, skipped=3)
    assert "CRASHED waves/wave-1.md::A1" in out  # -r short summary: the verbose word
    assert "Traceback" not in out


def test_crashed_xdist_worker_is_an_error_and_its_agent_is_stopped(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    returncode, out, agent = _kill_a2s_worker(repo, "-rA", "--wave-max-retries", "0")
    assert returncode == 1, out
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "crashed: xdist worker gw" in out and "died (killed by SIGKILL) while running it" in out
    assert "CRASHED waves/wave-1.md::A2" in out and " 1 error" in out
    assert process_gone(agent), "the crashed worker's agent was left running"


def test_crashed_xdist_worker_with_a_retry_left_is_told_before_the_rerun(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun report shows only "R": the crash and its signal are printed when they happen."""
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    # The retry hangs too: cut it short.
    _, out, _ = _kill_a2s_worker(repo, "--wave-max-retries", "1", "--wave-agent-timeout", "3")
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "waves/wave-1.md::A2: A2 crashed: xdist worker gw" in out and "(killed by SIGKILL)" in out, out
    assert "(retrying)" in out and "A2[attempt-2]" in out, out


def _kill_a2s_worker(repo: Path, *args: str) -> tuple[int, str, int]:
    """Run wave 1 under two xdist workers with A2 hanging, SIGKILL the worker running A2's item, and
    return pytest's exit status, its output and the (orphaned) agent's pid."""
    argv = ["waves/wave-1.md", "-p", "no:cacheprovider", "-n", "2", *args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *argv],
        cwd=repo,
        env=fault_env("A2=hang"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        agent = _hanging_pid(repo, proc, "A2", ("A1",))
        # The agent's record names the process that launched it: the xdist worker running A2's item.
        record = json.loads(next((repo / STATE).glob("pids/wave-1-*-a2.proc.json")).read_text())
        assert record["owner_pid"] != proc.pid
        os.kill(record["owner_pid"], signal.SIGKILL)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, agent

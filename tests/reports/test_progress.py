"""Live progress lines on the controller's terminal: running, done, failed, waiting on a human."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reportkit import WAVE, assert_no_traceback, make_repo, run_wave, wave_text

from pytest_wave.reports.progress import agent_of

FEEDBACK_ASK = [sys.executable, "-m", "pytest_wave.cli", "feedback", "ask"]
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
LINE = "[[]wave[]] waves/wave-1.md"  # fnmatch: [[] is a literal "["


def _ask(repo: Path, agent: str, question: str) -> None:
    done = subprocess.run(
        [*FEEDBACK_ASK, "--repo-root", str(repo), "--wave", "1", "--agent", agent, "--question", question],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_agent_of_strips_attempt_and_group_suffixes() -> None:
    assert agent_of("waves/wave-1.md::A1") == "A1"
    assert agent_of("waves/wave-1.md::A1[attempt-2]") == "A1"
    assert agent_of("waves/wave-1.md::A1@wave") == "A1"


@pytest.mark.slow
def test_progress_lines_in_an_xdist_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1, agents=3)})
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            f"{LINE}: running 1 (A?) | done 0/6 | failed 0 | waiting on human 0",
            f"{LINE}: running 2 (A?, A?) | done 0/6 | failed 0 | waiting on human 0",
            f"{LINE}: running 1 (A8) | done 3/6 | failed 0 | waiting on human 0",
            f"{LINE}: running 0 | done 6/6 | failed 0 | waiting on human 0",
        ]
    )
    # Lines only, each whole: never glued to xdist's progress dots.
    assert all(line.startswith("[wave] ") for line in result.stdout.lines if "[wave] waves" in line)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["-q"], ["--wave-progress", "off"]])
def test_progress_is_quiet_under_q_and_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider", *args)
    assert result.ret == 0, result.stdout.str()
    assert "[wave] waves" not in result.stdout.str()


@pytest.mark.slow
def test_failed_agents_and_retries_show_in_progress(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "A2=exit-nonzero")
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider", "--wave-max-retries", "1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"{LINE}: running 0 | done 1/5 | failed 1 (A2) | waiting on human 0",
            f"{LINE} (attempt 2): running 0 | done 1/5 | failed 1 (A2) | waiting on human 0",
        ]
    )
    # Closure stages that are reported as not run never show as running.
    assert "running 1 (A8)" not in result.stdout.str()


@pytest.mark.slow
def test_a_question_for_a_human_shows_while_the_agent_still_runs(pytester: pytest.Pytester) -> None:
    """The poller thread, not an item event, reports the question: A1 is still running when it is asked."""
    repo = pytester.path / "repo"
    with pytest.MonkeyPatch.context() as mp:
        make_repo(pytester, mp, {1: wave_text(1, agents=2)})
    log = pytester.path / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
    env["WAVE_LOCAL_FAULTS"] = "A1=slow=6"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*PYTEST, WAVE, "-n", "2", "--wave-max-retries", "0", "-o", "wave_progress_interval=0.2"],
            cwd=repo,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while not list(repo.glob(".tmp/main-wave-launcher/pids/wave-1-1-a1.pid")):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            _ask(repo, "A1", "Which port should part 1 listen on?")
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    lines = [line for line in text.splitlines() if line.startswith("[wave] ")]
    asked = [i for i, line in enumerate(lines) if "waiting on human 1 (A1)" in line]
    assert asked, text
    first = lines[asked[0]]
    assert "done 2/5" not in first and "failed 0" in first, first  # A1 had not finished yet
    assert "waiting on human" in text.split("NOT CLOSED")[-1]  # the closure reason names the question

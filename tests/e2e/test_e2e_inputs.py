"""Bad input and runtime faults: each gives a clear one-line reason on an item, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2ekit import (
    STATE,
    WaveState,
    assert_no_traceback,
    make_repo,
    output,
    process_gone,
    processes_mentioning,
    run_wave,
    wave_text,
)

pytestmark = pytest.mark.slow

BROKEN_WAVES = {
    3: ("", "waves/wave-3.md:1: error: wave file is empty (fix: *)"),
    4: ("# Wave 4 - No agents\n\nJust prose.\n", "waves/wave-4.md*error: wave declares no agents (fix: *)"),
    5: (
        "# Wave 5 - Open fence\n\n## Agent A1: x\n\n### Prompt\n\n```text\nnever closed\n",
        "waves/wave-5.md:7: error: unterminated code fence opened at line 7 (fix: *)",
    ),
}


def test_unparseable_waves_fail_their_plan_and_stop_their_sequence(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each broken file in its own session: the plan item names the problem.
    waves = {1: wave_text(1), **{number: text for number, (text, _) in BROKEN_WAVES.items()}}
    repo = make_repo(pytester, monkeypatch, waves)
    for number, (_, reason) in BROKEN_WAVES.items():
        result = run_wave(pytester, f"waves/wave-{number}.md", "-rA")
        assert result.ret == 1
        assert_no_traceback(result)
        result.stdout.fnmatch_lines([reason, f"FAILED waves/wave-{number}.md::plan*"])
    # In a sequence, the good wave closes first and the broken one after it does not: the session fails.
    (repo / "waves" / "wave-2.md").write_text(BROKEN_WAVES[3][0])
    result = run_wave(pytester, "waves/wave-1.md", "waves/wave-2.md", "-rA")
    assert result.ret == 1
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(["*wave waves/wave-1.md: CLOSED*"])
    result.stdout.fnmatch_lines(["FAILED waves/wave-2.md::plan*"])
    assert WaveState(repo).outcome()["closed"] is True


def test_invalid_wave_launches_no_agent(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    text = wave_text(1, integration_prompt="docs/agents/no-such-role.md")
    repo = make_repo(pytester, monkeypatch, {1: text})
    result = run_wave(pytester, "waves/wave-1.md", "-rA")  # default retries: a retry must not launch either
    assert result.ret == 1
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "*validation error(s); no agent of this wave will be launched",
            "*role-prompt-missing*docs/agents/no-such-role.md*",
        ]
    )
    result.stdout.fnmatch_lines(["A1 not launched: the wave has validation errors (see ::plan)"])
    assert "rerun" not in result.parseoutcomes()
    result.assert_outcomes(failed=2, skipped=3)
    state = WaveState(repo)
    assert state.logs() == [], "an agent of an invalid wave was started"
    assert not (repo / "out").exists()
    assert "no agent was launched" in state.outcome()["reason"]


def test_missing_executor_binary(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # A1 asks for codex (no --wave-executor): with nothing on PATH the item says what is missing and the fix.
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, executor="codex")})
    empty_bin = pytester.path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    result = run_wave(pytester, "waves/wave-1.md", "--wave-max-retries", "0")
    assert result.ret == 1
    assert_no_traceback(result)
    headline = [line for line in result.stdout.lines if line.startswith("A1 (implementation, codex, attempt 1): ")]
    assert len(headline) == 1, result.stdout.str()
    assert "'codex'" in headline[0]
    assert "(fix: " in headline[0] and "--wave-executor local" in headline[0]
    assert WaveState(repo).logs() == []


def test_state_dir_that_cannot_be_created(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, so chmod would not stop a write: make ``.tmp`` a file so mkdir under it fails.
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    (repo / ".tmp").write_text("not a directory\n")
    result = run_wave(pytester, "waves/wave-1.md", "-rA")
    assert result.ret == 1
    assert_no_traceback(result)
    reason = f"error: cannot write runtime state under {repo / STATE}: Not a directory (fix: *)"
    result.stdout.fnmatch_lines([reason])
    result.stdout.fnmatch_lines(["FAILED waves/wave-1.md::plan*"])
    result.stdout.fnmatch_lines(["*wave waves/wave-1.md: NOT CLOSED*"])
    assert not (repo / "out").exists()


def _popen_wave(repo: Path, faults: str, *args: str, new_session: bool = False) -> subprocess.Popen[str]:
    env = dict(os.environ, WAVE_LOCAL_FAULTS=faults)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", *args],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )


def _wait_for_hanging_agents(repo: Path, proc: subprocess.Popen[str], count: int) -> list[int]:
    """Pids of ``count`` agents once each has started and logged that it hangs."""
    deadline = time.monotonic() + 60
    state = repo / STATE
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        logs = list(state.glob("results/wave-1/*/attempt-1/*.log"))
        pid_files = list(state.glob("pids/*.pid"))
        hanging = [log for log in logs if "hanging until killed" in log.read_text()]
        if len(hanging) >= count and len(pid_files) >= count:
            try:
                return [int(path.read_text()) for path in pid_files]
            except (OSError, ValueError):
                pass  # a pid file being written
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"agents did not start: {proc.communicate()[0]}")


@pytest.mark.parametrize("xdist", [False, True], ids=["single-process", "xdist"])
def test_ctrl_c_during_a_wave(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: bool) -> None:
    agents = 2 if xdist else 1  # two agents: pytest-wave starts two xdist workers on its own
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=agents)})
    proc = _popen_wave(repo, "*=hang", "--wave-agent-timeout", "120", new_session=xdist)
    pids = _wait_for_hanging_agents(repo, proc, agents)
    if xdist:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    else:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    assert "wave waves/wave-1.md: NOT CLOSED" in out
    for pid in pids:
        assert process_gone(pid), f"agent {pid} outlived Ctrl-C"
    assert not processes_mentioning(str(repo)), "a process of this run outlived Ctrl-C"
    outcome = WaveState(repo).outcome()
    assert outcome["closed"] is False
    assert "interrupted" in outcome["reason"] and "closure not run" in outcome["reason"]


def test_agent_killed_from_outside(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not the crash fault (the agent killing itself): something else kills a running agent.
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    proc = _popen_wave(repo, "A1=hang", "--wave-max-retries", "0", "--wave-agent-timeout", "120")
    [pid] = _wait_for_hanging_agents(repo, proc, 1)
    os.kill(pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "Traceback" not in out, out
    assert "A1 (implementation, local, attempt 1) crashed: killed by SIGKILL" in out
    assert "died from signal SIGKILL" in out  # the failed check's row
    a1 = WaveState(repo).results()["A1"]
    assert a1["signal"] == signal.SIGKILL and a1["timed_out"] is False


def test_bad_option_value_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A usage error (bad option value) is one line on stderr, not a traceback."""
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_wave(pytester, "waves/wave-1.md", "--wave-max-retries", "-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--wave-max-retries must be 0 or more" in output(result)
    assert_no_traceback(result)

"""``wave dashboard``: a live terminal view of a lane's waves, read from the run's files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reportkit import WAVE, make_repo, run_wave, wave_text

from pytest_wave.cli import main


def _dashboard(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str, str]:
    code = main(["dashboard", "--repo-root", str(repo), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_dashboard_once_after_a_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    assert main(["feedback", "ask", "--repo-root", str(repo), "--wave", "1", "--agent", "A2", "--question", "DB?"]) == 0
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider")
    assert result.ret == 1  # the open question keeps the wave open
    capsys.readouterr()
    code, out, err = _dashboard(capsys, repo, "--once")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "main Wave Dashboard | wave=1 | status=failed | attempt=1"
    assert lines[2].startswith("run ") and lines[2].endswith("| waves/wave-1.md")
    assert "Counts: " in out and "passed:2" in out
    table = {line.split()[0]: line.split() for line in lines if line[:2] in ("A1", "A2", "A8", "A9", "A0")}
    assert list(table) == ["A1", "A2", "A8", "A9", "A0"]  # wave order, closure last
    assert table["A1"][1:4] == ["passed", "1", "0"]
    assert "[wave-proof]" in " ".join(table["A1"])  # last markers
    assert "waiting on human: DB?" in " ".join(table["A2"])
    assert "Waiting on a human (1):" in out
    assert "Message board (last" in out


def test_dashboard_without_a_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    code, out, err = _dashboard(capsys, repo, "--once")
    assert code == 1 and out == ""
    assert err.startswith("error: no wave run found under ") and len(err.splitlines()) == 1, err
    code, out, _ = _dashboard(capsys, repo, "--once", "--wave", "1")
    assert code == 0 and out == "main Wave Dashboard | wave=1 | status=not started\n"
    code, _, err = _dashboard(capsys, repo, "--wave", "1", "--interval", "0")
    assert code == 1 and "--interval must be more than 0" in err


@pytest.mark.slow
def test_live_dashboard_prints_a_frame_only_when_something_changed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    assert run_wave(pytester, WAVE, "-p", "no:cacheprovider").ret == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_wave.cli", "dashboard", "--repo-root", str(repo), "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the view is up (and its Ctrl-C handler installed)
    time.sleep(1.0)  # ten more intervals
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    out = first + rest
    assert proc.returncode == 0, err
    assert out.count("Wave Dashboard") == 1, out  # not a tty: no redraws, and nothing changed
    assert "status=completed" in out and "\x1b[" not in out

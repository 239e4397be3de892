"""Run posture: ``oversight`` holds a risky agent until a human approves it through the feedback queue;
``dark-factory`` refuses to launch a wave without deploy-environment, validation and rollback context."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from e2ekit import WaveState, assert_no_traceback, make_repo, output, run_wave, wave_text

pytestmark = pytest.mark.slow


def _with_posture(text: str, mode: str) -> str:
    profile = f"## Project profile\n\n- project: e2e\n- oversight-mode: {mode}\n\n"
    return text.replace("## Agent A1: Part 1", profile + "## Agent A1: Deploy part 1", 1)


def test_oversight_holds_a_deploy_agent_until_a_human_approves(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: _with_posture(wave_text(1), "oversight")})
    held = run_wave(pytester, "waves/wave-1.md", "-rA")
    assert held.ret == 1, output(held)
    assert_no_traceback(held)
    text = output(held)
    assert "waiting on human approval (role deploy, oversight posture)" in text
    assert not (repo / "out" / "a1").exists(), "the deploy agent ran before anyone approved it"
    match = re.search(r"wave feedback respond --id (\S+) --response approve", text)
    assert match, text
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_wave.cli",
            "feedback",
            "respond",
            "--id",
            match.group(1),
            "--response",
            "approve",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr
    approved = run_wave(pytester, "waves/wave-1.md")
    assert approved.ret == 0, output(approved)
    assert (repo / "out" / "a1" / "part.py").is_file()
    assert WaveState(repo).run_state()["completedWaves"] == [1]


def test_dark_factory_refuses_a_wave_without_environment_validation_or_rollback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: _with_posture(wave_text(1), "dark-factory")})
    result = run_wave(pytester, "waves/wave-1.md")
    assert result.ret == 1, output(result)
    text = output(result)
    for rule in (
        "dark-factory-missing-deploy-environment",
        "dark-factory-missing-validation",
        "dark-factory-missing-rollback",
    ):
        assert rule in text, text
    assert not (repo / "out").exists(), "an agent was launched"

"""``--wave-dry-run``: prompts, overlays and launch previews are written; no process starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tracekit import STATE, WAVE, assert_no_traceback, assert_no_workers, clean_env, load_json, make_repo, output

pytestmark = pytest.mark.slow

INVALID = "# Wave 1 - Broken\n\n## Agent A1: Only\n\n### Prompt\n\n```text\nNo exit contract.\n```\n"
SLUGS = {"A1": "1-a1", "A2": "1-a2", "A8": "1-a8", "A9": "1-a9", "A0": "1-a0"}


def dry_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--wave-dry-run", WAVE, "-p", "no:cacheprovider", *args, timeout=120)


def test_dry_run_writes_previews_and_starts_nothing(pytester: pytest.Pytester) -> None:
    repo = make_repo(pytester.path / "repo")
    result = dry_run(pytester, "-n", "2")
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=6)  # plan + every agent, closure agents included
    assert_no_workers(result)
    dry = repo / STATE / "dry-run"
    for agent, slug in SLUGS.items():
        preview = load_json(dry / "executors" / "wave-1" / slug / "launch-preview.json")
        assert preview["executorId"] == "local"
        assert preview["command"][-1] == str(dry / "executors" / "wave-1" / slug / "task.json")
        assert (dry / "prompts" / f"wave-1-{slug}.prompt.md").read_text().strip(), agent
        assert load_json(dry / "executors" / "wave-1" / slug / "task.json")["agent_id"] == agent
    # Nothing ran: no results, logs, status files or traces anywhere, no deliverable, no live state.
    state_files = [p.relative_to(repo).as_posix() for p in (repo / ".tmp").rglob("*") if p.is_file()]
    assert not [p for p in state_files if "/results/" in p or p.endswith(".log") or "/status/" in p], state_files
    assert not [p for p in state_files if "/traces/" in p], state_files
    assert all(p.startswith(f"{STATE.as_posix()}/dry-run/") for p in state_files), state_files
    assert not (repo / "out").exists()


def _git_init(repo: Path) -> None:
    """A committed repository (worktree isolation branches from HEAD); the state folder is ignored."""
    (repo / ".gitignore").write_text(".tmp/\n")
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Dry"],
        ["config", "user.email", "dry@example.invalid"],
        ["add", "-A"],
        ["commit", "-q", "-m", "base"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.parametrize("isolation", ["shared", "worktree"])
def test_dry_run_preview_is_the_live_launch(pytester: pytest.Pytester, isolation: str) -> None:
    """The same argv, cwd, environment and prompt fingerprint as the launch a real run makes; with
    worktree isolation the cwd is the agent's worktree (which the dry run does not create)."""
    repo = make_repo(pytester.path / "repo")
    if isolation == "worktree":
        _git_init(repo)
    result = dry_run(pytester, "--junitxml", "dry.xml", "--wave-isolation", isolation)
    assert result.ret == 0, output(result)
    assert not (repo / STATE / "worktrees").exists()
    live = subprocess.run(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", "--wave-isolation", isolation],
        cwd=repo,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert live.returncode == 0, live.stdout + live.stderr
    junit = (pytester.path / "dry.xml").read_text()
    state = repo / STATE
    run = next(state.glob("results/wave-1/*/wave.json"))
    outcome = load_json(run)
    for agent, slug in SLUGS.items():
        dry_preview = (state / "dry-run/executors/wave-1" / slug / "launch-preview.json").read_text()
        live_preview = (state / "executors/wave-1" / slug / "launch-preview.json").read_text()
        assert json.loads(dry_preview.replace("/dry-run/", "/")) == json.loads(live_preview), agent
        if isolation == "worktree" and agent in ("A1", "A2"):
            assert json.loads(live_preview)["cwd"] == str(state / "worktrees" / "wave-1" / slug), agent
        fingerprint = outcome["agents"][agent]["prompt_hash"]
        assert f'name="prompt_fingerprint" value="{fingerprint}"' in junit, agent


def test_dry_run_of_an_invalid_wave_writes_nothing(pytester: pytest.Pytester) -> None:
    # No evaluator, no closure stewards, no exit contract: validation errors, so no agent is prepared.
    repo = make_repo(pytester.path / "repo", INVALID)
    result = dry_run(pytester)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(["FAILED *wave-1.md::plan*"])
    assert not (repo / STATE / "dry-run" / "executors").exists()

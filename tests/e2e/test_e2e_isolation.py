"""Ownership from the tree, and worktree isolation, with real pytest runs and real git.

An agent that writes into another agent's file fails its own item naming that file, in the shared
tree and in worktrees; two agents changing the same file in worktrees give the integration stage a
merge conflict to report, and both branches keep their commits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from e2ekit import WaveState, assert_no_traceback, make_repo, output, run_wave, wave_text

pytestmark = pytest.mark.slow

WAVE = "waves/wave-1.md"
NO_RETRY = ("--wave-max-retries", "0")
WORKTREE = ("--wave-isolation", "worktree")


def git(repo: Path, *args: str) -> str:
    exe = shutil.which("git")
    assert exe is not None, "these tests need the git executable on PATH"
    return subprocess.run([exe, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def git_init(repo: Path) -> None:
    (repo / ".gitignore").write_text(".tmp/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "E2E")
    git(repo, "config", "user.email", "e2e@example.invalid")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")


def shared_file_wave() -> str:
    """Two agents that both own (and create) ``out/shared.md``: each passes alone, their merges clash."""
    text = wave_text(1, agents=2)
    for index in (1, 2):
        text = text.replace(f"- out/a{index}/part.py\n", "- out/shared.md\n", 1)
        text = text.replace(f"- out/a{index}/\n", f"- out/a{index}/\n- out/shared.md\n", 1)
    return text


def test_shared_tree_agent_writing_into_another_agents_file_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "A1=write-into=out/a2/part.py")
    # One agent at a time: in a shared tree only then is the writer known for sure (see ownership.py).
    result = run_wave(pytester, WAVE, "-n", "0", *NO_RETRY)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 1): writes inside ownership: "
            "*found wrote outside ownership: out/a2/part.py"
        ]
    )
    results = WaveState(repo).results()
    assert results["A1"]["status"] == "failed"
    assert results["A2"]["status"] == "passed"


def test_worktree_agent_writing_into_another_agents_file_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    git_init(repo)
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "A1=write-into=out/a2/part.py")
    result = run_wave(pytester, WAVE, "-n", "2", *NO_RETRY, *WORKTREE)  # concurrent: worktrees tell them apart
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    kept = repo / ".tmp" / "main-wave-launcher" / "worktrees" / "wave-1" / "1-a1"
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 1): writes inside ownership: *"
            "found wrote outside ownership: out/a2/part.py "
            f"(work kept in worktree {kept} on branch wave/main/wave-1/A1)"
        ]
    )
    results = WaveState(repo).results()
    assert results["A1"]["status"] == "failed" and results["A2"]["status"] == "passed"
    assert (kept / "out" / "a2" / "part.py").is_file()  # the failed agent's work stays for a human
    assert "out/a2/part.py" in git(repo, "show", "--name-only", "--format=", "wave/main/wave-1/A1")
    assert not (repo / "out").exists()  # nothing reached the main tree: integration never ran


def test_worktree_conflict_is_a_blocker_and_loses_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: shared_file_wave()})
    git_init(repo)
    base = git(repo, "rev-parse", "HEAD")
    result = run_wave(pytester, WAVE, *NO_RETRY, *WORKTREE)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "A8 (integration, local, attempt 1): merge A2: expected wave/main/wave-1/A2 merges cleanly into the "
            "main tree, found wave/main/wave-1/A2 conflicts in out/shared.md; branch kept as is; worktree kept at *"
        ]
    )
    # Nothing lost: both branches hold their own commit of the file; A1's landed, A2's waits for a human.
    for agent in ("A1", "A2"):
        branch = f"wave/main/wave-1/{agent}"
        assert f"agent {agent}" in git(repo, "show", f"{branch}:out/shared.md")
        assert git(repo, "merge-base", base, branch) == base
    git(repo, "merge-base", "--is-ancestor", "wave/main/wave-1/A1", "HEAD")
    assert "agent A1" in (repo / "out" / "shared.md").read_text()
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""  # no half-done merge left behind
    assert (repo / ".tmp" / "main-wave-launcher" / "worktrees" / "wave-1" / "1-a2").is_dir()
    outcome = WaveState(repo).outcome()
    assert outcome["closed"] is False and "merge A2" in outcome["reason"]
    # ... and the blackboard holds one open closure-critical blocker for the integration steward.
    log = WaveState(repo).state_dir / "coordination" / "wave-1.jsonl"
    blockers = [json.loads(line) for line in log.read_text().splitlines() if "merge-conflict" in line]
    assert [(r["kind"], r["status"], r["severity"], r["targets"]) for r in blockers] == [
        ("blocker", "open", "closure-critical", ["agent:A8"])
    ]
    assert "out/shared.md" in blockers[0]["artifactRefs"]


def test_worktree_wave_closes_and_cleans_up(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    git_init(repo)
    result = run_wave(pytester, WAVE, "-n", "2", *WORKTREE)
    assert result.ret == 0, output(result)
    assert_no_traceback(result)
    assert "uncommitted change" not in output(result)  # a clean tree, the state folder aside
    assert WaveState(repo).outcome()["closed"] is True
    for agent in ("a1", "a2"):
        assert (repo / "out" / agent / "part.py").is_file()  # merged into the main tree
    log = git(repo, "log", "--format=%s")
    assert "wave 1: merge wave/main/wave-1/A1 (pytest-wave)" in log
    assert "wave 1: merge wave/main/wave-1/A2 (pytest-wave)" in log
    assert len(git(repo, "worktree", "list").splitlines()) == 1  # only the main tree is left
    assert not (repo / ".tmp" / "main-wave-launcher" / "worktrees").exists() or not any(
        (repo / ".tmp" / "main-wave-launcher" / "worktrees").rglob("*")
    )


def test_worktree_mode_warns_of_uncommitted_changes_before_agents_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Agents branch from HEAD: a change not committed in the main tree is not in their worktrees."""
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    git_init(repo)
    with (repo / ".gitignore").open("a") as ignore:
        ignore.write("*.bak\n")
    (repo / "notes").mkdir()
    (repo / "notes" / "draft.txt").write_text("not committed yet\n")
    result = run_wave(pytester, WAVE, "-n", "2", *WORKTREE)
    assert result.ret == 0, output(result)  # a warning, not a refusal
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "WARNING: waves/wave-1.md: worktree isolation: agents start from commit * and do not see "
            "2 uncommitted change(s) in the main tree (.gitignore, notes/draft.txt); commit or stash them first*",
            "*passed*",
        ]
    )
    base = json.loads(next((repo / ".tmp" / "main-wave-launcher" / "results").rglob("worktree-base.json")).read_text())
    assert base["uncommitted"] == [".gitignore", "notes/draft.txt"]


def test_worktree_mode_outside_git_is_one_clear_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(pytester.path))  # never find an enclosing repository
    result = run_wave(pytester, WAVE, *NO_RETRY, *WORKTREE)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        ["*error: worktree isolation needs a git repository, and * is not in one (fix: run `git init*"]
    )


def test_worktree_mode_refuses_deliverables_git_ignores(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work reaches the main tree only through git: an ignored deliverable would pass in the worktree and
    then vanish with it, so the wave stops before any agent starts, naming the file, line and fix."""
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2)})
    git_init(repo)
    (repo / ".gitignore").write_text(".tmp/\nout/a2/\n")
    git(repo, "commit", "-q", "-am", "ignore a2's output")
    result = run_wave(pytester, WAVE, *WORKTREE)  # retries allowed: none may happen
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            "*waves/wave-1.md:*: error: worktree isolation carries work through git, but git ignores these "
            "deliverables: out/a2/part.py (A2) (fix: un-ignore them (.gitignore), or run with --wave-isolation shared)"
        ]
    )
    assert not (repo / "out" / "a1").exists(), "no agent may start"
    assert "attempt-2" not in result.stdout.str(), "a retry would only meet the same refusal"

"""Git for a distributed wave: the base commit, and an agent's work as a branch pushed to the controller.

An agent's work is committed without touching the host's index or checked-out HEAD (a temporary index
on top of the base commit, ``write-tree``, ``commit-tree``), so agents sharing one clone on a host
never race on ``.git/index`` or on a checked-out branch, and each agent's branch holds only its own
changes: the files it owns, plus any change no agent of the wave owns (a stray write travels to the
controller, where the ownership check names it). State folders never travel. The controller merges
the branches with worktree isolation's :func:`pytest_wave.engine.worktree.merge_agent_branches`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from filelock import FileLock

from pytest_wave.engine.git import GitError, identity_env, run_git

GIT_TIMEOUT = 600.0  # seconds: a push or fetch over a slow link


def git(repo: Path, *args: str, env: dict[str, str] | None = None, raw: bool = False) -> str:
    """Run git in ``repo``; its output stripped (``raw``: as printed, for porcelain formats)."""
    done = run_git(repo, *args, env=env, timeout=GIT_TIMEOUT, missing_fix="install git on every host of the wave")
    return done.stdout if raw else done.stdout.strip()


def base_commit(repo: Path) -> str:
    try:
        return git(repo, "rev-parse", "--verify", "HEAD^{commit}")
    except GitError as exc:
        raise GitError(
            "a wave on several hosts starts from a commit, and this repository has none",
            path=repo,
            fix="commit the wave file and the project first (git commit)",
        ) from exc


def uncommitted(repo: Path, paths: Iterable[str]) -> list[str]:
    """Which of ``paths`` (repo-relative) differ from HEAD or are untracked: hosts would not see them."""
    names = [p for p in paths if p]
    if not names:
        return []
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", *names, raw=True)
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]


def current_branch(repo: Path) -> str:
    return git(repo, "rev-parse", "--abbrev-ref", "HEAD")


def changed_paths(repo: Path) -> list[str]:
    """Every path that differs from HEAD (tracked changes, deletions, untracked files), repo-relative."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", raw=True)
    paths: list[str] = []
    for entry in out.split("\0"):
        if len(entry) > 3:
            paths.append(entry[3:])
    return paths


def commit_agent_work(
    repo: Path,
    base: str,
    select: Callable[[str], bool],
    message: str,
) -> str | None:
    """Commit the selected changed paths on top of ``base`` (index and HEAD untouched); None when nothing changed.

    Serialised per clone with a file lock: agents sharing a host's clone read its tree one at a time.
    """
    with FileLock(str(repo / ".git" / "wave-commit.lock"), timeout=GIT_TIMEOUT):
        paths = sorted(p for p in changed_paths(repo) if select(p))
        if not paths:
            return None
        with tempfile.TemporaryDirectory(prefix="wave-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity_env(repo)}
            git(repo, "read-tree", base, env=env)
            git(repo, "add", "--all", "--", *paths, env=env)
            tree = git(repo, "write-tree", env=env)
            if tree == git(repo, "rev-parse", f"{base}^{{tree}}"):
                return None
            return git(repo, "commit-tree", tree, "-p", base, "-m", message, env=env)


def push(repo: Path, url: str, commit: str, ref: str) -> None:
    git(repo, "push", "--quiet", "--force", url, f"{commit}:{ref}")

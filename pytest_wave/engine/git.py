"""Running git: one runner for worktree isolation and multi-host runs, with one-line errors.

Every failure becomes a :class:`GitError` carrying git's own first line; the environment is cleaned so
that a caller running inside a git hook or worktree cannot redirect our commands, and git never stops
to prompt for a password or an editor.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pytest_wave.errors import WaveError

GIT_TIMEOUT = 120.0
IDENTITY = ("pytest-wave", "pytest-wave@localhost")  # only when the repository has no user configured


class GitError(WaveError):
    """A git command failed; the message carries git's own first line."""


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_MERGE_AUTOEDIT": "no", "LC_ALL": "C"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX"):
        env.pop(name, None)
    return {**env, **(extra or {})}


def run_git(
    cwd: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = GIT_TIMEOUT,
    missing_fix: str = "install git",
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, env=clean_env(env), timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not on PATH", fix=missing_fix) from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args[:2])} did not finish within {timeout:g}s in {cwd}") from None
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {first_line(proc)}")
    return proc


def first_line(proc: subprocess.CompletedProcess[str]) -> str:
    for text in (proc.stderr, proc.stdout):
        for line in text.splitlines():
            if line.strip():
                return line.strip()
    return f"exit {proc.returncode}"


def identity_env(top: Path) -> dict[str, str]:
    """Commit as the repository's configured user; fall back to ``pytest-wave`` for what is not set."""
    name = run_git(top, "config", "user.name", check=False).stdout.strip()
    email = run_git(top, "config", "user.email", check=False).stdout.strip()
    env: dict[str, str] = {}
    if not name:
        env.update(GIT_AUTHOR_NAME=IDENTITY[0], GIT_COMMITTER_NAME=IDENTITY[0])
    if not email:
        env.update(GIT_AUTHOR_EMAIL=IDENTITY[1], GIT_COMMITTER_EMAIL=IDENTITY[1])
    return env

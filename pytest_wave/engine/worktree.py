"""Git worktrees: one working copy and branch per agent, and the merge of those branches back.

Plain git plumbing with no wave knowledge, so other callers (a multi-host controller merging the
branches each host pushed back) can use it as is. Every git failure becomes a one-line
:class:`~pytest_wave.errors.WaveError`; nothing here ever discards a commit: a branch that does not
merge cleanly is left exactly as it was, and the main tree is returned to its state before that merge.

The public surface:

* :func:`git_toplevel`, :func:`require_repo`, :func:`head_commit`
* :func:`branch_name` -- ``wave/<lane>/wave-<n>/<agent>``, made ref-safe
* :func:`ensure_worktree`, :func:`commit_all`, :func:`changed_files`, :func:`current_branch`
* :func:`merge_agent_branches` -> :class:`MergeReport`
* :func:`remove_worktree`, :func:`delete_merged_branch`
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pytest_wave.engine.git import GitError, first_line, identity_env, run_git

MergeStatus = Literal["merged", "up-to-date", "conflicted", "blocked", "missing"]
_REF_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NO_REPO_FIX = "run `git init && git add -A && git commit -m base` in the repository, or use --wave-isolation shared"


def _git(
    cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_git(cwd, *args, check=check, env=env, missing_fix="install git, or use --wave-isolation shared")


# -- repository ----------------------------------------------------------------------------------


def git_toplevel(path: Path) -> Path | None:
    """The work tree holding ``path``, or None when ``path`` is not inside a git repository."""
    if not path.is_dir():
        return None
    try:
        proc = _git(path, "rev-parse", "--show-toplevel", check=False)
    except GitError:
        return None
    return Path(proc.stdout.strip()).resolve() if proc.returncode == 0 and proc.stdout.strip() else None


def require_repo(repo_root: Path) -> Path:
    """The git top level of ``repo_root`` with at least one commit; a :class:`GitError` otherwise."""
    top = git_toplevel(repo_root)
    if top is None:
        raise GitError(f"worktree isolation needs a git repository, and {repo_root} is not in one", fix=NO_REPO_FIX)
    head_commit(top)
    return top


def head_commit(top: Path) -> str:
    proc = _git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise GitError(
            f"worktree isolation needs a commit to branch from, and {top} has none",
            fix="commit the repository once (`git add -A && git commit -m base`), or use --wave-isolation shared",
        )
    return proc.stdout.strip()


def branch_name(lane: str, wave: int | None, agent_id: str) -> str:
    """``wave/<lane>/wave-<n>/<agent>`` with every part reduced to characters git accepts in a ref."""

    def part(text: str) -> str:
        cleaned = _REF_UNSAFE.sub("-", text).replace("..", "-").strip(".-")[:60].rstrip(".") or "x"
        return cleaned + "-" if cleaned.endswith(".lock") else cleaned  # git refuses "*.lock" parts

    return f"wave/{part(lane)}/wave-{'x' if wave is None else wave}/{part(agent_id)}"


def branch_exists(top: Path, branch: str) -> bool:
    return _git(top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).returncode == 0


def branch_tip(top: Path, branch: str) -> str | None:
    proc = _git(top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


# -- one agent's worktree ------------------------------------------------------------------------


def _registered(top: Path) -> dict[Path, str | None]:
    """Registered worktree path -> its branch (None when detached)."""
    found: dict[Path, str | None] = {}
    current: Path | None = None
    for line in _git(top, "worktree", "list", "--porcelain").stdout.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :]).resolve()
            found[current] = None
        elif line.startswith("branch ") and current is not None:
            found[current] = line[len("branch ") :].removeprefix("refs/heads/")
    return found


def ensure_worktree(top: Path, path: Path, branch: str, base: str) -> bool:
    """Make ``path`` a worktree on ``branch`` (created from ``base`` when new); True when created.

    An existing branch is checked out as it is (an earlier attempt's or run's work carries on, as
    files do in a shared tree). Callers serialize calls per repository (git locks its admin files).
    """
    path = path.resolve()
    _git(top, "worktree", "prune")
    registered = _registered(top)
    if path in registered:
        if registered[path] != branch:
            raise GitError(
                f"worktree {path} is on {registered[path] or 'a detached HEAD'}, not {branch}",
                fix=f"check out {branch} there, or remove it with `git worktree remove {path}`",
            )
        return False
    if path.exists() and any(path.iterdir()):
        raise GitError(f"{path} exists and is not a registered worktree", fix="move it away; pytest-wave recreates it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tip = branch_tip(top, branch)
    if tip is not None:
        if branch not in registered.values() and _is_ancestor(top, tip, base):
            # Everything on the branch is already in base (merged by an earlier run): move it up to
            # base so the agent sees today's tree. Nothing is lost; base contains the tip.
            _git(top, "branch", "-f", branch, base)
        _git(top, "worktree", "add", str(path), branch)
    else:
        _git(top, "worktree", "add", "-b", branch, str(path), base)
    return True


def _is_ancestor(top: Path, commit: str, of: str) -> bool:
    return _git(top, "merge-base", "--is-ancestor", commit, of, check=False).returncode == 0


def current_branch(worktree: Path) -> str | None:
    proc = _git(worktree, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def commit_all(worktree: Path, message: str, exclude: Sequence[str] = ()) -> str | None:
    """Commit everything the agent left (tracked changes, new files that are not ignored).

    ``exclude`` holds directory names never committed (caches, virtualenvs). Hooks are skipped: the
    orchestrator records work, the wave's own validation judges it. Returns the new commit or None.
    """
    pathspec = [".", *(f":(exclude,glob)**/{name}/**" for name in exclude)]
    _git(worktree, "add", "-A", "--", *pathspec)
    if _git(worktree, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    top = git_toplevel(worktree) or worktree
    _git(worktree, "commit", "--no-verify", "--quiet", "-m", message, env=identity_env(top))
    return _git(worktree, "rev-parse", "HEAD").stdout.strip()


def changed_files(worktree: Path, base: str) -> list[str]:
    """Paths (relative to the worktree top) the branch changed since it left ``base``, plus
    anything still uncommitted: the agent's whole footprint, whoever committed it."""
    merge_base = _git(worktree, "merge-base", base, "HEAD", check=False).stdout.strip() or base
    found = set(_z(_git(worktree, "diff", "--name-only", "-z", "--no-renames", merge_base, "HEAD").stdout))
    status = _git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames").stdout
    found.update(entry[3:] for entry in _z(status) if len(entry) > 3)
    return sorted(found)


def uncommitted(top: Path, *excluded: Path) -> list[str]:
    """Paths (relative to ``top``) with changes git has not committed, untracked files included,
    except those under ``excluded`` folders (the orchestrator's own state)."""
    status = _git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames").stdout
    skip = []
    for folder in excluded:
        with contextlib.suppress(ValueError):
            skip.append(folder.resolve().relative_to(top).as_posix().rstrip("/") + "/")
    paths = (entry[3:] for entry in _z(status) if len(entry) > 3)
    return sorted(p for p in paths if not any(p.startswith(prefix) for prefix in skip))


def ignored(cwd: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` (relative to ``cwd``) that git ignores and does not track: git cannot carry them."""
    if not paths:
        return []
    proc = _git(cwd, "check-ignore", "--", *paths, check=False)
    if proc.returncode not in (0, 1):  # 1: none ignored
        raise GitError(f"git check-ignore failed in {cwd}: {first_line(proc)}")
    return sorted({line for line in proc.stdout.splitlines() if line})


def _z(text: str) -> list[str]:
    return [part for part in text.split("\0") if part]


def remove_worktree(top: Path, path: Path) -> None:
    """Remove a worktree whose work is committed (ignored leftovers such as caches go with it)."""
    if path.resolve() in _registered(top):
        _git(top, "worktree", "remove", "--force", str(path))
    _git(top, "worktree", "prune")


def delete_merged_branch(top: Path, branch: str) -> bool:
    """Delete ``branch`` only when HEAD contains it (``git branch -d``); True when deleted."""
    return _git(top, "branch", "-d", branch, check=False).returncode == 0


# -- merging -------------------------------------------------------------------------------------


class MergeEntry(BaseModel):
    """What happened to one branch."""

    model_config = ConfigDict(extra="forbid")

    branch: str
    status: MergeStatus
    files: list[str] = []  # conflicted files, or the local files that blocked the merge
    commit: str | None = None  # the branch tip that was (or was not) merged
    detail: str = ""

    def describe(self) -> str:
        files = ", ".join(self.files[:10]) + (f" (+{len(self.files) - 10} more)" if len(self.files) > 10 else "")
        if self.status == "conflicted":
            return f"{self.branch} conflicts in {files or '(no file named by git)'}; branch kept as is"
        if self.status == "blocked":
            return f"{self.branch} not merged: {self.detail}" + (f" ({files})" if files else "")
        if self.status == "missing":
            return f"{self.branch} does not exist"
        return f"{self.branch} {self.status}"


class MergeReport(BaseModel):
    """The result of :func:`merge_agent_branches`, one entry per branch in the order given."""

    model_config = ConfigDict(extra="forbid")

    repo_root: str
    head_before: str
    head_after: str
    entries: list[MergeEntry]

    @property
    def merged(self) -> list[MergeEntry]:
        return [e for e in self.entries if e.status in ("merged", "up-to-date")]

    @property
    def conflicted(self) -> list[MergeEntry]:
        return [e for e in self.entries if e.status not in ("merged", "up-to-date")]

    @property
    def ok(self) -> bool:
        return not self.conflicted


def merge_agent_branches(repo_root: Path, branches: Sequence[str], *, message: str = "Merge {branch}") -> MergeReport:
    """Merge ``branches`` into the checked-out branch of ``repo_root``, one by one, in the given order.

    Each branch gets its own ``--no-ff`` merge commit (``message`` may use ``{branch}``). A branch that
    conflicts is aborted (the tree returns to the previous merge's state) and reported with the
    conflicted files; a merge git refuses to start (local changes or untracked files in the way) is
    ``blocked`` with those files. Later branches are still tried. No branch is modified or deleted.
    """
    top = git_toplevel(repo_root)
    if top is None:
        raise GitError(f"cannot merge agent branches: {repo_root} is not in a git repository", fix=NO_REPO_FIX)
    if _merge_in_progress(top):
        # Someone's unfinished merge: aborting it (as we do our own conflicts) would lose their work.
        raise GitError(
            f"a merge is already in progress in {top}", fix="finish it (`git commit`) or abort it, then rerun"
        )
    before = head_commit(top)
    identity = identity_env(top)
    entries: list[MergeEntry] = []
    for branch in branches:
        tip = branch_tip(top, branch)
        if tip is None:
            entries.append(MergeEntry(branch=branch, status="missing", detail="no such branch"))
            continue
        if _is_ancestor(top, tip, "HEAD"):
            entries.append(MergeEntry(branch=branch, status="up-to-date", commit=tip))
            continue
        proc = _git(
            top,
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "-m",
            message.format(branch=branch),
            f"refs/heads/{branch}",
            check=False,
            env=identity,
        )
        if proc.returncode == 0:
            entries.append(MergeEntry(branch=branch, status="merged", commit=tip))
            continue
        unmerged = sorted(set(_z(_git(top, "diff", "--name-only", "-z", "--diff-filter=U").stdout)))
        if _merge_in_progress(top):
            _git(top, "merge", "--abort", check=False)
            entries.append(
                MergeEntry(branch=branch, status="conflicted", files=unmerged, commit=tip, detail=first_line(proc))
            )
        else:
            entries.append(
                MergeEntry(
                    branch=branch, status="blocked", files=_blocking_files(proc), commit=tip, detail=first_line(proc)
                )
            )
    return MergeReport(repo_root=str(top), head_before=before, head_after=head_commit(top), entries=entries)


def _merge_in_progress(top: Path) -> bool:
    return _git(top, "rev-parse", "--verify", "--quiet", "MERGE_HEAD", check=False).returncode == 0


def _blocking_files(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The tab-indented file list git prints under 'would be overwritten by merge'."""
    return sorted({line.strip() for line in proc.stderr.splitlines() if line.startswith("\t") and line.strip()})

"""Keeping what a wave file or a record names inside the repository (and our state folder).

Wave files, coordination records and agents are input we did not write. Paths in them (deliverables,
owned paths) are judged relative to the repository and must not leave it through ``..``, an absolute
path or a symlink; names in them (agent ids) become file names and must be plain names. Lint reports
the same problems with a line number (``pytest_wave/lint/paths.py``); these functions are the
run-time guard behind it.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import stat
from pathlib import Path

from pytest_wave.errors import WaveError

# Agent ids become file names (results, inboxes, windows): a plain name, no separators, no dot-dot.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_id(agent_id: str) -> str | None:
    """Why ``agent_id`` cannot be used as a file name, or None when it can."""
    if SAFE_ID.match(agent_id) and ".." not in agent_id:
        return None
    return f'agent id "{agent_id[:40]}" is not a plain name (letters, digits, ".", "_", "-"; at most 64)'


def path_problem(root: Path, rel: str, links: dict[str, bool | None] | None = None) -> str | None:
    """Why ``rel`` (a repo-relative path as written) does not stay inside ``root``, or None.

    Absolute paths and paths that climb out with ``..`` are refused as written; a path that exists
    (or whose existing parents exist) is also resolved, so a symlink leading out is refused too."""
    text = rel.strip()
    if not text:
        return "the path is empty"
    if "\0" in text:
        return "the path holds a NUL byte"
    if text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        return "the path is absolute"
    normalized = posixpath.normpath(text.replace("\\", "/"))
    if normalized == ".." or normalized.startswith("../"):
        return "the path climbs out of the repository with '..'"
    base = _real(str(root))
    written = text.replace("\\", "/")  # as a program would open it: "link/.." follows link first
    if not _through_symlink(base, written, links if links is not None else {}):
        return None  # no existing component is a symlink: the path stays where it was written
    try:
        resolved = Path(base, written).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return "the path cannot be resolved (a symlink loop)"
    if str(resolved) != base and not resolved.is_relative_to(base):
        return f"the path leads out of the repository through a symlink (to {resolved})"
    return None


@functools.lru_cache(maxsize=64)
def _real(root: str) -> str:
    return os.path.realpath(root)


def _through_symlink(base: str, written: str, links: dict[str, bool | None]) -> bool:
    """Whether an existing component of ``written`` under ``base`` is a symlink. Only then can the
    path lead elsewhere, so the full (slow) resolve is needed only then. ``links`` caches what each
    prefix is across the paths of one check (None: it does not exist)."""
    current = base
    parts = written.split("/")
    for index, part in enumerate(parts):
        if part in ("", "."):
            continue
        if part == "..":  # no symlink so far, so going up is plain string work
            current = posixpath.dirname(current)
            continue
        current = f"{current}/{part}"
        known = links[current] if current in links else _lstat_link(current)
        links[current] = known
        if known:
            return True
        if known is None and ".." not in parts[index + 1 :]:
            return False  # nothing below a missing component exists to follow, and nothing climbs back
    return False


def _lstat_link(path: str) -> bool | None:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return None


def inside(root: Path, rel: str, *, what: str = "path") -> Path:
    """``root / rel`` when it stays inside ``root``; a :class:`WaveError` naming the problem otherwise."""
    problem = path_problem(root, rel)
    if problem is not None:
        raise WaveError(f"{what} {rel!r} is refused: {problem}", fix="use a path inside the repository")
    return root / posixpath.normpath(rel.strip())


def check_agent_ids(agent_ids: list[tuple[str, int]], wave_path: str) -> None:
    """Refuse a wave whose agent ids cannot be file names (``(id, line)`` pairs), naming the first."""
    for agent_id, line in agent_ids:
        problem = unsafe_id(agent_id)
        if problem is not None:
            raise WaveError(problem, path=wave_path, line=line or None, fix="name the agent like A1, A2a or A10")

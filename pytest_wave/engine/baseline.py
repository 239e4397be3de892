"""What the repository tree looked like when a wave started, to see afterwards what changed.

Closure uses it to catch writes outside every agent's ownership: an agent cannot hide a stray
edit by not mentioning it, because the orchestrator compares the tree itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# Never part of a wave's work product: VCS data, caches, virtualenvs and our own state.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".tox",
        ".wave",
        ".tmp",
    }
)

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path, skip: frozenset[str] = SKIP_DIRS) -> Snapshot:
    """Repo-relative POSIX path -> (mtime_ns, size) for every regular file outside ``skip`` dirs."""
    found: Snapshot = {}
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in skip:
                    stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                try:
                    stat = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # deleted since the listing (agents write while we look): not there now
                found[Path(entry.path).relative_to(root).as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths created, modified or deleted between two snapshots, sorted."""
    paths = {path for path, sig in after.items() if before.get(path) != sig}
    paths.update(path for path in before if path not in after)
    return sorted(paths)


def save(path: Path, snap: Snapshot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snap))
    os.replace(tmp, path)


def load(path: Path) -> Snapshot | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {key: (int(value[0]), int(value[1])) for key, value in data.items()}

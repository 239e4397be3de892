"""Role prompt paths as validation sees them: inside the repository and under the role prompt dir."""

from __future__ import annotations

import posixpath
from functools import lru_cache

from pytest_wave.parse.values import escapes_repo


@lru_cache(maxsize=1024)
def path_escapes_repo(path: str) -> bool:
    """Cached :func:`~pytest_wave.parse.values.escapes_repo` (the same paths recur in every wave)."""
    return escapes_repo(path)


@lru_cache(maxsize=1024)
def role_prompt_path_allowed(path: str, role_prompt_dir: str) -> bool:
    """Inside the repository, under ``role_prompt_dir/`` and ending in ``.md`` (any case)."""
    if escapes_repo(path) or not path.lower().endswith(".md"):
        return False
    normalized = posixpath.normpath(path)
    prefix = role_prompt_dir.rstrip("/") + "/"
    return normalized.startswith(prefix)

"""What the planner tests share: a copy of this project's own sample repository."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sample_repo(root: Path) -> Path:
    """This project's ``pyproject.toml``, role prompts and ``waves/`` copied to ``root`` (created)."""
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "docs" / "agents", root / "docs" / "agents")
    shutil.copytree(ROOT / "waves", root / "waves")
    return root

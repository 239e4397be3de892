"""Fixtures for the lint tests (helpers live in ``lintkit.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lintkit import ANCHOR, Repo, fresh


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    monkeypatch.delenv("WAVE_REPO_ROOT", raising=False)
    root = tmp_path / "repo"
    shutil.copytree(ANCHOR, root)
    fresh()
    yield Repo(root)
    fresh()

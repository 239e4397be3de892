"""Fixtures of the real-CLI tests (``realcli`` marker, registered in pyproject.toml); helpers in clikit.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import require_clis

from pytest_wave.mockmodel import MockModelServer, Scenario


@pytest.fixture(scope="session")
def real_clis() -> dict[str, str]:
    """The three CLIs' versions; a missing CLI fails the test with its name (never a skip)."""
    return require_clis()


@pytest.fixture
def mock_model(tmp_path: Path) -> Iterator[MockModelServer]:
    with MockModelServer(Scenario(), keep_bodies=True, log_path=tmp_path / "mock.jsonl") as server:
        yield server

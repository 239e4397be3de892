"""Fixtures of the distributed tests: a real redis-server on loopback, stopped after each test.

The wave-file builders of the end-to-end suite (``tests/e2e/e2ekit.py``) are reused as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2ekit import LEAKY_ENV
from servers import RedisServer, start_redis, stop


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path / "redis")
    try:
        yield server
    finally:
        stop(server.proc)

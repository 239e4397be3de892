"""Fixtures of the end-to-end tests; the helpers live in ``e2ekit.py``."""

from __future__ import annotations

import pytest
from e2ekit import LEAKY_ENV


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)

"""Fixtures of the report tests; helpers live in ``reportkit.py``.

The ``browser`` marker is registered in ``pyproject.toml``.
"""

from __future__ import annotations

import pytest
from reportkit import LEAKY_ENV


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*LEAKY_ENV, "WAVE_NUMBER", "WAVE_AGENT_ID"):
        monkeypatch.delenv(name, raising=False)

"""Fixtures of the trace tests: recorded wave runs, made once per session and copied per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from tracekit import LEAKY_ENV, record_run, wave_text


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wave 1 closed on its first attempt (run with two xdist workers)."""
    return record_run(tmp_path_factory.mktemp("recorded"), "-n", "2")


@pytest.fixture(scope="session")
def retried(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wave 1 whose A1 validation fails once: attempt 1 does not close, attempt 2 does."""
    flaky = "test -f out/a1/flag || (touch out/a1/flag; exit 1)"
    text = wave_text({1: [flaky]})
    return record_run(tmp_path_factory.mktemp("retried"), "--wave-max-retries", "1", text=text)

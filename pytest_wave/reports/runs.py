"""The waves of this pytest session, as :class:`~pytest_wave.reports.view.WaveWatcher` objects (controller only).

Waves are found from the command line at start and from agent reports as they arrive (a run from
``testpaths`` names no wave file up front). A wave file that does not load has no watcher: its
``::plan`` item already says why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wave.engine.context import WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.reports.view import WaveView, WaveWatcher
from pytest_wave.state import session_state


def wave_key_of(nodeid: str, config: pytest.Config) -> str | None:
    """The wave file of an item's nodeid (``waves/wave-2.md::A1`` -> its absolute path), if it is one."""
    head = nodeid.split("::", 1)[0]
    if not head.endswith(".md"):
        return None
    return str((config.rootpath / head).resolve())


class SessionWaves:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._watchers: dict[str, WaveWatcher | None] = {}

    def discover(self) -> None:
        from pytest_wave.controller import discover_wave_files

        for path in discover_wave_files(self.config):
            self.add(str(path))

    def add(self, wave_key: str) -> WaveWatcher | None:
        key = str(Path(wave_key).resolve())
        if key not in self._watchers:
            state = session_state(self.config)
            try:
                ctx = WaveContext.load(Path(key), state.options, lookup=state.lookup)
                self._watchers[key] = WaveWatcher.for_context(ctx, state.run_id)
            except (WaveError, OSError):
                self._watchers[key] = None
        return self._watchers[key]

    def keys(self) -> list[str]:
        return [key for key, watcher in self._watchers.items() if watcher is not None]

    def views(self, *, board: bool = False) -> list[tuple[str, WaveView]]:
        out: list[tuple[str, WaveView]] = []
        for key in sorted(self._watchers):
            watcher = self._watchers[key]
            if watcher is not None:
                out.append((key, watcher.snapshot(board=board)))
        return out

    def display(self, wave_key: str) -> str:
        try:
            return str(Path(wave_key).relative_to(self.config.rootpath))
        except ValueError:
            return wave_key

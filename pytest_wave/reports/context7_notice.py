"""The one line a session prints when agents ran without the Context7 docs they selected (controller only).

Agents note each miss (no API key, no network, an API error) in ``<state dir>/context7-cache/notices.jsonl``
(:func:`pytest_wave.context7.record_notice`); their prompts stay as they would be without Context7. At the
end of the session this plugin reads the notes written since the session started and says so once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pytest_wave import context7
from pytest_wave.engine.context import WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.state import session_state


class Context7Notices:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        state = session_state(config)
        cache_dirs: dict[Path, None] = {}
        for wave_key in sorted(state.held_closure):
            try:
                ctx = WaveContext.load(Path(wave_key), state.options, lookup=state.lookup)
            except WaveError:
                continue
            cache_dirs[ctx.paths.state_dir / "context7-cache"] = None
        notices = [n for folder in cache_dirs for n in context7.notices_since(folder, self.started)]
        line = context7.notice_line(notices)
        if line:
            terminalreporter.write_line(f"wave: {line}", yellow=True)

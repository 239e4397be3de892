"""The start-of-run warning of worktree isolation: agents will not see uncommitted main-tree changes."""

from __future__ import annotations

import pytest

from pytest_wave.engine import isolation
from pytest_wave.engine.context import WaveContext


def say_uncommitted(config: pytest.Config, ctx: WaveContext, run_id: str) -> None:
    """Before the wave's agents start (controller only), one line naming what they will not see."""
    line = isolation.uncommitted_warning(ctx, run_id)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        reporter.write_line(line, yellow=True, bold=True)

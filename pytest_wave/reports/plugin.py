"""pytest hooks of the reports: options, and the controller-only sinks (loaded by ``pytest_wave.plugin``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_wave.reports.surfaces import SURFACES


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wave", "pytest-wave: run waves of coding agents")
    group.addoption(
        "--wave-html", default=None, metavar="PATH", help="write a self-contained HTML report of the waves to PATH"
    )
    group.addoption(
        "--wave-progress",
        choices=("auto", "on", "off"),
        default="auto",
        help="live progress lines while agents run (auto: on unless -q)",
    )
    group.addoption(
        "--wave-surface",
        choices=SURFACES,
        default=None,
        help="watch the agents' logs in tmux sessions (tmux), also as VS Code terminals (vscode); "
        "default: ini wave_surface",
    )
    parser.addini("wave_surface", "default for --wave-surface (none, tmux, vscode)", default="none")
    parser.addini(
        "wave_progress_interval", "seconds between live progress checks (0: only on item events)", default="2"
    )


@pytest.hookimpl(trylast=True)  # after the terminal reporter and the session state exist
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # xdist workers report through the controller
    from pytest_wave.reports.html import WaveHtmlReport
    from pytest_wave.reports.progress import LiveProgress
    from pytest_wave.reports.surfaces import SurfacePlugin, check_surface
    from pytest_wave.state import STATE_KEY

    html = config.getoption("wave_html")
    if html:
        path = Path(html).expanduser()
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        config.pluginmanager.register(WaveHtmlReport(config, path), "wave-html-report")
    state = config.stash.get(STATE_KEY, None)
    agentless = state is None or state.lint_mode or getattr(state, "mode", None) is not None
    runs_agents = not (config.option.collectonly or agentless)
    terminal: Any = config.pluginmanager.get_plugin("terminalreporter")
    mode = config.getoption("wave_progress")
    if runs_agents and terminal is not None and (mode == "on" or (mode == "auto" and config.option.verbose >= 0)):
        config.pluginmanager.register(LiveProgress(config, terminal, interval=_interval(config)), "wave-progress")
    surface = config.getoption("wave_surface") or str(config.getini("wave_surface") or "none")
    if surface not in SURFACES:
        raise pytest.UsageError(f"ini option wave_surface must be one of {', '.join(SURFACES)} (got: {surface!r})")
    if runs_agents and surface != "none":
        config.pluginmanager.register(SurfacePlugin(config, surface, check_surface(surface)), "wave-surface")


def _interval(config: pytest.Config) -> float:
    raw = config.getini("wave_progress_interval")
    try:
        value = float(str(raw))
    except ValueError:
        raise pytest.UsageError(f"ini option wave_progress_interval must be a number (got: {raw!r})") from None
    if value < 0:
        raise pytest.UsageError("ini option wave_progress_interval must be 0 or more")
    return value

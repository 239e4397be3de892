# Hookspecs are signatures only: their bodies are never run, so allow docstring-only bodies.
# mypy: disable-error-code="empty-body"
"""Hook specifications of pytest-wave.

The pytest layer adds this module with ``pluginmanager.add_hookspecs``; the ``wave`` CLI, which runs
without pytest, registers it on a plain ``pluggy.PluginManager("pytest")``. Plugins and
``conftest.py`` files implement these hooks like any pytest hook.

pytest only accepts hook implementations whose names start with ``pytest_`` (even marked ones), so
every hook here is named ``pytest_wave_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pytest_wave.lint.base import LintRule

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_wave_lint_rules() -> list[LintRule]:
    """Return extra lint rules."""

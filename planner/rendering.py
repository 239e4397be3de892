"""The planner's templates (``planner/templates/``), rendered with pytest-wave's Jinja2 settings."""

from __future__ import annotations

from typing import Any

from pytest_wave import rendering


def render(template: str, **context: Any) -> str:
    return rendering.render(template, package="planner", **context)

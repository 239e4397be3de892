"""One Jinja2 setup for every text pytest-wave renders (prompts, boards, reports, wave markdown).

The planner renders its own templates (``planner/templates/``) through the same settings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=4)
def environment(package: str = "pytest_wave") -> Environment:
    """The environment for ``<package>/templates``."""
    # StrictUndefined: a typo in a template fails loudly instead of rendering an empty string.
    return Environment(
        loader=PackageLoader(package, "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, *, package: str = "pytest_wave", **context: Any) -> str:
    return environment(package).get_template(template).render(**context)

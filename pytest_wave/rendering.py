"""One Jinja2 environment for every text pytest-wave renders (prompts, boards, reports, wave markdown)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def environment() -> Environment:
    # StrictUndefined: a typo in a template fails loudly instead of rendering an empty string.
    return Environment(
        loader=PackageLoader("pytest_wave", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)

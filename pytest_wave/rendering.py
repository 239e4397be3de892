"""One Jinja2 setup for every text pytest-wave renders (prompts, boards, reports, wave markdown).

The planner renders its own templates (``planner/templates/``) through the same settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from functools import lru_cache
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket

from pytest_wave import __version__

_OPTIONS: dict[str, Any] = {
    # StrictUndefined: a typo in a template fails loudly instead of rendering an empty string.
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "autoescape": False,
}


class CompiledTemplates(FileSystemBytecodeCache):
    """Compiled templates kept between processes, as ``__pycache__`` keeps compiled modules.

    Compiling the templates costs about 40 ms at every start (a ``wave coord`` call, each pytest
    run, each worker). Jinja2 checks each entry against its template's source; the file names also
    carry pytest-wave's version and the environment options, which the source check cannot see.
    A cache that cannot be read or written is skipped: rendering never fails because of it.
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable or damaged (OSError, pickle, marshal errors...): compile anew
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        if sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE / -B: write no compiled file at all
            return
        with contextlib.suppress(OSError):  # a full or read-only disk: the next start compiles again
            super().dump_bytecode(bucket)


def compiled_templates() -> BytecodeCache | None:
    """The per-user cache (Jinja2's own checked folder under the temp dir), or None without one."""
    settings = f"{__version__}|{sorted((k, repr(v)) for k, v in _OPTIONS.items())}"
    tag = hashlib.sha256(settings.encode()).hexdigest()[:12]
    try:
        return CompiledTemplates(pattern=f"__pytest_wave_{tag}_%s.cache")
    except (OSError, RuntimeError):  # no usable temp dir, or one another user owns
        return None


@lru_cache(maxsize=4)
def environment(package: str = "pytest_wave") -> Environment:
    """The environment for ``<package>/templates``."""
    return Environment(loader=PackageLoader(package, "templates"), bytecode_cache=compiled_templates(), **_OPTIONS)


def render(template: str, *, package: str = "pytest_wave", **context: Any) -> str:
    return environment(package).get_template(template).render(**context)

"""The one error type users see: a message tied to a file and line, with a fix hint.

Every failure caused by user input (a wave file, a config file, a flag) is raised as
:class:`WaveError` so the CLI and the pytest layer can print it as one line instead of a
traceback.
"""

from __future__ import annotations

from pathlib import Path


class WaveError(Exception):
    """A user-facing error: ``path:line: message (fix: hint)``."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.fix = fix

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = " ".join(self.message.split())
        hint = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}error: {text}{hint}"

    def usage_line(self) -> str:
        """For ``pytest.UsageError``, which prints ``ERROR: `` itself: no second "error:" without a path."""
        line = self.one_line()
        return line.removeprefix("error: ") if self.path is None else line

    def __str__(self) -> str:
        return self.one_line()


class WaveParseError(WaveError):
    """The wave markdown could not be read into a model."""


class WaveConfigError(WaveError):
    """``wave.config.json`` or ``[tool.wave]`` is invalid."""

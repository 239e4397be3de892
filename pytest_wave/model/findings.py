"""One problem a lint or validation rule found in a wave file.

A :class:`Finding` is data, not an exception: rules yield them, ``wave lint`` prints them one per
line (``path:line: severity rule-id: message (fix: hint)``) and the pytest layer turns errors into
failures.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]
SEVERITIES: tuple[str, ...] = ("error", "warning")


class Finding(BaseModel):
    """A rule's verdict on one spot of a wave file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    """Kebab-case id of the check that fired, e.g. ``missing-evaluator``."""
    severity: Severity
    path: str
    """The wave file, as it was handed to the linter."""
    line: int | None = None
    """1-based line in ``path``; ``None`` when the problem has no place in the file."""
    message: str
    fix: str | None = None
    agent_id: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def one_line(self) -> str:
        """``path:line: severity rule-id: message (fix: hint)`` on a single line."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = " ".join(self.message.split())
        hint = f" (fix: {' '.join(self.fix.split())})" if self.fix else ""
        return f"{where}: {self.severity} {self.rule_id}: {text}{hint}"

    def __str__(self) -> str:
        return self.one_line()

"""An agent's status file (``<state>/status/<wave-n-slug>.status``): how its latest launch ended.

The Node.js tool's shape (artifacts.md): ``code``, ``promptHash``, ``orchestratorId``, ``completedAt``.
Both tools write it when an agent's process exits; reconcile reads it to rebuild run state. Very old
Node.js status files are a bare integer (the exit code): :func:`parse_status` reads those as a status
without a prompt hash, which never matches a current prompt.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class AgentStatus(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    code: int
    prompt_hash: str | None = Field(None, alias="promptHash")
    orchestrator_id: str | None = Field(None, alias="orchestratorId")
    completed_at: str | None = Field(None, alias="completedAt")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n"


def parse_status(text: str) -> AgentStatus:
    """The status in ``text``; raises ``ValueError`` (one line) when it is not a status."""
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(decoded, int) and not isinstance(decoded, bool):
        return AgentStatus(code=decoded)  # legacy: the exit code alone
    if not isinstance(decoded, dict):
        raise ValueError(f"expected an object with a code or a bare exit code, found {type(decoded).__name__}")
    try:
        return AgentStatus.model_validate(decoded)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}") from None

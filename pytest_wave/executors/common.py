"""What the three vendor runtimes share: the richer launch request, settings merging, the harness text.

:class:`AgentLaunchRequest` extends the protocol's :class:`~pytest_wave.executors.base.LaunchRequest`
with what a vendor CLI needs beyond the task: the agent's ``### Executor`` block, its config
profile and its budget. The engine passes it; a plain ``LaunchRequest`` (from a third-party caller)
still works and simply gets the lane's settings.

Merging follows the Node.js tool (``spec/executors.md`` 8.1) minus its null-overwrite quirk:
lane, then profile, then agent; a later layer's set scalar wins, unset (None) never erases, and
list settings are unioned in that order without duplicates.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel

from pytest_wave.errors import WaveError
from pytest_wave.executors.base import LaunchRequest
from pytest_wave.model.config import ExecutorProfile
from pytest_wave.model.executor import ClaudeSettings, CodexSettings, ExecutorSpec, OpenCodeSettings

if TYPE_CHECKING:
    from pytest_wave.skills import ResolvedSkills

Runtime = Literal["codex", "claude", "opencode"]
_S = TypeVar("_S", bound=BaseModel)

# List settings that accumulate across layers (spec 8.1); every other field is a scalar.
LIST_FIELDS: dict[str, frozenset[str]] = {
    "codex": frozenset({"config", "images", "add_dirs"}),
    "claude": frozenset({"mcp_config", "allowed_http_hook_urls", "allowed_tools", "disallowed_tools"}),
    "opencode": frozenset({"files", "instructions"}),
}


@dataclass(frozen=True)
class AgentLaunchRequest(LaunchRequest):
    """A launch request that also carries the agent's executor settings (all optional)."""

    agent_executor: ExecutorSpec | None = None
    profile: ExecutorProfile | None = None
    budget_turns: int | None = None
    budget_minutes: int | None = None
    skills: ResolvedSkills | None = None  # projected into system prompts, add-dirs, instruction files


def skills_of(request: LaunchRequest) -> ResolvedSkills | None:
    """The request's resolved skill bundles, when it carries any."""
    skills = request.skills if isinstance(request, AgentLaunchRequest) else None
    return skills if skills is not None and skills.bundles else None


def layers(request: LaunchRequest) -> tuple[ExecutorSpec | None, ExecutorProfile | None, int | None]:
    """The agent block, profile and turn budget of a request (None for a plain ``LaunchRequest``)."""
    if isinstance(request, AgentLaunchRequest):
        return request.agent_executor, request.profile, request.budget_turns
    return None, None, None


def merge_blocks(runtime: Runtime, base: _S, *tops: BaseModel | None) -> _S:
    """``base`` with each layer of ``tops`` applied in order: set scalars replace, lists union."""
    lists = LIST_FIELDS[runtime]
    update: dict[str, Any] = {}
    current = {name: getattr(base, name) for name in type(base).model_fields}
    for top in tops:
        if top is None:
            continue
        for name in type(top).model_fields:
            if name not in current:
                continue
            value = getattr(top, name)
            if value is None:
                continue
            if name in lists:
                merged = list(dict.fromkeys([*(current[name] or []), *value]))
                current[name] = update[name] = merged
            else:
                current[name] = update[name] = copy.deepcopy(value)
    return base.model_copy(update=update) if update else base


@overload
def runtime_settings(request: LaunchRequest, runtime: Literal["codex"]) -> CodexSettings: ...
@overload
def runtime_settings(request: LaunchRequest, runtime: Literal["claude"]) -> ClaudeSettings: ...
@overload
def runtime_settings(request: LaunchRequest, runtime: Literal["opencode"]) -> OpenCodeSettings: ...
def runtime_settings(request: LaunchRequest, runtime: Runtime) -> BaseModel:
    """The merged settings block of ``runtime`` for this agent (lane <- profile <- agent)."""
    agent, profile, _ = layers(request)
    lane_block: BaseModel = getattr(request.lane.executors, runtime)
    profile_block = getattr(profile, runtime) if profile is not None else None
    agent_block = getattr(agent, runtime) if agent is not None else None
    merged = merge_blocks(runtime, lane_block, profile_block, agent_block)
    return merged


def turn_limit(request: LaunchRequest, runtime: Literal["claude", "opencode"]) -> int | None:
    """``claude.max_turns`` / ``opencode.steps``: agent, then profile, then ``budget.turns``, then lane."""
    agent, profile, budget_turns = layers(request)
    field = "max_turns" if runtime == "claude" else "steps"
    for block in (
        getattr(agent, runtime) if agent is not None else None,
        getattr(profile, runtime) if profile is not None else None,
    ):
        value = getattr(block, field, None) if block is not None else None
        if value is not None:
            return int(value)
    if budget_turns is not None:
        return budget_turns
    lane_value = getattr(getattr(request.lane.executors, runtime), field)
    return int(lane_value) if lane_value is not None else None


def harness_text(runtime: Runtime, request: LaunchRequest) -> str:
    """The system-prompt text every vendor agent gets (spec 8.3), one line per rule."""
    task = request.task
    return "\n".join(
        [
            "You are running inside the Wave orchestration harness.",
            f"Resolved executor: {runtime}.",
            f"Assigned wave agent: {task.agent_id} ({task.title}).",
            "Treat the incoming task prompt as the authoritative assignment.",
            "Preserve structured Wave markers exactly when they are required by the task.",
            "Do not omit or rewrite message-board requirements, exit-contract requirements, or ownership boundaries.",
            "Prefer plain text output unless the task explicitly requires code blocks.",
        ]
    )


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Nested objects merge key by key; any other value in ``top`` replaces the one in ``base``."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def repo_path(request: LaunchRequest, path: str) -> Path:
    """A configured path: absolute as given, else relative to the repository root."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else request.repo_root / candidate


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WaveError(f"{what} not found: {path}", fix="fix the path or remove the setting") from None
    except (OSError, ValueError) as exc:
        raise WaveError(f"invalid {what} JSON at {path}: {exc}", fix="make it valid JSON") from None
    if not isinstance(data, dict):
        raise WaveError(f"{what} must be a JSON object: {path}", fix="wrap the settings in {...}")
    return data


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def notes_file(notes: list[str]) -> dict[str, str]:
    """An overlay file listing settings the launch had to leave out, so the preview says why."""
    return {"launch-notes.txt": "".join(f"- {note}\n" for note in notes)} if notes else {}


_AGENT_NAME_BAD = re.compile(r"[^a-z0-9_-]+")


def slug_name(raw: str, fallback: str) -> str:
    name = re.sub(r"-+", "-", _AGENT_NAME_BAD.sub("-", raw.strip().lower())).strip("-")
    return name or fallback

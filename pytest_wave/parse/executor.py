"""Type the bullets of one ``### Executor`` block with the key table of :mod:`pytest_wave.model.executor`."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

from pytest_wave.errors import WaveParseError
from pytest_wave.model.executor import (
    EXECUTOR_IDS,
    EXECUTOR_KEYS,
    Budget,
    ClaudeSettings,
    CodexSettings,
    ExecutorSpec,
    OpenCodeSettings,
    field_name,
)
from pytest_wave.parse.values import split_list, strip_edge_quotes

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")


def suggest_key(key: str) -> str:
    close = difflib.get_close_matches(key, list(EXECUTOR_KEYS), n=1)
    if close:
        return f"did you mean '{close[0]}'? supported keys: see docs/wave-format.md"
    return "supported keys: " + ", ".join(sorted(EXECUTOR_KEYS))


ErrorFactory = Callable[[str, int | None, str], WaveParseError]


def build_executor_spec(
    values: dict[str, tuple[str, int]], agent_id: str, error: ErrorFactory, line: int
) -> ExecutorSpec:
    """Type the raw ``key -> (value, line)`` bullets of one ``### Executor`` block."""
    groups: dict[str, dict[str, Any]] = {"codex": {}, "claude": {}, "opencode": {}, "budget": {}}
    top: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for key, (raw, number) in values.items():
        spec = EXECUTOR_KEYS[key]
        key_lines[key] = number
        label = f"agent {agent_id}.{key}"
        typed: Any
        if spec.kind in ("json", "jsonobj"):
            # Only a surrounding backtick pair is removed: quotes are part of JSON.
            text = raw.strip()
            if len(text) >= 2 and text[0] == text[-1] == "`":
                text = text[1:-1].strip()
            try:
                typed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise error(
                    f"invalid JSON for {label}: {exc.msg} at column {exc.colno}",
                    number,
                    'write the value as one line of valid JSON, for example {"key": "value"}',
                ) from None
            if spec.kind == "jsonobj" and not isinstance(typed, dict):
                raise error(f"{label} must be a JSON object", number, "wrap the settings in {...}")
        else:
            value = strip_edge_quotes(raw)
            if not value:
                raise error(f'empty executor setting "{key}" in agent {agent_id}', number, "give it a value")
            if spec.kind == "str":
                typed = value
            elif spec.kind == "lower":
                typed = value.lower()
            elif spec.kind == "id":
                typed = _executor_id(value, label, number, error)
            elif spec.kind == "idlist":
                typed = [_executor_id(item, f"{label}[{i}]", number, error) for i, item in enumerate(split_list(value))]
            elif spec.kind == "list":
                typed = split_list(value)
            elif spec.kind == "int":
                match = _LEADING_INT.match(value)
                if not match or int(match.group(1)) <= 0:
                    raise error(f'invalid {label} "{value}": expected a positive integer', number, "e.g. 12")
                typed = int(match.group(1))
            elif spec.kind == "bool":
                lowered = value.lower()
                if lowered not in _TRUE | _FALSE:
                    raise error(f'invalid {label} "{value}": expected true or false', number, "use true or false")
                typed = lowered in _TRUE
            else:  # enum
                lowered = value.lower()
                if lowered not in spec.choices:
                    raise error(
                        f'invalid {label} "{value}"',
                        number,
                        "expected one of: " + ", ".join(spec.choices),
                    )
                typed = lowered
        target = top if spec.group is None else groups[spec.group]
        target[field_name(spec)] = typed
    return ExecutorSpec(
        line=line,
        budget=Budget(**groups["budget"]),
        codex=CodexSettings(**groups["codex"]),
        claude=ClaudeSettings(**groups["claude"]),
        opencode=OpenCodeSettings(**groups["opencode"]),
        key_lines=key_lines,
        **top,
    )


def _executor_id(value: str, label: str, line: int, error: ErrorFactory) -> str:
    lowered = strip_edge_quotes(value).lower()
    if lowered not in EXECUTOR_IDS:
        raise error(
            f"{label} must be one of: {', '.join(EXECUTOR_IDS)} (got: {lowered or 'nothing'})",
            line,
            "pick one of the supported executors",
        )
    return lowered

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
    ExecutorKey,
    ExecutorSpec,
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

# Model attribute of every key, looked up once rather than per bullet.
_ATTRIBUTES: dict[str, str] = {key: field_name(spec) for key, spec in EXECUTOR_KEYS.items()}
_BOOLEANS = _TRUE | _FALSE


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
        typed = _typed_value(spec, raw, number, agent_id, error)
        target = top if spec.group is None else groups[spec.group]
        target[_ATTRIBUTES[key]] = typed
    # One validation of the whole block, nested settings as plain dicts: cheaper than building the
    # four settings models one by one (each constructor call is a round trip through Python).
    return ExecutorSpec.model_validate({"line": line, **groups, "key_lines": key_lines, **top})


def _typed_value(spec: ExecutorKey, raw: str, number: int, agent_id: str, error: ErrorFactory) -> Any:
    """One bullet's value as its key's kind says (``label`` is only built for an error message)."""
    kind = spec.kind
    if kind == "json" or kind == "jsonobj":
        # Only a surrounding backtick pair is removed: quotes are part of JSON.
        text = raw.strip()
        if len(text) >= 2 and text[0] == text[-1] == "`":
            text = text[1:-1].strip()
        try:
            typed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(
                f"invalid JSON for {_label(agent_id, spec)}: {exc.msg} at column {exc.colno}",
                number,
                'write the value as one line of valid JSON, for example {"key": "value"}',
            ) from None
        if kind == "jsonobj" and not isinstance(typed, dict):
            raise error(f"{_label(agent_id, spec)} must be a JSON object", number, "wrap the settings in {...}")
        return typed
    value = strip_edge_quotes(raw)
    if not value:
        raise error(f'empty executor setting "{spec.key}" in agent {agent_id}', number, "give it a value")
    if kind == "str":
        return value
    if kind == "lower":
        return value.lower()
    if kind == "id":
        return _executor_id(value, agent_id, spec, number, error)
    if kind == "idlist":
        return [_executor_id(item, agent_id, spec, number, error, i) for i, item in enumerate(split_list(value))]
    if kind == "list":
        return split_list(value)
    if kind == "int":
        match = _LEADING_INT.match(value)
        if not match or int(match.group(1)) <= 0:
            raise error(f'invalid {_label(agent_id, spec)} "{value}": expected a positive integer', number, "e.g. 12")
        return int(match.group(1))
    lowered = value.lower()
    if kind == "bool":
        if lowered not in _BOOLEANS:
            raise error(
                f'invalid {_label(agent_id, spec)} "{value}": expected true or false', number, "use true or false"
            )
        return lowered in _TRUE
    # enum
    if lowered not in spec.choices:
        raise error(
            f'invalid {_label(agent_id, spec)} "{value}"', number, "expected one of: " + ", ".join(spec.choices)
        )
    return lowered


def _label(agent_id: str, spec: ExecutorKey) -> str:
    return f"agent {agent_id}.{spec.key}"


def _executor_id(
    value: str, agent_id: str, spec: ExecutorKey, line: int, error: ErrorFactory, index: int | None = None
) -> str:
    lowered = strip_edge_quotes(value).lower()
    if lowered not in EXECUTOR_IDS:
        label = _label(agent_id, spec) if index is None else f"{_label(agent_id, spec)}[{index}]"
        raise error(
            f"{label} must be one of: {', '.join(EXECUTOR_IDS)} (got: {lowered or 'nothing'})",
            line,
            "pick one of the supported executors",
        )
    return lowered

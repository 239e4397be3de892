"""Token and cost figures from what each CLI prints, where it prints them.

* claude ``--output-format json|stream-json``: the final ``{"type": "result"}`` object carries
  ``usage``, ``total_cost_usd`` and ``num_turns``. Text output reports nothing.
* codex ``--json``: one ``turn.completed`` event per turn with ``usage``; in text mode the stderr
  trailer ``tokens used`` / ``<n>`` gives the total only.
* opencode ``--format json``: every ``step_finish`` event has ``part.tokens`` and ``part.cost``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_wave.model.result import Usage

_CODEX_TEXT_TOTAL = re.compile(r"^tokens used\s*\n\s*([\d,]+)\s*$", re.MULTILINE)


def _events(text: str, marker: str) -> Iterator[dict[str, Any]]:
    """JSON objects on lines that mention ``marker`` (a cheap filter before parsing)."""
    for line in text.splitlines():
        if marker not in line:
            continue
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            yield data


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def claude_usage(text: str) -> Usage | None:
    found: Usage | None = None
    for event in _events(text, '"result"'):
        if event.get("type") != "result":
            continue
        usage = event.get("usage") or {}
        cached = _int(usage.get("cache_read_input_tokens"))
        inputs = _int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens")) + cached
        outputs = _int(usage.get("output_tokens"))
        cost = event.get("total_cost_usd")
        turns = event.get("num_turns")
        found = Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            cached_input_tokens=cached,
            total_tokens=inputs + outputs,
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
            turns=int(turns) if isinstance(turns, int) else None,
        )  # the last result object is the run's total
    return found


def codex_usage(text: str) -> Usage | None:
    total: Usage | None = None
    turns = 0
    for event in _events(text, "turn.completed"):
        if event.get("type") != "turn.completed":
            continue
        usage = event.get("usage") or {}
        inputs, outputs = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
        turns += 1
        step = Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            cached_input_tokens=_int(usage.get("cached_input_tokens")),
            total_tokens=inputs + outputs,
        )
        total = step if total is None else total.plus(step)
    if total is not None:
        return total.model_copy(update={"turns": turns})
    matches = _CODEX_TEXT_TOTAL.findall(text)
    if matches:
        return Usage(total_tokens=int(matches[-1].replace(",", "")))
    return None


def opencode_usage(text: str) -> Usage | None:
    total: Usage | None = None
    for event in _events(text, "step_finish"):
        if event.get("type") != "step_finish":
            continue
        part = event.get("part") or {}
        tokens = part.get("tokens") or {}
        cache = tokens.get("cache") or {}
        inputs, outputs = _int(tokens.get("input")), _int(tokens.get("output"))
        cost = part.get("cost")
        step = Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            cached_input_tokens=_int(cache.get("read")),
            total_tokens=_int(tokens.get("total")) or inputs + outputs,
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
            turns=1,
        )
        total = step if total is None else total.plus(step)
    return total


def read_log(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""

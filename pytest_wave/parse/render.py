"""Model -> wave markdown, through the ``wave.md.j2`` template.

The planner writes waves with this, so ``parse(render(wave))`` must equal ``wave`` (less provenance).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_wave.model.executor import EXECUTOR_KEYS, ExecutorSpec, field_name
from pytest_wave.model.wave import Agent, Context7Settings, Wave
from pytest_wave.rendering import render


def executor_items(spec: ExecutorSpec) -> list[tuple[str, str]]:
    """``(markdown key, value text)`` for every setting of ``spec``: written order first, then table order."""
    order = list(spec.key_lines) + [key for key in EXECUTOR_KEYS if key not in spec.key_lines]
    items: list[tuple[str, str]] = []
    for key in order:
        key_spec = EXECUTOR_KEYS[key]
        holder: Any = spec if key_spec.group is None else getattr(spec, key_spec.group)
        value = getattr(holder, field_name(key_spec))
        if value is None or (value == [] and key_spec.kind in ("list", "idlist")):
            continue  # an empty list setting is unset; a JSON [] (opencode.permission) is a value
        if key_spec.kind in ("json", "jsonobj"):
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        items.append((key, text))
    return items


def _context7(settings: Context7Settings) -> str:
    lines = []
    if settings.bundle is not None:
        lines.append(f"- bundle: {settings.bundle}")
    if settings.query is not None:
        lines.append(f'- query: "{settings.query}"')
    return "\n".join(lines) + "\n"


def _fence(prompt: str) -> str:
    """A backtick fence longer than any backtick run at the start of a prompt line."""
    longest = max((len(m.group(0)) for m in re.finditer(r"(?m)^\s*(`{3,})", prompt)), default=0)
    return "`" * max(3, longest + 1 if longest else 3)


def _note(agent: Agent, heading: str) -> str:
    text = agent.section_notes.get(heading)
    return f"\n{text}\n" if text else ""


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _squeeze_blank_lines(text: str) -> str:
    """Drop the blank lines the template's conditionals pile up, but never inside a fenced block.

    Blank lines inside a prompt are prompt text. The prompt's own fence is longer than any backtick
    run in the prompt (see :func:`_fence`), so a plain open/close tracker finds its end.
    """
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if fence:
            marker = match.group(1) if match and not match.group(2).strip() else ""
            if marker[:1] == fence[0] and len(marker) >= len(fence):
                fence = ""
        elif match:
            fence = match.group(1)
        elif line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out)


def render_wave(wave: Wave) -> str:
    text = render(
        "wave.md.j2",
        wave=wave,
        executor_items=executor_items,
        context7=_context7,
        fence=_fence,
        note=_note,
    )
    return _squeeze_blank_lines(text).rstrip("\n") + "\n"

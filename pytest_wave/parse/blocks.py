"""Split wave markdown into ``##`` and ``###`` sections, never looking inside code fences.

The Node.js tool searched raw text with regexes, so a ``### Heading`` or ``## Agent`` line inside a
fenced prompt cut the prompt short. Here every line is first classified as inside or outside a
fence, and only lines outside a fence can be headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pytest_wave.errors import WaveParseError

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    text: str
    in_fence: bool  # inside a fence (the fence's own opening/closing lines count as inside)
    block: int = -1  # index of the outermost fenced block this line belongs to, -1 outside fences


@dataclass(slots=True)
class Section:
    """A heading and the lines up to the next heading of the same or a higher level."""

    level: int
    title: str
    line: int  # line of the heading (0 for the preamble)
    body: list[Line] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(ln.text for ln in self.body).strip("\n")


def classify_lines(text: str, path: str) -> list[Line]:
    """Mark each line as inside or outside a fence.

    A backtick fence with an info string inside an open backtick fence (```` ```bash ````) opens a
    nested block: prompts quote shell snippets, and closing the prompt at the snippet's end (as
    CommonMark and the Node.js tool both do) silently truncates it.
    """
    # Only \n, \r\n and \r end a line (as in editors): str.splitlines() would also split on form feeds,
    # U+2028 and friends, rewriting prompt text and shifting every later line number.
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    out: list[Line] = []
    stack: list[tuple[str, int, int, int]] = []  # (fence char, length, opening line, indent)
    block = -1
    for index, raw in enumerate(lines, start=1):
        stripped = raw.lstrip(" ")
        if not stack:
            match = _FENCE_OPEN.match(raw) if stripped[:3] in ("```", "~~~") else None
            if match:
                marker = match.group(1)
                stack.append((marker[0], len(marker), index, len(raw) - len(stripped)))
                block += 1
                out.append(Line(index, raw, True, block))
            else:
                out.append(Line(index, raw, False))
            continue
        char, length, _, opened_indent = stack[-1]
        if stripped.startswith(char * 3):
            run = len(stripped) - len(stripped.lstrip(char))
            rest = stripped[run:].strip()
            indent = len(raw) - len(stripped)
            # A nested fence may sit indented under a list item; its closing line may be indented as much.
            if not rest and run >= length and indent <= max(3, opened_indent):
                stack.pop()
            elif rest and char == "`" and "`" not in rest and run >= 3:
                stack.append((char, run, index, indent))
        out.append(Line(index, raw, True, block))
    if stack:
        opened = stack[0][2]
        raise WaveParseError(
            f"unterminated code fence opened at line {opened}",
            path=path,
            line=opened,
            fix=f"close the block with a line of {stack[0][1]} '{stack[0][0]}' characters",
        )
    return out


def split_sections(lines: list[Line], level: int, start: int = 0, end: int | None = None) -> Section:
    """Group ``lines[start:end]`` under headings of exactly ``level`` (deeper headings stay in bodies).

    A heading of a *higher* level (fewer ``#``) also ends a section; it is kept in the current body
    for the caller that split at that higher level to deal with.
    """
    stop = len(lines) if end is None else end
    root = Section(level=level - 1, title="", line=0)
    current = root
    for ln in lines[start:stop]:
        if not ln.in_fence and ln.text.startswith("#"):
            match = _HEADING.match(ln.text)
            if match and len(match.group(1)) == level:
                current = Section(level=level, title=match.group(2), line=ln.number)
                root.children.append(current)
                continue
        current.body.append(ln)
    return root

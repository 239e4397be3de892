"""Split wave markdown into ``##`` and ``###`` sections, never looking inside code fences.

The Node.js tool searched raw text with regexes, so a ``### Heading`` or ``## Agent`` line inside a
fenced prompt cut the prompt short. Here fences are tracked first, and only lines outside a fence
can be headings.

For speed the document is kept as one ``list[str]`` of lines, and sections are index ranges into it
(no object per line). Only lines that could matter (a fence marker or a heading) are looked at one
by one: one regex over the text finds them, so plain prose costs nothing in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pytest_wave.errors import WaveParseError

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
_CR_LINE_END = re.compile(r"\r\n?")
# Lines that may open or close a fence (any leading spaces, then ``` or ~~~), and ``##``/``###``
# headings with their title (still to be right-stripped of spaces and tabs). Matched after a "\n"
# (the text is searched with one prepended), so each match is a line start.
_MARKER_LINE = re.compile(r"\n(?:(##|###)[ \t]+([^\n]*)| *(?:```|~~~))")


@dataclass(slots=True)
class Section:
    """A heading and the lines up to the next heading of the same or a higher level.

    ``start``/``end`` delimit the body in :attr:`Document.lines` (0-based, end exclusive); ``line``
    is the 1-based line of the heading (0 for the preamble).
    """

    doc: Document
    level: int
    title: str
    line: int
    start: int
    end: int
    children: list[Section]

    def lines(self) -> list[str]:
        return self.doc.lines[self.start : self.end]

    def text(self) -> str:
        return "\n".join(self.doc.lines[self.start : self.end]).strip("\n")


@dataclass(slots=True)
class Document:
    """The lines of a wave file, where its fenced blocks are, and its ``##``/``###`` headings."""

    text: str
    """The whole file, line endings normalized to \\n."""
    lines: list[str]
    in_fence: list[bool]
    """Per line: inside a fenced block (the fence's own opening/closing lines count as inside)."""
    block_end: dict[int, int]
    """Opening line -> closing line (0-based) of every outermost fenced block."""
    headings: list[tuple[int, int, str]]
    """``(line index, level, title)`` of the ``##`` and ``###`` headings outside fences, in order."""

    def sections(self) -> Section:
        """The ``##`` sections (each with its ``###`` sub-sections as children) under a preamble root."""
        n = len(self.lines)
        root = Section(self, 1, "", 0, 0, n, [])
        current = root
        for index, level, title in self.headings:
            if level == 2:
                current.end = index
                if current.children:
                    current.children[-1].end = index
                current = Section(self, 2, title, index + 1, index + 1, n, [])
                root.children.append(current)
            elif current is not root:  # ### headings in the preamble split nothing
                children = current.children
                if children:
                    children[-1].end = index
                children.append(Section(self, 3, title, index + 1, index + 1, n, []))
        return root


def scan(text: str, path: str) -> Document:
    """Find the fenced blocks and the ``##``/``###`` headings outside them.

    A backtick fence with an info string inside an open backtick fence (```` ```bash ````) opens a
    nested block: prompts quote shell snippets, and closing the prompt at the snippet's end (as
    CommonMark and the Node.js tool both do) silently truncates it.
    """
    # Only \n, \r\n and \r end a line (as in editors): str.splitlines() would also split on form
    # feeds, U+2028 and friends, rewriting prompt text and shifting every later line number.
    if "\r" in text:
        text = _CR_LINE_END.sub("\n", text)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    joined = "\n" + text  # the leading "\n" lets _MARKER_LINE find line 1 too
    in_fence = [False] * len(lines)
    block_end: dict[int, int] = {}
    headings: list[tuple[int, int, str]] = []
    stack: list[tuple[str, int, int, int]] = []  # (fence char, length, opening line index, indent)
    index, offset = 0, 0
    for match in _MARKER_LINE.finditer(joined):
        # Line index of this match: count the line breaks since the previous one (no per-line table).
        start = match.start()
        index += joined.count("\n", offset, start)
        offset = start
        hashes, title = match.group(1, 2)
        if hashes:
            if not stack:
                headings.append((index, len(hashes), title.rstrip(" \t")))
            continue
        raw = lines[index]
        stripped = raw.lstrip(" ")
        if not stack:
            opened = _FENCE_OPEN.match(raw)
            if opened:
                marker = opened.group(1)
                stack.append((marker[0], len(marker), index, len(raw) - len(stripped)))
            continue
        char, length, _, opened_indent = stack[-1]
        if not stripped.startswith(char * 3):
            continue
        run = len(stripped) - len(stripped.lstrip(char))
        rest = stripped[run:].strip()
        indent = len(raw) - len(stripped)
        # A nested fence may sit indented under a list item; its closing line may be indented as much.
        if not rest and run >= length and indent <= max(3, opened_indent):
            outer = stack.pop()
            if not stack:
                first = outer[2]
                block_end[first] = index
                in_fence[first : index + 1] = [True] * (index + 1 - first)
        elif rest and char == "`" and "`" not in rest and run >= 3:
            stack.append((char, run, index, indent))
    if stack:
        opened_at = stack[0][2] + 1
        raise WaveParseError(
            f"unterminated code fence opened at line {opened_at}",
            path=path,
            line=opened_at,
            fix=f"close the block with a line of {stack[0][1]} '{stack[0][0]}' characters",
        )
    return Document(text, lines, in_fence, block_end, headings)

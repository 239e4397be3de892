"""The one marker parser: agent output text (plain or JSONL) in, :class:`MarkerScan` out.

One table, :data:`MARKER_SPECS`, says per kind which keys are required, which values they take
and whether the kind has a positional argument. Everything else is transport: finding marker
lines in what the CLIs really print (``spec/after-0.5.md`` §3.1 lists the shapes that broke the
anchor). Semantic strictness, transport leniency: a line is found however it was wrapped, but a
found line with a missing key or a bad value is *rejected* with a reason code and never counts.

Transport rules, in the order a line meets them:

* Only lines that contain ``[wave-``, ``[deploy-status]`` or ``[infra-status]`` are looked at
  (a substring test before any regex or JSON parse keeps a 5 MB log well under a second).
* A line that is a JSON object (or array) is decoded and every string in it is scanned as text
  of its own (codex ``--json`` ``item.text`` / ``aggregated_output``, claude stream-json
  ``message.content[].text`` and ``result``, opencode ``part.text``), except tool *inputs*
  and streaming deltas. Identical markers are kept once, at their last position.
* A marker must start the line, after stripping one list prefix (``-``, ``*``, ``+``, ``1.``,
  ``1)``) and one surrounding backtick pair. Prose that mentions a marker mid-line is ignored.
* Lines inside a fenced block count only when every non-empty line of the block is a marker:
  agents fence their final markers, while prose examples mix text and markers. A fence still
  open at the end of the text falls back to line-by-line reading.
* ``key=value`` pairs come in any order; a value runs to the next `` key=``. ``detail=`` runs to
  the end of the line unless a known, not-yet-given key of the kind follows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pytest_wave.errors import WaveError
from pytest_wave.model.markers import (
    COMPLETION_LEVELS,
    DEPLOY_STATES,
    DESIGN_STATES,
    DOC_CLOSURE_STATES,
    DOC_DELTA_STATES,
    DURABILITY_LEVELS,
    EVAL_STATES,
    GAP_KINDS,
    GATE_DIMENSIONS,
    GATE_VALUES,
    INTEGRATION_STATES,
    MET_STATES,
    PROOF_LEVELS,
    SECURITY_STATES,
    VERDICTS,
    Marker,
    MarkerKind,
    MarkerScan,
    RejectedMarker,
)

__all__ = ["MARKER_SPECS", "FieldSpec", "KindSpec", "parse_marker_line", "scan_log", "scan_markers"]

Shape = Literal["token", "int", "list"]


@dataclass(frozen=True)
class FieldSpec:
    """One key (or the positional argument) of a marker kind."""

    name: str
    required: bool = True
    values: tuple[str, ...] = ()
    """Allowed values (after lower-casing and aliases); empty means any value matching ``pattern``."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    lower: bool = True
    """Lower-case the value. Off for ids (component, service): they must match the wave file as written."""
    shape: Shape = "token"


@dataclass(frozen=True)
class KindSpec:
    kind: MarkerKind
    fields: tuple[FieldSpec, ...]
    positional: FieldSpec | None = None

    @property
    def reason(self) -> str:
        return f"invalid-{self.kind}-format"

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every key the kind knows, the positional one included (``verdict=pass`` works too)."""
        names = {f.name for f in self.fields}
        if self.positional is not None:
            names.add(self.positional.name)
        return frozenset(names)

    def known(self, key: str) -> bool:
        return key in self.keys


def _enum(name: str, values: tuple[str, ...], **aliases: str) -> FieldSpec:
    return FieldSpec(name, values=values, aliases={k.replace("_", "-"): v for k, v in aliases.items()})


def _count(name: str) -> FieldSpec:
    return FieldSpec(name, shape="int")


def _ident(name: str, chars: str, *, lower: bool = False) -> FieldSpec:
    return FieldSpec(name, pattern=re.compile(rf"[{chars}]+"), lower=lower)


def _paths(name: str) -> FieldSpec:
    return FieldSpec(name, required=False, shape="list", lower=False)


_ID = "A-Za-z0-9._-"  # markers.md uses [a-z0-9._-] with the i flag
_COMPLETE = {"complete": "met"}  # 0.9.13: agents write state=complete

MARKER_SPECS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            "wave-proof",
            (
                _enum("completion", COMPLETION_LEVELS),
                _enum("durability", DURABILITY_LEVELS),
                _enum("proof", PROOF_LEVELS),
                _enum("state", MET_STATES, **_COMPLETE),
            ),
        ),
        KindSpec("wave-doc-delta", (_enum("state", DOC_DELTA_STATES), _paths("paths"))),
        KindSpec("wave-doc-closure", (_enum("state", DOC_CLOSURE_STATES), _paths("paths"))),
        KindSpec(
            "wave-integration",
            (_enum("state", INTEGRATION_STATES), _count("claims"), _count("conflicts"), _count("blockers")),
        ),
        KindSpec("wave-gate", tuple(_enum(dim, GATE_VALUES) for dim in GATE_DIMENSIONS)),
        KindSpec("wave-gap", (_enum("kind", GAP_KINDS),)),
        KindSpec(
            "wave-component",
            (_ident("component", _ID), _ident("level", _ID), _enum("state", MET_STATES, **_COMPLETE)),
        ),
        # ``fail`` means blocked; ``hold`` stays itself (0.9.12 fixed folding it into concerns).
        KindSpec("wave-verdict", (), positional=_enum("verdict", VERDICTS, fail="blocked")),
        KindSpec(
            "wave-phase",
            (),
            positional=FieldSpec("phase", pattern=re.compile(r"[a-z_][a-z0-9_-]*")),
        ),
        KindSpec(
            "deploy-status",
            # ``rolled-back`` is what the anchor's marker reference doc tells agents to write;
            # its code only knows ``rolledover``.
            (_ident("service", "A-Za-z0-9_.:-"), _enum("state", DEPLOY_STATES, rolled_back="rolledover")),
        ),
        KindSpec(
            "infra-status",
            (
                _ident("kind", "A-Za-z0-9_.:-"),
                _ident("target", "A-Za-z0-9_.:@/-"),
                # Open-ended: the infra gate decides which states pass.
                _ident("state", "a-z0-9_.:-", lower=True),
            ),
        ),
        KindSpec(
            "wave-eval",
            (
                _enum("state", EVAL_STATES),
                _count("targets"),
                _count("benchmarks"),
                _count("regressions"),
                _paths("target_ids"),
                _paths("benchmark_ids"),
            ),
        ),
        KindSpec("wave-security", (_enum("state", SECURITY_STATES), _count("findings"), _count("approvals"))),
        KindSpec("wave-design", (_enum("state", DESIGN_STATES),)),
    )
}

# Prefixes the tools themselves log with; they look like markers but are not agent claims.
_TOOL_PREFIXES = frozenset(
    {"wave-launcher", "wave-local-executor", "wave-autonomous", "wave-human-feedback", "wave-dashboard"}
)
_PREFIXES = ("[wave-", "[deploy-status]", "[infra-status]")
_HEAD = re.compile(r"\[((?:wave|deploy|infra)-[A-Za-z0-9_-]+)\]")
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z][A-Za-z0-9_-]*)=")
_LIST_PREFIX = re.compile(r"(?:[-*+]|\d{1,9}[.)])\s+")
# Tool inputs are what the agent asked a tool to do (file contents to write, edit strings):
# docs written about markers would otherwise count as claims. Outputs are still read.
# Streaming deltas (claude --include-partial-messages) are fragments that cut marker lines in
# half; the complete text always follows in the assistant message and the result.
_SKIP_JSON_KEYS = frozenset({"input", "delta"})
_MAX_JSON_DEPTH = 4  # a JSON string holding JSONL holding JSONL... stop somewhere


def _has_prefix(text: str) -> bool:
    return "[wave-" in text or "[deploy-status]" in text or "[infra-status]" in text


def _unwrap(stripped: str) -> str | None:
    """The marker text of a stripped line, or None if the line is not marker-shaped."""
    text = stripped
    if not text.startswith("["):
        match = _LIST_PREFIX.match(text)
        if match:
            text = text[match.end() :]
        if text.startswith("`"):
            if len(text) < 2 or not text.endswith("`") or "`" in text[1:-1]:
                return None
            text = text[1:-1].strip()
    return text if text.startswith(_PREFIXES) else None


def _clean(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


@dataclass
class _Parsed:
    reason: str | None = None
    message: str = ""
    marker_fields: dict[str, str] = field(default_factory=dict)
    value: str | None = None
    detail: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _split_pairs(spec: KindSpec, rest: str) -> tuple[str, list[tuple[str, str]]]:
    """Text before the first key, and the ``(key, value)`` pairs in line order."""
    bounds: list[tuple[str, int, int]] = []  # key, start of "key=", start of value
    given: set[str] = set()
    in_detail = False
    for match in _KEY.finditer(rest):
        key = match.group(1).lower()
        # Free text after detail= may contain "x=y"; only a known key still missing ends it.
        if in_detail and (key == "detail" or key in given or not spec.known(key)):
            continue
        bounds.append((key, match.start(), match.end()))
        given.add(key)
        in_detail = key == "detail"
    lead = rest[: bounds[0][1]] if bounds else rest
    pairs = [
        (key, rest[vstart : bounds[i + 1][1] if i + 1 < len(bounds) else len(rest)])
        for i, (key, _, vstart) in enumerate(bounds)
    ]
    return lead.strip(), pairs


def _check(spec: FieldSpec, raw: str, trailing: list[str], problems: list[str]) -> str | None:
    """Normalize one value; record a problem and return None if it is not allowed."""
    value = _clean(raw)
    if spec.shape == "list":
        return ",".join(p.strip() for p in value.split(",") if p.strip())
    head, _, tail = value.partition(" ")
    head = head.rstrip(",;")
    tail = tail.strip().lstrip("-:\u2013\u2014").strip()
    if tail:
        trailing.append(tail)  # "state=met (all green)", "PASS - ok": the words become the detail
    if spec.lower:
        head = head.lower()
    head = spec.aliases.get(head, head)
    if not head:
        problems.append(f"{spec.name} is empty")
    elif spec.shape == "int" and not head.isdigit():
        problems.append(f"{spec.name}={head} is not a count")
    elif spec.values and head not in spec.values:
        problems.append(f"{spec.name}={head} is not one of {'|'.join(spec.values)}")
    elif spec.pattern is not None and not spec.pattern.fullmatch(head):
        problems.append(f"{spec.name}={head} has characters outside {spec.pattern.pattern}")
    else:
        return head
    return None


def _parse_body(spec: KindSpec, rest: str) -> _Parsed:
    lead, pairs = _split_pairs(spec, rest.replace("\t", " "))
    out = _Parsed()
    problems: list[str] = []
    trailing: list[str] = []
    given: dict[str, str] = {}
    for key, raw in pairs:
        if key == "detail":
            out.detail = _clean(raw) or None
            continue
        if not spec.known(key):
            out.extra[key] = _clean(raw)
            continue
        if key in given and _clean(given[key]).lower() != _clean(raw).lower():
            problems.append(f"{key} given twice ({_clean(given[key])!r}, {_clean(raw)!r})")
        given[key] = raw
    pos = spec.positional
    if pos is not None:
        raw_pos = lead or given.get(pos.name, "")  # "[wave-verdict] verdict=pass" too
        if lead and pos.name in given and _clean(given[pos.name]).lower() != lead.split()[0].lower():
            problems.append(f"{pos.name} given twice ({lead.split()[0]!r}, {_clean(given[pos.name])!r})")
        if raw_pos:
            out.value = _check(pos, raw_pos, trailing, problems)
        elif pos.required:
            problems.append(f"missing {pos.name}")
    elif lead:
        problems.append(f"unexpected text {lead!r} before the first key")
    missing = [f.name for f in spec.fields if f.required and f.name not in given]
    if missing:
        problems.append("missing " + ", ".join(missing))
    for fspec in spec.fields:
        if fspec.name in given:
            value = _check(fspec, given[fspec.name], trailing, problems)
            if value:
                out.marker_fields[fspec.name] = value
    if trailing:
        if out.detail is None:
            out.detail = " ".join(trailing)
        else:
            problems.append(f"unexpected text {' '.join(trailing)!r} after a value")
    if problems:
        if out.extra:
            problems.append("unknown keys: " + ", ".join(sorted(out.extra)))
        out.reason = spec.reason
        out.message = f"[{spec.kind}] " + "; ".join(problems)
    return out


def _render(spec: KindSpec, parsed: _Parsed) -> str:
    parts = [f"[{spec.kind}]"]
    if parsed.value is not None:
        parts.append(parsed.value)
    parts.extend(f"{f.name}={parsed.marker_fields[f.name]}" for f in spec.fields if f.name in parsed.marker_fields)
    if parsed.detail:
        parts.append(f"detail={parsed.detail}")
    return " ".join(parts)


@dataclass(frozen=True)
class _Reading:
    """What one marker text means, wherever it was found; cached, since logs repeat lines."""

    kind: str
    spec: KindSpec | None  # None: unknown kind
    parsed: _Parsed
    canonical: str
    identity: tuple[object, ...]


@lru_cache(maxsize=4096)
def _read(text: str) -> _Reading | None:
    head = _HEAD.match(text)
    if head is None:
        return None
    name = head.group(1).lower()
    if name in _TOOL_PREFIXES:
        return None
    spec = MARKER_SPECS.get(name)
    if spec is None:
        parsed = _Parsed(
            reason="unknown-marker-kind",
            message=f"[{name}] is not a marker kind ({', '.join(MARKER_SPECS)})",
        )
        return _Reading(name, None, parsed, "", ("bad", parsed.reason, text))
    parsed = _parse_body(spec, text[head.end() :])
    if parsed.reason is not None:
        return _Reading(name, spec, parsed, "", ("bad", parsed.reason, text))
    canonical = _render(spec, parsed)
    return _Reading(name, spec, parsed, canonical, ("ok", canonical, tuple(sorted(parsed.extra.items()))))


def _build(reading: _Reading, raw: str, line: int, source: str) -> Marker | RejectedMarker:
    parsed = reading.parsed
    if reading.spec is None or parsed.reason is not None:
        return RejectedMarker(
            kind=reading.kind,
            reason=parsed.reason or "",
            message=parsed.message,
            raw=raw,
            line=line,
            source=source,
        )
    return Marker(
        kind=reading.spec.kind,
        fields=parsed.marker_fields,
        value=parsed.value,
        detail=parsed.detail,
        extra=parsed.extra,
        raw=raw,
        canonical=reading.canonical,
        line=line,
        source=source,
    )


def parse_marker_line(line: str, *, line_no: int = 0, source: str = "text") -> Marker | RejectedMarker | None:
    """Parse one line (list prefix and backticks allowed); None when it is not marker-shaped.

    For a ``wave signal``-style helper: render, then check the line parses back.
    """
    stripped = line.strip()
    text = _unwrap(stripped)
    reading = None if text is None else _read(text)
    return None if reading is None else _build(reading, stripped, line_no, source)


@dataclass
class _Collector:
    found: list[tuple[_Reading, str, int, str]] = field(default_factory=list)
    fenced_dropped: int = 0

    def add(self, text: str, raw: str, line: int, source: str) -> None:
        reading = _read(text)
        if reading is not None:
            self.found.append((reading, raw, line, source))

    def scan(self) -> MarkerScan:
        # Dedupe identical markers, keeping the *last* occurrence. Claude prints its final text
        # twice (the last assistant event and the ``result`` event), and a rerun of a helper
        # may print a marker again: one claim, not two (matters for [wave-gap], which collects
        # all). Keeping the last position, not the first, is what keeps ``last()`` right: with
        # X, Y, X the agent's final word is X, and dropping the later X would make it Y.
        seen: set[tuple[object, ...]] = set()
        kept: list[Marker | RejectedMarker] = []
        for reading, raw, line, source in reversed(self.found):
            if reading.identity not in seen:
                seen.add(reading.identity)
                kept.append(_build(reading, raw, line, source))
        kept.reverse()
        accepted = [m for m in kept if isinstance(m, Marker)]
        rejected = [r for r in kept if isinstance(r, RejectedMarker)]
        unknown: dict[str, set[str]] = {}
        for marker in accepted:
            if marker.extra:
                unknown.setdefault(marker.kind, set()).update(marker.extra)
        return MarkerScan(
            accepted=accepted,
            rejected=rejected,
            unknown_keys={kind: sorted(keys) for kind, keys in unknown.items()},
            raw_count=len(self.found),
            duplicate_count=len(self.found) - len(kept),
            fenced_dropped=self.fenced_dropped,
        )


def _json_strings(obj: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every (json path, string) in a decoded JSON value that could hold a marker."""
    if isinstance(obj, str):
        if _has_prefix(obj):
            yield path, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key not in _SKIP_JSON_KEYS:
                yield from _json_strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _json_strings(value, f"{path}[{index}]")


def _try_json(stripped: str) -> Any | None:
    if not (
        (stripped.startswith("{") and stripped.endswith("}"))
        or (stripped.startswith(("[{", '["')) and stripped.endswith("]"))
    ):
        return None
    try:
        return json.loads(stripped)
    except ValueError:  # a torn or non-JSON line: read it as text
        return None


def _fence_open(stripped: str) -> tuple[str, int] | None:
    """(fence char, length) when ``stripped`` opens a fenced block (``` or ~~~, any info string)."""
    if not stripped.startswith(("```", "~~~")):
        return None
    char = stripped[0]
    length = len(stripped) - len(stripped.lstrip(char))
    if char == "`" and "`" in stripped[length:]:
        return None  # ```inline code``` on one line is not a fence
    return char, length


def _scan_lines(
    collector: _Collector, text: str, *, first_line: int, fixed_line: int | None, source: str, depth: int
) -> None:
    """Scan ``text``; markers get ``fixed_line`` (JSON strings) or their own line number."""
    lines = text.split("\n")

    def line_no(index: int) -> int:
        return fixed_line if fixed_line is not None else first_line + index

    def plain(index: int, line: str) -> None:
        stripped = line.strip()
        decoded = _try_json(stripped) if depth < _MAX_JSON_DEPTH else None
        if decoded is not None:
            for path, value in _json_strings(decoded, ""):
                inner = f"{source}:{path}" if source != "text" else path
                _scan_lines(collector, value, first_line=0, fixed_line=line_no(index), source=inner, depth=depth + 1)
            return
        candidate = _unwrap(stripped)
        if candidate is not None:
            collector.add(candidate, stripped, line_no(index), source)

    fence: tuple[str, int] | None = None
    block: list[int] = []
    for index, line in enumerate(lines):
        if fence is not None:
            stripped = line.strip()
            if (
                stripped
                and stripped[0] == fence[0]
                and stripped == fence[0] * len(stripped)
                and len(stripped) >= fence[1]
            ):
                _close_fence(collector, lines, block, line_no, source)
                fence = None
            else:
                block.append(index)
            continue
        if "```" in line or "~~~" in line:
            opened = _fence_open(line.strip())
            if opened is not None:
                fence, block = opened, []
                continue
        if _has_prefix(line):
            plain(index, line)
    if fence is not None:
        # Unterminated fence at the end: the anchor hid every later marker (fixed in 0.7.3).
        for index in block:
            if _has_prefix(lines[index]):
                plain(index, lines[index])


def _close_fence(
    collector: _Collector, lines: list[str], block: list[int], line_no: Callable[[int], int], source: str
) -> None:
    body = [(index, stripped) for index in block if (stripped := lines[index].strip())]
    found: list[tuple[int, str, str]] = []
    for index, stripped in body:
        candidate = _unwrap(stripped) if _has_prefix(stripped) else None
        if candidate is None:
            # Prose in the fence: it shows examples, so none of its marker lines is a claim.
            collector.fenced_dropped += sum(1 for _, s in body if _has_prefix(s) and _unwrap(s) is not None)
            return
        found.append((index, stripped, candidate))
    for index, stripped, candidate in found:
        collector.add(candidate, stripped, line_no(index), source)


def scan_markers(text: str, *, first_line: int = 1) -> MarkerScan:
    """Every marker in ``text`` (a whole log, or the part of it written by the current attempt).

    ``first_line`` numbers the first line of ``text``, for text cut from the middle of a log.
    Never raises on arbitrary input.
    """
    collector = _Collector()
    if _has_prefix(text):
        _scan_lines(collector, text, first_line=first_line, fixed_line=None, source="text", depth=0)
    return collector.scan()


def scan_log(path: Path, *, offset: int = 0) -> MarkerScan:
    """Scan a log file from byte ``offset`` (where the current attempt started) to its end.

    Reading from the attempt's own offset is what keeps a stale marker from an earlier attempt
    out of this attempt's verdict (``spec/after-0.5.md`` §3.2). Line numbers stay file-absolute.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WaveError(
            f"cannot read agent log: {exc.strerror or exc}",
            path=path,
            fix="check that the agent ran and wrote its log",
        ) from exc
    offset = max(0, min(offset, len(data)))
    first_line = data.count(b"\n", 0, offset) + 1
    return scan_markers(data[offset:].decode("utf-8", errors="replace"), first_line=first_line)

"""Record normalization: the pydantic model is the schema; a fast path skips it for canonical lines.

Reading a 100,000-line log through ``CoordinationRecord.model_validate`` costs seconds. Nearly every
line was written by :func:`encode` (our appender) and is therefore already canonical: every field
present, enums lower-case, lists clean. :func:`normalize` accepts such a dict as is after cheap type
and membership checks; anything else (a foreign writer's partial record, upper-case enums, a
missing field) goes through the pydantic model, which fills defaults or names the bad field. Both
paths yield the same dict for the same input (tested), so validation is lazy, never lossy.

Log lines take an even faster road: :func:`decode_canonical` decodes a line straight into a
msgspec struct whose field types are the canonical shape (enums as literals, no unknown keys, no
missing key), so decoding and most of the canonical check happen in one C pass, about twice as
fast as decoding to a dict and checking it in Python. A line it declines (an extra field, an
upper-case enum, a partial update, broken JSON) goes the dict road above, which keeps every field
or names what is wrong. A bulk read decodes a whole block of lines into such structs in one call
(:func:`decode_canonical_chunk`), with the same checks made per block.
"""

from __future__ import annotations

import json
import re
from itertools import chain, compress, repeat
from operator import attrgetter, gt, itemgetter
from typing import Annotated, Any

import msgspec
from pydantic import ValidationError

from pytest_wave.model.coordination import (
    CONFIDENCES,
    PRIORITIES,
    RECORD_KINDS,
    RECORD_STATUSES,
    SEVERITIES,
    Confidence,
    CoordinationRecord,
    Priority,
    RecordKind,
    RecordStatus,
    Severity,
)

try:  # orjson is 2-3x faster than json for the log's small objects; json is the fallback.
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None  # type: ignore[assignment]

Rec = dict[str, Any]
"""A canonical record as the reducer holds it: the on-disk camelCase dict."""

KINDS = frozenset(RECORD_KINDS)
STATUSES = frozenset(RECORD_STATUSES)
_PRIORITIES = frozenset(PRIORITIES)
_CONFIDENCES = frozenset(CONFIDENCES)
_SEVERITIES = frozenset(SEVERITIES)
_FIELD_ALIASES: dict[str, str] = {name: (info.alias or name) for name, info in CoordinationRecord.model_fields.items()}
CANONICAL_KEYS = frozenset(_FIELD_ALIASES.values())


class RecordError(ValueError):
    """A record that cannot be used; ``field`` names the offending key (camelCase) when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def loads(data: bytes | str) -> Any:
    return _orjson.loads(data) if _orjson is not None else json.loads(data)


def dumps_line(record: Rec) -> bytes:
    """One compact JSON line (no trailing newline)."""
    if _orjson is not None:
        return _orjson.dumps(record)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def dumps_pretty(data: Any) -> str:
    """Pretty JSON with 2 spaces and a trailing newline (the layout every derived JSON file uses)."""
    if _orjson is not None:
        return _orjson.dumps(data, option=_orjson.OPT_INDENT_2).decode("utf-8") + "\n"
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _clean_strs(value: list[Any]) -> bool:
    """Every item a non-empty, stripped, unique string (what the model's list cleaning yields)."""
    if not value:
        return True
    if len(value) == 1:
        item = value[0]
        return item.__class__ is str and item != "" and not item[0].isspace() and not item[-1].isspace()
    seen: set[str] = set()
    for item in value:
        if item.__class__ is not str or not item or item in seen or item != item.strip():
            return False
        seen.add(item)
    return True


_KEY_ORDER = (
    "id", "lane", "agentId", "closureCondition", "createdAt", "updatedAt", "summary", "detail", "source",
    "executorId", "requesterLane", "ownerLane", "kind", "status", "priority", "confidence",
    "recordVersion", "wave", "required", "targets", "artifactRefs", "dependsOn",
    "attempt", "requesterWave", "ownerWave", "severity",
)  # fmt: skip
assert frozenset(_KEY_ORDER) == CANONICAL_KEYS
_get_values = itemgetter(*_KEY_ORDER)
_NONE = type(None)
_TYPE_ROWS = frozenset(
    (*(str,) * 16, int, int, bool, list, list, list, attempt, requester, owner, severity)
    for attempt in (_NONE, int)
    for requester in (_NONE, int)
    for owner in (_NONE, int)
    for severity in (_NONE, str)
)


def _is_canonical(d: Rec) -> bool:
    """True when ``d`` is exactly what ``CoordinationRecord(**d).to_json_dict()`` would return.

    It runs once per log line, so it is written for speed: one C-level ``itemgetter`` fetches every
    field (a missing one raises), one set lookup checks all their types at once.
    """
    try:
        values = _get_values(d)
    except KeyError:
        return False
    if tuple(map(type, values)) not in _TYPE_ROWS:
        return False
    rid, lane, agent, closure, created, updated, _, _, source = values[:9]
    kind, status, priority, confidence = values[12:16]
    if kind not in KINDS or status not in STATUSES or priority not in _PRIORITIES or confidence not in _CONFIDENCES:
        return False
    severity = values[25]
    if severity is not None and severity not in _SEVERITIES:
        return False
    if values[17] < 0 or not (rid and lane and agent and created and updated):
        return False
    if rid != rid.strip() or lane != lane.strip() or agent != agent.strip():
        return False
    if closure != closure.strip() or source != source.strip():
        return False
    return _clean_strs(values[19]) and _clean_strs(values[20]) and _clean_strs(values[21])


_Text = Annotated[str, msgspec.Meta(min_length=1)]


class _CanonicalLine(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """The canonical record as a msgspec struct: what decodes into it is canonical up to the
    strip/dedupe checks of :func:`decode_canonical`. Field order is the model's, so the dict it
    yields has the same key order as ``CoordinationRecord.to_json_dict()``."""

    recordVersion: int
    id: _Text
    kind: RecordKind
    wave: Annotated[int, msgspec.Meta(ge=0)]
    lane: _Text
    agentId: _Text
    targets: list[_Text]
    status: RecordStatus
    priority: Priority
    artifactRefs: list[_Text]
    dependsOn: list[_Text]
    closureCondition: str
    createdAt: _Text
    updatedAt: _Text
    confidence: Confidence
    summary: str
    detail: str
    attempt: int | None
    source: str
    executorId: str
    requesterLane: str
    ownerLane: str
    requesterWave: int | None
    ownerWave: int | None
    required: bool
    severity: Severity | None


assert tuple(_CanonicalLine.__struct_fields__) == tuple(_FIELD_ALIASES.values())
CanonicalLine = _CanonicalLine
_decode_line = msgspec.json.Decoder(_CanonicalLine).decode
asdict = _asdict = msgspec.structs.asdict
_DecodeError = msgspec.DecodeError  # ValidationError is a subclass


def _stripped_unique(values: list[str]) -> bool:
    """Items (already non-empty strings) stripped and unique, as the model's list cleaning leaves them."""
    if len(values) == 1:
        item = values[0]
        return item.strip() == item
    return len(set(values)) == len(values) and all(item.strip() == item for item in values)


def decode_canonical(line: bytes) -> Rec | None:
    """The canonical dict of a log line that is canonical as written, else ``None``.

    ``None`` says nothing about validity (the line may be a partial update or have an unknown
    key): decode it with :func:`loads` and pass it to :func:`normalize`, which decides.
    """
    try:
        record = _decode_line(line)
    except _DecodeError:
        return None
    text = record.id
    if text.strip() != text:
        return None
    text = record.lane
    if text.strip() != text:
        return None
    text = record.agentId
    if text.strip() != text:
        return None
    text = record.closureCondition
    if text and text.strip() != text:
        return None
    text = record.source
    if text and text.strip() != text:
        return None
    values = record.targets
    if values and not _stripped_unique(values):
        return None
    values = record.artifactRefs
    if values and not _stripped_unique(values):
        return None
    values = record.dependsOn
    if values and not _stripped_unique(values):
        return None
    return _asdict(record)


_decode_many = msgspec.json.Decoder(_CanonicalLine).decode_lines
_get_texts = attrgetter("id", "lane", "agentId", "closureCondition", "source")
_get_lists = attrgetter("targets", "artifactRefs", "dependsOn")
_strip = str.strip
# Two values on one line: after a record's closing brace only whitespace and a newline may follow.
# A match can be a false alarm (a summary that says "}{"): that chunk is then read line by line.
_TWO_ON_A_LINE = re.compile(rb"\}[ \t\r]*\{")


def decode_canonical_chunk(data: bytes | bytearray, start: int, end: int) -> list[_CanonicalLine] | None:
    """The canonical structs of the whole lines ``data[start:end]`` when *every* line there is
    canonical as written and holds one record; else ``None`` (read that chunk line by line).

    One C call decodes the chunk, and the checks :func:`decode_canonical` makes per line are made
    per chunk with C-level maps (``str.strip`` returns the very same string when there is nothing
    to strip, so comparing the lists is mostly identity checks): a canonical chunk costs no
    Python-level step per record. The structs are exactly what :func:`decode_canonical` builds
    for each line, and ``msgspec.structs.asdict`` gives the same dict.
    """
    if _TWO_ON_A_LINE.search(data, start, end) is not None:
        return None
    try:
        items: list[_CanonicalLine] = _decode_many(memoryview(data)[start:end])
    except _DecodeError:
        return None
    # No line holds two values (checked above), so as many values as newlines means one value on
    # every line: no blank line, no value spread over several lines.
    if len(items) != data.count(b"\n", start, end):
        return None
    lists = list(chain.from_iterable(map(_get_lists, items)))
    if max(map(len, lists), default=0) > 1:
        several = compress(lists, map(gt, map(len, lists), repeat(1)))
        if not all(len(set(values)) == len(values) for values in several):
            return None
    texts = list(chain.from_iterable(map(_get_texts, items)))
    texts.extend(chain.from_iterable(lists))
    if texts != list(map(_strip, texts)):
        return None
    return items


def validation_message(exc: ValidationError) -> tuple[str, str | None]:
    """``(one-line message, camelCase field)`` for the first error, in the anchor's wording."""
    error = exc.errors(include_url=False)[0]
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else None
    if field is not None:
        field = _FIELD_ALIASES.get(field, field)
    kind = error.get("type", "")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        values = expected.replace("'", "").replace(" or ", ", ")
        return f"Coordination {field} must be one of {values} (got {error.get('input')!r})", field
    if kind == "missing":
        return f"Coordination {field} is required", field
    return f"Coordination {field}: {error.get('msg', 'invalid')} (got {error.get('input')!r})", field


def normalize(raw: Any) -> tuple[Rec, frozenset[str] | None]:
    """Validate one decoded line. Returns the canonical dict and the keys the line really set
    (``None`` = all of them; a partial update only overrides what it set when folded)."""
    if raw.__class__ is dict and _is_canonical(raw):
        return raw, None
    if not isinstance(raw, dict):
        raise RecordError(f"a record must be a JSON object, not {type(raw).__name__}")
    try:
        model = CoordinationRecord.model_validate(raw)
    except ValidationError as exc:
        message, field = validation_message(exc)
        raise RecordError(message, field) from None
    out = model.to_json_dict()
    if raw.keys() >= CANONICAL_KEYS:
        return out, None
    set_keys = {_FIELD_ALIASES.get(name, name) for name in model.model_fields_set}
    set_keys.update(key for key in raw if key not in CANONICAL_KEYS)  # extras are always "set"
    set_keys.add("id")
    return out, frozenset(set_keys)


def make_record(**fields: Any) -> Rec:
    """A new canonical record from snake_case or camelCase keyword fields (raises RecordError)."""
    try:
        return CoordinationRecord.model_validate(fields).to_json_dict()
    except ValidationError as exc:
        message, field = validation_message(exc)
        raise RecordError(message, field) from None


def text_of(record: Rec) -> str:
    return f"{record['summary']} {record['detail']}"

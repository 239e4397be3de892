"""The append-only JSONL log: atomic appends under a cross-process lock, and a tolerant reader.

Appends: every batch is encoded first (a bad record raises before anything is written), then
written with one ``write()`` on an ``O_APPEND`` descriptor while holding a :class:`filelock.FileLock`
next to the log, so lines from concurrent processes never interleave. If a writer was killed
mid-line, the next append first ends that fragment with a newline: the fragment stays a single
reportable corrupt line instead of swallowing the next whole record. Nothing ever rewrites the log.

Reads: :class:`LogReader` keeps a byte offset and reads only what was appended since the last call.
A line that is not JSON, not an object, or fails the schema is reported as a :class:`LogIssue` with
its line number and skipped; every whole record around it is kept. An incomplete last line (no
newline yet) is not consumed: it is either a write in progress or a torn tail, reported as such.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from pytest_wave.coordination.gcpause import gc_paused
from pytest_wave.coordination.records import (
    KINDS,
    Rec,
    RecordError,
    decode_canonical,
    dumps_line,
    loads,
    normalize,
)
from pytest_wave.model.coordination import CoordinationRecord, IssueKind, LogIssue

_ALWAYS = frozenset({"recordVersion", "id", "kind", "lane", "wave", "agentId", "createdAt", "updatedAt"})
LOCK_TIMEOUT = 30.0  # seconds; an append is one write, so a wait this long means a stuck process
BULK_BYTES = 1 << 20  # a read this big pauses the cyclic GC (a cold read of a long log)


@dataclass(slots=True)
class LogEntry:
    """One whole record read from the log: the canonical dict, the keys it set, its line."""

    record: Rec
    line: int
    set_keys: frozenset[str] | None = None


@dataclass
class ReadBatch:
    entries: list[LogEntry] = field(default_factory=list)
    issues: list[LogIssue] = field(default_factory=list)
    torn_tail: LogIssue | None = None

    @property
    def records(self) -> list[Rec]:
        return [entry.record for entry in self.entries]

    def all_issues(self) -> list[LogIssue]:
        return [*self.issues, *([self.torn_tail] if self.torn_tail else [])]


def append_lines(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Append whole lines to ``path`` atomically with respect to other appenders.

    ``fsync`` only matters for power loss (the torn-tail handling covers a crash mid-write), and it
    costs about a millisecond per append, so it is off unless the caller asks for it.
    """
    if not data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with _append_lock(path):
        _write_locked(path, data, fsync=fsync)


def _append_lock(path: Path) -> FileLock:
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


def _write_locked(path: Path, data: bytes, *, fsync: bool) -> None:
    """The write itself; the caller holds the append lock."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # seal a fragment left by a killed writer
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


class CoordinationLog:
    """One coordination JSONL file."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync

    def append(self, records: Iterable[Rec | CoordinationRecord]) -> list[Rec]:
        """Validate and append ``records`` as whole lines; returns the canonical dicts written.

        Raises :class:`RecordError` (naming the field) before writing anything if one is invalid.
        """
        canonical, data = _encode(records)
        append_lines(self.path, data, fsync=self.fsync)
        return canonical

    def append_computed(self, compute: Callable[[], list[Rec]]) -> list[Rec]:
        """Append what ``compute`` returns, computed while no other process can append.

        For records derived from the log itself (the launcher's seeds): every process computes the
        same ones, so deciding and appending must be one step, or two processes refreshing at once
        both append the same seed. ``compute`` must read the log, not append to it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _append_lock(self.path):
            canonical, data = _encode(compute())
            if data:
                _write_locked(self.path, data, fsync=self.fsync)
        return canonical

    def reader(self, known_agents: Iterable[str] | None = None) -> LogReader:
        return LogReader(self.path, known_agents=known_agents)

    def read_all(self, known_agents: Iterable[str] | None = None) -> ReadBatch:
        return LogReader(self.path, known_agents=known_agents).poll(final=True)


def _encode(records: Iterable[Rec | CoordinationRecord]) -> tuple[list[Rec], bytes]:
    """Validate ``records`` (raising :class:`RecordError` before anything is written) and encode them."""
    canonical: list[Rec] = []
    lines: list[bytes] = []
    for record in records:
        if isinstance(record, CoordinationRecord):
            full, set_keys = record.to_json_dict(), None
        else:
            full, set_keys = normalize(record)
        canonical.append(full)
        # A partial update is written as given (plus id and timestamps): written out in full,
        # its defaults would overwrite the fields it meant to leave alone when folded.
        line = full if set_keys is None else {k: full[k] for k in full if k in set_keys or k in _ALWAYS}
        lines.append(dumps_line(line) + b"\n")
    return canonical, b"".join(lines)


class LogReader:
    """Incremental reader: each :meth:`poll` parses only the bytes appended since the last one."""

    def __init__(self, path: Path, *, known_agents: Iterable[str] | None = None) -> None:
        self.path = path
        self.offset = 0
        self.lines_read = 0
        self.known_agents = frozenset(known_agents) if known_agents is not None else None
        self._inode: tuple[int, int] | None = None

    def poll(self, *, final: bool = False) -> ReadBatch:
        """New whole records and issues. With ``final``, an incomplete last line is reported as torn."""
        batch = ReadBatch()
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if self._inode is not None and (identity != self._inode or stat.st_size < self.offset):
                    # The log was replaced or truncated by hand: start over rather than read garbage.
                    self.offset, self.lines_read = 0, 0
                self._inode = identity
                handle.seek(self.offset)
                data = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return batch  # no log (yet): nothing was posted
        if not data:
            return batch
        end = data.rfind(b"\n") + 1
        tail = data[end:]
        # A cold read builds a lot of long-lived state (see gcpause); a 3 s poll's few lines do not.
        with gc_paused() if end >= BULK_BYTES else nullcontext():
            line_no = decode_lines(data[:end], str(self.path), self.lines_read, self.known_agents, batch)
        self.offset += end
        self.lines_read = line_no
        if tail:
            torn = _issue(str(self.path), line_no + 1, "torn", f"incomplete last line ({len(tail)} bytes, no newline)")
            if final:
                batch.torn_tail = torn
        return batch


def decode_lines(
    whole: bytes, path: str, lines_before: int, known_agents: frozenset[str] | None, batch: ReadBatch
) -> int:
    """Decode newline-terminated JSONL ``whole`` into ``batch``; returns the last line number.

    Independent of where the bytes came from: ``path`` and ``lines_before`` only label issues.
    Canonical lines (nearly all) take :func:`decode_canonical`; the rest are decoded to a dict
    and normalized, which keeps unknown keys, fills defaults or reports the line.
    """
    line_no = lines_before
    if not whole:
        return line_no
    entries = batch.entries
    issues = batch.issues
    fast = decode_canonical
    # Iterating a BytesIO yields one line at a time without copying the whole buffer into a list
    # first (a 70 MB log would otherwise be held twice), and is faster than bytes.split.
    for raw_line in io.BytesIO(whole):
        line_no += 1
        record = fast(raw_line)
        set_keys: frozenset[str] | None = None
        if record is None:
            if not raw_line.strip():
                continue
            try:
                decoded = loads(raw_line)
            except ValueError as exc:
                issues.append(_issue(path, line_no, "corrupt", f"not valid JSON ({_short(exc)})"))
                continue
            try:
                record, set_keys = normalize(decoded)
            except RecordError as exc:
                kind: IssueKind = "unknown-kind" if exc.field == "kind" and _unknown_kind(decoded) else "invalid"
                issues.append(_issue(path, line_no, kind, exc.message))
                continue
        if known_agents is not None and record["agentId"] not in known_agents:
            issues.append(
                LogIssue(
                    path=path,
                    line=line_no,
                    kind="unknown-agent",
                    message=f"record {record['id']} is from agent {record['agentId']!r}, not in this wave; kept",
                    severity="warning",
                    kept=True,
                )
            )
        entries.append(LogEntry(record, line_no, set_keys))
    return line_no


def _unknown_kind(decoded: object) -> bool:
    if not isinstance(decoded, dict):
        return False
    kind = decoded.get("kind")
    return isinstance(kind, str) and kind.strip().lower() not in KINDS


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:120]


def _issue(path: str, line: int, kind: IssueKind, message: str) -> LogIssue:
    return LogIssue(path=path, line=line, kind=kind, message=message)

"""The append-only JSONL log: atomic appends under a cross-process lock, and a tolerant reader.

Appends: every batch is encoded first (a bad record raises before anything is written; secrets in
any text are redacted, see :mod:`pytest_wave.executors.redact`), then
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
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from filelock import FileLock

from pytest_wave.coordination.gcpause import gc_paused
from pytest_wave.coordination.records import (
    KINDS,
    CanonicalLine,
    Rec,
    RecordError,
    asdict,
    decode_canonical,
    decode_canonical_chunk,
    dumps_line,
    loads,
    normalize,
)
from pytest_wave.executors.redact import Redactor
from pytest_wave.model.coordination import CoordinationRecord, IssueKind, LogIssue

_ALWAYS = frozenset({"recordVersion", "id", "kind", "lane", "wave", "agentId", "createdAt", "updatedAt"})
LOCK_TIMEOUT = 30.0  # seconds; an append is one write, so a wait this long means a stuck process
BULK_BYTES = 1 << 20  # a read this big is a bulk read: cyclic GC paused, decoded block by block
CHUNK_BYTES = 1 << 18  # a bulk read's block: ~350 records, one decode call, still in the CPU cache
_get_agent = attrgetter("agentId")


@dataclass(slots=True)
class LogEntry:
    """One whole record read from the log: the canonical dict, the keys it set, its line."""

    record: Rec
    line: int
    set_keys: frozenset[str] | None = None


Version = CanonicalLine | LogEntry
"""One record of a bulk read: a canonical line's struct, or an entry already normalized."""


class ReadBatch:
    """What one poll read: whole records in log order, issues, and a torn tail if any.

    A bulk read keeps canonical lines as decoded structs (``columns``): the reducer folds those
    without building a dict per line. :attr:`entries` builds the dicts when someone asks.
    """

    def __init__(self) -> None:
        self.issues: list[LogIssue] = []
        self.torn_tail: LogIssue | None = None
        self._entries: list[LogEntry] = []
        self._columns: tuple[list[Version], list[int]] | None = None

    @property
    def entries(self) -> list[LogEntry]:
        columns = self._columns
        if columns is not None:
            self._columns = None
            self._entries = [
                version if version.__class__ is LogEntry else LogEntry(asdict(version), line)  # type: ignore[arg-type]
                for version, line in zip(*columns, strict=True)
            ]
        return self._entries

    @property
    def columns(self) -> list[Version] | None:
        """The records of a bulk read in log order (structs and entries), or None."""
        return self._columns[0] if self._columns is not None else None

    def __len__(self) -> int:
        return len(self._columns[0]) if self._columns is not None else len(self._entries)

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


def encode_records(records: Iterable[Rec | CoordinationRecord]) -> list[tuple[Rec, bool, bytes]]:
    """Validate ``records`` (raising :class:`RecordError` before anything is written); for each, its
    canonical dict, whether it is a partial update, and the line to store (every store writes the same)."""
    out: list[tuple[Rec, bool, bytes]] = []
    redactor = Redactor()
    for record in records:
        if isinstance(record, CoordinationRecord):
            full, set_keys = record.to_json_dict(), None
        else:
            full, set_keys = normalize(record)
        # No credential reaches the log, whoever wrote the text (a seed quoting a prompt, an agent).
        full = redactor.record(full)
        # A partial update is written as given (plus id and timestamps): written out in full,
        # its defaults would overwrite the fields it meant to leave alone when folded.
        line = full if set_keys is None else {k: full[k] for k in full if k in set_keys or k in _ALWAYS}
        out.append((full, set_keys is not None, dumps_line(line)))
    return out


def _encode(records: Iterable[Rec | CoordinationRecord]) -> tuple[list[Rec], bytes]:
    encoded = encode_records(records)
    return [full for full, _, _ in encoded], b"".join(line + b"\n" for _, _, line in encoded)


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
        path = str(self.path)
        try:
            with open(self.path, "rb", buffering=0) as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if self._inode is not None and (identity != self._inode or stat.st_size < self.offset):
                    # The log was replaced or truncated by hand: start over rather than read garbage.
                    self.offset, self.lines_read = 0, 0
                self._inode = identity
                handle.seek(self.offset)
                if stat.st_size - self.offset >= BULK_BYTES:
                    # A cold read builds a lot of long-lived state (see gcpause); a poll's few lines do not.
                    with gc_paused():
                        consumed, line_no, tail = _read_bulk(handle, path, self.lines_read, self.known_agents, batch)
                else:
                    data = handle.readall()
                    consumed = data.rfind(b"\n") + 1
                    tail = len(data) - consumed
                    line_no = self.lines_read
                    if consumed:
                        line_no = _decode_line_by_line(
                            data[:consumed], path, line_no, self.known_agents, batch.issues, batch.entries
                        )
        except (FileNotFoundError, NotADirectoryError):
            return batch  # no log (yet): nothing was posted
        self.offset += consumed
        self.lines_read = line_no
        if tail and final:
            batch.torn_tail = _issue(path, line_no + 1, "torn", f"incomplete last line ({tail} bytes, no newline)")
        return batch


def _read_bulk(
    handle: io.RawIOBase, path: str, lines_before: int, known_agents: frozenset[str] | None, batch: ReadBatch
) -> tuple[int, int, int]:
    """Read a long log to its end in blocks; returns (bytes of whole lines, last line number,
    bytes of an incomplete last line).

    Blocks go into one reused buffer (a 70 MB log never sits in memory whole, and the kernel's
    copy lands in memory the decoder reads next, still in the CPU cache). The whole lines of a
    block are one chunk: canonical lines (nearly all) are decoded in one call and kept as
    structs; a chunk with any other line is read line by line.
    """
    versions: list[Version] = []
    lines: list[int] = []
    issues = batch.issues
    buffer = bytearray(CHUNK_BYTES)
    filled = consumed = 0
    line_no = lines_before
    while True:
        if filled == len(buffer):  # one line longer than the buffer: make room
            buffer = buffer + bytearray(len(buffer))
        with memoryview(buffer) as view:
            read = handle.readinto(view[filled:])
        if not read:
            break
        filled += read
        end = buffer.rfind(b"\n", 0, filled) + 1
        if not end:
            continue
        items = decode_canonical_chunk(buffer, 0, end)
        if items is None:
            slow: list[LogEntry] = []
            line_no = _decode_line_by_line(bytes(buffer[:end]), path, line_no, known_agents, issues, slow)
            versions.extend(slow)
            lines.extend([entry.line for entry in slow])
        else:
            if known_agents is not None and not known_agents.issuperset(map(_get_agent, items)):
                for number, item in enumerate(items, line_no + 1):
                    if item.agentId not in known_agents:
                        issues.append(unknown_agent_issue(path, number, item.id, item.agentId))
            versions.extend(items)
            lines.extend(range(line_no + 1, line_no + 1 + len(items)))
            line_no += len(items)
        consumed += end
        buffer[: filled - end] = buffer[end:filled]
        filled -= end
    batch._columns = (versions, lines)
    return consumed, line_no, filled


def _decode_line_by_line(
    whole: bytes,
    path: str,
    lines_before: int,
    known_agents: frozenset[str] | None,
    issues: list[LogIssue],
    entries: list[LogEntry],
) -> int:
    """Canonical lines take :func:`decode_canonical`; the rest are decoded to a dict and normalized,
    which keeps unknown keys, fills defaults or reports the line."""
    line_no = lines_before
    fast = decode_canonical
    # Iterating a BytesIO yields one line at a time without copying the whole buffer into a list
    # first, and is faster than bytes.split.
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
            issues.append(unknown_agent_issue(path, line_no, record["id"], record["agentId"]))
        entries.append(LogEntry(record, line_no, set_keys))
    return line_no


def unknown_agent_issue(path: str, line: int, rid: str, agent: str) -> LogIssue:
    """The warning for a record whose author is not in the wave (the record is kept)."""
    return LogIssue(
        path=path,
        line=line,
        kind="unknown-agent",
        message=f"record {rid} is from agent {agent!r}, not in this wave; kept",
        severity="warning",
        kept=True,
    )


def _unknown_kind(decoded: object) -> bool:
    if not isinstance(decoded, dict):
        return False
    kind = decoded.get("kind")
    return isinstance(kind, str) and kind.strip().lower() not in KINDS


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:120]


def _issue(path: str, line: int, kind: IssueKind, message: str) -> LogIssue:
    return LogIssue(path=path, line=line, kind=kind, message=message)

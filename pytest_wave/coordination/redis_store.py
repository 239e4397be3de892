"""The coordination log in a Redis stream: one log shared by every host of a distributed wave.

The JSONL file (:mod:`pytest_wave.coordination.log`) stays the default for one machine; this backend
stores the very same lines in a Redis stream (``XADD``), which gives what the file gives locally:

- append-only and ordered: entries get increasing ids from the server, nothing rewrites them;
- atomic appends: a batch is one server-side script, so another host's records never land between
  two records of one batch; every record is validated before anything is sent;
- incremental reads: the reader keeps the last entry id and asks only for what came after it.

Each stream entry holds one field ``r``: the exact JSON line the file backend would write (a partial
update stays partial), so the reducer, projections and every tolerant-reader rule are unchanged; a
bad entry is reported as a :class:`LogIssue` with its position in the stream as the line number.

The ``redis`` package is an optional dependency (extra ``distributed``); it is imported only when a
config asks for this backend. Every server failure becomes :class:`CoordinationServerError`, an
``OSError`` with one line saying which server, what failed and where to fix it, which the engine
already treats as "coordination unavailable" (never a traceback).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_wave.coordination.log import (
    CoordinationLog,
    LogEntry,
    LogReader,
    ReadBatch,
    encode_records,
    unknown_agent_issue,
)
from pytest_wave.coordination.records import KINDS, Rec, RecordError, dumps_line, loads, normalize
from pytest_wave.model.config import CoordinationBackendConfig
from pytest_wave.model.coordination import CoordinationRecord, IssueKind, LogIssue

if TYPE_CHECKING:
    import redis

FIELD = b"r"  # the one field of a stream entry: a JSON line, as the JSONL file would hold it
READ_BATCH = 2000  # entries per XRANGE call: bounded replies on long logs
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


# One batch, atomically (a script runs alone on the server): XADD each record, except a launcher
# record equal to the latest version of its id; remember each id's latest content digest.
_APPEND_SCRIPT = """
local added = 0
for i = 1, #ARGV, 4 do
  local id, digest, launcher, line = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if not (launcher == '1' and digest ~= '' and redis.call('HGET', KEYS[2], id) == digest) then
    redis.call('XADD', KEYS[1], '*', 'r', line)
    if digest == '' then redis.call('HDEL', KEYS[2], id) else redis.call('HSET', KEYS[2], id, digest) end
    added = added + 1
  end
end
return added
"""
_NOT_CONTENT = frozenset({"recordVersion", "createdAt", "updatedAt"})


def _digest(record: Rec) -> str:
    content = {k: v for k, v in record.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(dumps_line(dict(sorted(content.items())))).hexdigest()


class CoordinationServerError(OSError):
    """The coordination server could not be reached or refused a command (one line, with a fix)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "coordination server error"


def shown_url(url: str) -> str:
    """The URL without a password, for messages and evidence."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else "***@"
    return parts._replace(netloc=user + netloc).geturl()


def stream_key(settings: CoordinationBackendConfig, project: str, lane: str, wave: int) -> str:
    """``<prefix>:<project>:<lane>:wave-<n>``: one stream per wave of a lane of a project, like the file."""
    name = _SAFE.sub("-", project.strip()).strip("-").lower() or "project"
    return f"{settings.key_prefix}:{name}:{lane}:wave-{wave}"


def connect(settings: CoordinationBackendConfig, *, where: str) -> redis.Redis:
    """A client for ``settings.url``, checked with PING. ``where`` names the config file for the fix."""
    try:
        import redis
    except ImportError:
        raise CoordinationServerError(
            "the redis coordination backend needs the 'redis' package: pip install 'pytest-wave[distributed]' "
            f'(or set backend = "jsonl" in {where})'
        ) from None
    url = shown_url(settings.url)
    try:
        client = redis.Redis.from_url(
            settings.url,
            socket_connect_timeout=settings.connect_timeout,
            socket_timeout=max(30.0, settings.connect_timeout),
        )
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise CoordinationServerError(
            f"cannot reach the coordination server {url}: {_reason(exc)}; "
            f"start it or fix [tool.wave.coordination] url in {where}"
        ) from None
    return client


def _server_errors() -> tuple[type[Exception], ...]:
    """What a command can raise when the server is gone or refuses it (imported lazily, like the client)."""
    import redis

    return (redis.RedisError, OSError)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


class RedisCoordinationLog(CoordinationLog):
    """A coordination log kept in one Redis stream; same API and line format as the JSONL file.

    ``path`` is the local JSONL path this stream stands in for: projections and evidence keep naming it.
    """

    def __init__(self, client: redis.Redis, key: str, path: Path, *, url: str) -> None:
        super().__init__(path)
        self.client = client
        self.key = key
        self.location = f"{shown_url(url)} stream {key}"

    def append(self, records: Iterable[Rec | CoordinationRecord]) -> list[Rec]:
        """Validate every record, then append them all in one atomic server-side step.

        Launcher records (seeds, result evidence) are derived from facts every process computes, so
        two hosts refreshing at the same moment would both append the same seed; the script skips a
        launcher record whose content (timestamps aside) equals the stored latest version of its id.
        Every other record is appended as given, like the file does.
        """
        canonical: list[Rec] = []
        args: list[bytes | str] = []
        for full, partial, line in encode_records(records):  # the same lines the file would hold
            canonical.append(full)
            digest = "" if partial else _digest(full)  # a partial update: content unknown here
            launcher = full.get("source") == "launcher" and not partial
            args += [full["id"], digest, "1" if launcher else "0", line]
        if not args:
            return canonical
        try:
            self.client.eval(_APPEND_SCRIPT, 2, self.key, f"{self.key}:latest", *args)
        except _server_errors() as exc:
            raise self._error("append to", exc) from None
        return canonical

    def append_computed(self, compute: Callable[[], list[Rec]]) -> list[Rec]:
        """The server-side script already skips a launcher record equal to the stored latest version."""
        return self.append(compute())

    def reader(self, known_agents: Iterable[str] | None = None) -> LogReader:
        return RedisLogReader(self, known_agents=known_agents)

    def read_all(self, known_agents: Iterable[str] | None = None) -> ReadBatch:
        return RedisLogReader(self, known_agents=known_agents).poll(final=True)

    def length(self) -> int:
        try:
            return int(self.client.xlen(self.key))
        except _server_errors() as exc:
            raise self._error("read", exc) from None

    def raw_lines(self) -> list[bytes]:
        """Every entry's line, in stream order (for exports and tests)."""
        return [line for _, line in self.entries_after("-")]

    def entries_after(self, last_id: str) -> list[tuple[str, bytes]]:
        """(entry id, line) of every entry after ``last_id`` (``-``: from the start)."""
        out: list[tuple[str, bytes]] = []
        start = last_id if last_id == "-" else f"({last_id}"
        try:
            while True:
                chunk: Any = self.client.xrange(self.key, min=start, count=READ_BATCH) or []
                for entry_id, fields in chunk:
                    key = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                    out.append((key, (fields or {}).get(FIELD, b"")))
                if len(chunk) < READ_BATCH:
                    return out
                start = f"({out[-1][0]}"
        except _server_errors() as exc:
            raise self._error("read", exc) from None

    def _error(self, action: str, exc: Exception) -> CoordinationServerError:
        return CoordinationServerError(
            f"cannot {action} the coordination log at {self.location}: {_reason(exc)}; "
            "is the server up? ([tool.wave.coordination] url)"
        )


class RedisLogReader(LogReader):
    """Incremental reader over the stream: each :meth:`poll` fetches the entries after the last one seen."""

    def __init__(self, log: RedisCoordinationLog, *, known_agents: Iterable[str] | None = None) -> None:
        super().__init__(log.path, known_agents=known_agents)
        self.log = log
        self.last_id = "-"

    def poll(self, *, final: bool = False) -> ReadBatch:
        """New whole records and issues (a stream has no torn tail: entries are whole or absent)."""
        batch = ReadBatch()
        entries = self.log.entries_after(self.last_id)
        if not entries:
            return batch
        label = self.log.location
        known = self.known_agents
        line_no = self.lines_read
        for _, raw in entries:
            line_no += 1
            try:
                decoded = loads(raw)
            except ValueError as exc:
                batch.issues.append(_issue(label, line_no, "corrupt", f"not valid JSON ({_reason(exc)[:120]})"))
                continue
            try:
                record, set_keys = normalize(decoded)
            except RecordError as exc:
                kind: IssueKind = "unknown-kind" if exc.field == "kind" and _unknown_kind(decoded) else "invalid"
                batch.issues.append(_issue(label, line_no, kind, exc.message))
                continue
            if known is not None and record["agentId"] not in known:
                batch.issues.append(unknown_agent_issue(label, line_no, record["id"], record["agentId"]))
            batch.entries.append(LogEntry(record, line_no, set_keys))
        self.last_id = entries[-1][0]
        self.lines_read = line_no
        return batch


def _unknown_kind(decoded: object) -> bool:
    if not isinstance(decoded, dict):
        return False
    kind = decoded.get("kind")
    return isinstance(kind, str) and kind.strip().lower() not in KINDS


def _issue(path: str, line: int, kind: IssueKind, message: str) -> LogIssue:
    return LogIssue(path=path, line=line, kind=kind, message=message)


def open_log(
    settings: CoordinationBackendConfig, path: Path, *, project: str, lane: str, wave: int, where: str
) -> RedisCoordinationLog:
    """The stream log of one wave, standing in for the JSONL file at ``path``."""
    client = connect(settings, where=where)
    return RedisCoordinationLog(client, stream_key(settings, project, lane, wave), path, url=settings.url)


def config_file_of(repo_root: Path) -> str:
    """Where ``[tool.wave]`` settings live, for fix hints (``wave.config.json`` wins when present)."""
    from pytest_wave.config import load_config

    source = load_config(repo_root).source_path
    return str(source) if source is not None else str(repo_root / "pyproject.toml")


def configured_log(
    settings: CoordinationBackendConfig, path: Path, *, repo_root: Path, project: str, lane: str, wave: int
) -> CoordinationLog | None:
    """The log store the config asks for; None means the default JSONL file at ``path``."""
    if settings.backend != "redis":
        return None
    return open_log(settings, path, project=project, lane=lane, wave=wave, where=config_file_of(repo_root))

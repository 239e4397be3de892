"""The trace bundle on disk: its manifest (``run-metadata.json``), loading and integrity checks.

A bundle is one folder per wave attempt, ``<state>/traces/wave-<n>/attempt-<k>/``. Everything in it
is a copy (never a reference into the lane state), so a bundle can be zipped, moved and replayed
alone. ``run-metadata.json`` is the :class:`TraceManifest`: the trace version, what was captured and
the sha256 of every file, so a replay can tell a recorded file from one edited afterwards.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult

TRACE_VERSION = 2
MANIFEST = "run-metadata.json"


class TraceError(WaveError):
    """A bundle that cannot be replayed at all (not a bundle, unknown version, unreadable manifest)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class TraceFile(_Model):
    """One file of the bundle (``path`` is bundle-relative, POSIX)."""

    path: str
    required: bool
    present: bool
    sha256: str | None = None
    size: int | None = None
    source: str | None = None  # where it was copied from (informational; replay never reads it)


class TraceExecutor(_Model):
    id: str
    selected_by: str = ""
    profile: str | None = None
    model: str | None = None
    fallbacks: list[str] = Field(default_factory=list)
    budget_turns: int | None = None
    budget_minutes: int | None = None


class TraceAgent(_Model):
    """One agent of the wave as the bundle holds it: its latest attempt up to this one, and its files."""

    agent_id: str
    title: str
    role: str
    executor: TraceExecutor | None = None
    status: str = "not-run"  # of its latest result, "not-run" when it has none
    latest_attempt: int | None = None
    launched_in_attempt: bool = False
    prompt_fingerprint: str | None = None
    result: str | None = None
    task: str | None = None
    prompt: str | None = None
    log: str | None = None
    status_file: str | None = None
    inbox: str | None = None
    tree_snapshot: str | None = None  # the tree right after a closure stage checked it
    validation_logs: list[str] = Field(default_factory=list)


class TraceRoles(_Model):
    integration: str
    documentation: str
    evaluator: str


class TraceOptions(_Model):
    max_retries: int
    max_parallel: int
    agent_timeout: float
    validation_timeout: float
    forced_executor: str | None = None
    dry_run: bool = False


class TraceVerdict(_Model):
    """What the run decided at capture time: ``final`` when this was the wave's last attempt."""

    closed: bool
    final: bool
    reason: str | None = None


class TraceManifest(_Model):
    trace_version: int = TRACE_VERSION
    replay_mode: Literal["hermetic"] = "hermetic"
    producer: str
    lane: str
    wave: int | None
    run_id: str
    attempt: int
    captured_at: str
    wave_file: str  # as the wave was named (repository-relative when possible)
    wave_copy: str  # bundle path of the copy
    wave_sha256: str
    repo_root: str  # informational: replay never looks there
    roles: TraceRoles
    options: TraceOptions
    agents: list[TraceAgent] = Field(default_factory=list)
    verdict: TraceVerdict
    files: list[TraceFile] = Field(default_factory=list)

    def agent(self, agent_id: str) -> TraceAgent | None:
        return next((agent for agent in self.agents if agent.agent_id == agent_id), None)

    def file(self, path: str) -> TraceFile | None:
        return next((entry for entry in self.files if entry.path == path), None)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(folder: Path) -> TraceManifest:
    """The bundle's manifest, or :class:`TraceError` with one line saying why it cannot be replayed."""
    where = str(folder)
    if not folder.is_dir():
        raise TraceError("not a trace bundle: no such folder", path=where)
    path = folder / MANIFEST
    if not path.is_file():
        raise TraceError(
            f"not a trace bundle: {MANIFEST} is missing (truncated bundle?)",
            path=where,
            fix="pass a traces/wave-<n>/attempt-<k> folder written by a wave run",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TraceError(f"{MANIFEST} is not valid JSON (truncated bundle?): {exc}", path=where) from None
    if not isinstance(data, dict) or "traceVersion" not in data:
        raise TraceError(f"not a trace bundle: {MANIFEST} has no traceVersion", path=where)
    version = data["traceVersion"]
    if version != TRACE_VERSION:
        legacy = " (the Node.js tool's legacy format)" if version == 1 else ""
        raise TraceError(
            f"unknown trace version {version!r}{legacy}: this pytest-wave replays traceVersion {TRACE_VERSION}",
            path=where,
        )
    try:
        return TraceManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise TraceError(
            f"{MANIFEST} is not a valid traceVersion {TRACE_VERSION} manifest: {loc}: {first['msg']}", path=where
        ) from None


class Bundle:
    """A loaded bundle: the manifest plus typed readers for its files (paths never leave the folder)."""

    def __init__(self, folder: Path, manifest: TraceManifest) -> None:
        self.folder = folder
        self.manifest = manifest

    @classmethod
    def load(cls, folder: Path) -> Bundle:
        return cls(folder, load_manifest(folder))

    def path(self, rel: str) -> Path:
        target = (self.folder / rel).resolve()
        if not target.is_relative_to(self.folder.resolve()):
            raise TraceError(f"{MANIFEST} names a file outside the bundle: {rel}", path=str(self.folder))
        return target

    def has(self, rel: str | None) -> bool:
        return rel is not None and self.path(rel).is_file()

    def text(self, rel: str) -> str:
        try:
            return self.path(rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TraceError(f"{rel}: cannot be read ({exc})", path=str(self.folder)) from None

    def json(self, rel: str) -> Any:
        try:
            return json.loads(self.text(rel))
        except ValueError as exc:
            raise TraceError(f"{rel}: not valid JSON (truncated?): {exc}", path=str(self.folder)) from None

    def json_or(self, rel: str, default: Any) -> Any:
        return self.json(rel) if self.has(rel) else default

    def result(self, rel: str) -> AgentResult:
        try:
            return AgentResult.model_validate_json(self.text(rel))
        except ValidationError as exc:
            raise TraceError(
                f"{rel}: not a valid agent result: {exc.errors()[0]['msg']}", path=str(self.folder)
            ) from None

    def history(self) -> dict[int, dict[str, AgentResult]]:
        """Every recorded agent result up to this attempt: attempt -> agent id -> result."""
        found: dict[int, dict[str, AgentResult]] = {}
        for entry in self.manifest.files:
            parts = entry.path.split("/")
            if len(parts) == 3 and parts[0] == "results" and parts[1].startswith("attempt-") and entry.present:
                if not self.has(entry.path):
                    continue  # reported by the integrity check
                number = int(parts[1].split("-", 1)[1])
                result = self.result(entry.path)
                found.setdefault(number, {})[result.agent_id] = result
        return dict(sorted(found.items()))


def verify_files(bundle: Bundle) -> list[tuple[str, str]]:
    """Integrity problems as (bundle path, what is wrong): missing, modified, unexpected files."""
    problems: list[tuple[str, str]] = []
    listed = {MANIFEST}
    for entry in bundle.manifest.files:
        listed.add(entry.path)
        if not entry.present:
            if entry.required:
                problems.append((entry.path, "required but was not captured"))
            continue
        try:
            path = bundle.path(entry.path)
        except TraceError as exc:
            problems.append((entry.path, exc.message))
            continue
        if not path.is_file():
            problems.append((entry.path, "missing from the bundle"))
            continue
        if entry.sha256:
            found = sha256_file(path)
            if found != entry.sha256:
                problems.append(
                    (entry.path, f"modified after capture: sha256 {found[:12]}, recorded {entry.sha256[:12]}")
                )
    root = bundle.folder.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in listed:
            problems.append((rel, "not listed in the manifest (added after capture)"))
    for agent in bundle.manifest.agents:
        if agent.launched_in_attempt:
            wanted: list[tuple[str, str | None]] = [("result", agent.result), ("log", agent.log)]
            if bundle.manifest.wave is not None:  # a wave without a number has no coordination
                wanted.append(("inbox", agent.inbox))
            for what, named in wanted:
                if named is None or bundle.manifest.file(named) is None:
                    problems.append((MANIFEST, f"{agent.agent_id} was launched in this attempt but has no {what}"))
    return problems

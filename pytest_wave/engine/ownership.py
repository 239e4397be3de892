"""Who changed what: each attempt's writes, judged against the agent's owned paths from the tree itself.

An agent cannot hide a stray edit by not mentioning it: the orchestrator looks at the files.

**Worktree isolation** is exact: an agent's branch and worktree are its alone, so everything
``git`` shows changed there since the wave's base commit is the agent's (see :mod:`.worktree`).

**Shared tree** needs a rule, because concurrent agents write into one tree. Each attempt has a
*window*, opened just after the attempt's "before" snapshot and closed just before its "after"
snapshot (including the orchestrator's validation commands), with both ends read from the
filesystem's own clock (the mtime of a file we touch), so they compare exactly with file mtimes.
Windows of every agent of the run are recorded under ``results/wave-N/<run>/windows/``. For a path
that changed between this attempt's two snapshots and that this agent does not own:

* the *candidates* are the agents whose window contains the file's new mtime (for a deletion,
  which has no mtime: whose window overlaps this attempt's);
* when another candidate owns the path, the write is presumed to be that owner's (not blamed);
* when this agent is the only candidate, the write is its own: the check fails, naming the path;
* otherwise (several agents ran, none owns it) the write is *ambiguous*: this attempt's check
  notes it without failing, and the integration stage's whole-wave check, which fails on every
  unowned change, names the candidates.

The limits are stated, not hidden: a write into a file owned by a concurrently running agent is
that agent's as far as a shared tree can tell, and an agent that forges mtimes can dodge the rule.
Worktree isolation has neither limit.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from pytest_wave.engine import baseline
from pytest_wave.engine.files import write_model
from pytest_wave.model.result import Check

CHECK_NAME = "writes inside ownership"
CODE = "write-outside-ownership"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

Owns = Callable[[str], bool]


class Window(BaseModel):
    """When one try of an agent attempt could write (filesystem clock, nanoseconds)."""

    model_config = ConfigDict(extra="forbid")

    agent_id: str
    attempt: int
    start_ns: int
    end_ns: int | None = None  # None while it runs

    def holds(self, moment: int) -> bool:
        return self.start_ns <= moment and (self.end_ns is None or moment <= self.end_ns)

    def overlaps(self, start: int, end: int) -> bool:
        return self.start_ns <= end and (self.end_ns is None or start <= self.end_ns)


def fs_now(folder: Path) -> int:
    """The filesystem's clock: the mtime of a file we just wrote in ``folder`` (coarse, like mtimes)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".clock-{uuid.uuid4().hex}"
    fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    try:
        os.write(fd, b".")
        return os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()


class WindowLedger:
    """The windows of one run, one small file per try (each written only by the process that owns it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self, agent_id: str, attempt: int) -> tuple[Path, Window]:
        window = Window(agent_id=agent_id, attempt=attempt, start_ns=fs_now(self.folder))
        path = self.folder / f"{_SAFE.sub('_', agent_id)[:60]}-attempt-{attempt}-{uuid.uuid4().hex[:8]}.json"
        write_model(path, window)
        return path, window

    def close(self, path: Path, window: Window) -> Window:
        closed = window.model_copy(update={"end_ns": fs_now(self.folder)})
        write_model(path, closed)
        return closed

    def windows(self) -> list[Window]:
        found: list[Window] = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                found.append(Window.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError):
                continue  # torn by a killed run: that try is over and proves nothing
        return found


@dataclass(frozen=True)
class Attribution:
    outside: list[str]  # written by this agent outside its ownership
    ambiguous: dict[str, list[str]]  # unowned path -> the agents that were running


def attribute(
    agent_id: str,
    window: Window,
    changes: Iterable[tuple[str, int | None]],
    windows: Sequence[Window],
    owners: dict[str, Owns],
) -> Attribution:
    """Apply the shared-tree rule (module doc) to ``changes``: (path, new mtime or None if deleted)."""
    outside: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    end = window.end_ns if window.end_ns is not None else window.start_ns
    for path, mtime in changes:
        if owners.get(agent_id, _nobody)(path):
            continue
        if mtime is None:
            running = {w.agent_id for w in windows if w.overlaps(window.start_ns, end)}
        else:
            running = {w.agent_id for w in windows if w.holds(mtime)}
        if mtime is None or window.holds(mtime):
            running.add(agent_id)  # this try's own window, even if its ledger file could not be read
        if agent_id not in running:
            continue  # written before or after this attempt's window: someone else's
        others = sorted(running - {agent_id})
        if any(owners.get(other, _nobody)(path) for other in others):
            continue
        if others:
            ambiguous[path] = sorted(running)
        else:
            outside.append(path)
    return Attribution(outside=sorted(outside), ambiguous=ambiguous)


def _nobody(path: str) -> bool:
    return False


def tree_snapshot(repo_root: Path, *excluded: Path) -> baseline.Snapshot:
    """:func:`baseline.snapshot` of ``repo_root`` without the orchestrator's own folders (``excluded``:
    results, logs and agent worktrees live there when they are inside the repository)."""
    snap = baseline.snapshot(repo_root)
    root = repo_root.resolve()
    prefixes = []
    for folder in excluded:
        try:
            prefix = folder.resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # outside the repository: never in the snapshot anyway
        if prefix not in ("", "."):
            prefixes.append(prefix)
    if not prefixes:
        return snap
    return {
        path: sig
        for path, sig in snap.items()
        if not any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)
    }


def changes_between(before: baseline.Snapshot, after: baseline.Snapshot) -> list[tuple[str, int | None]]:
    return [(path, after[path][0] if path in after else None) for path in baseline.changed(before, after)]


def outside_check(owned: Sequence[str], outside: Sequence[str], *, evidence: str | None, note: str = "") -> Check:
    """The per-attempt check: fails naming every path written outside ``owned``."""
    shown = ", ".join(outside[:10]) + (f" (+{len(outside) - 10} more)" if len(outside) > 10 else "")
    return Check(
        name=CHECK_NAME,
        ok=not outside,
        expected="changes only inside owned paths (" + (", ".join(owned) or "none declared") + ")",
        found=("wrote outside ownership: " + shown) if outside else ("all changes owned" + note),
        code=CODE if outside else None,
        evidence=evidence,
    )


def ambiguity_note(ambiguous: dict[str, list[str]]) -> str:
    if not ambiguous:
        return ""
    parts = [f"{path} (while {', '.join(agents)} ran)" for path, agents in sorted(ambiguous.items())[:5]]
    return "; ambiguous, left to the integration check: " + ", ".join(parts)


def describe_unowned(paths: Sequence[str], after: baseline.Snapshot, windows: Sequence[Window]) -> list[str]:
    """For the whole-wave check: each unowned path with who could have written it, when that is known."""
    described: list[str] = []
    for path in paths:
        mtime = after.get(path, (None, None))[0]
        running = sorted({w.agent_id for w in windows if mtime is not None and w.holds(mtime)})
        if len(running) == 1:
            described.append(f"{path} (by {running[0]})")
        elif running:
            described.append(f"{path} (ambiguous: {', '.join(running)} were running)")
        else:
            described.append(path)
    return described

"""The lane's progress record: which waves closed, with what inputs, and whether one may be reused.

``run-state.json`` only ever grows (lifecycle 7.12). A file that does not parse is never overwritten
or dropped: reading it raises :class:`RunStateError` naming the file, and ``--wave-reconcile`` moves
it aside (``run-state.json.corrupt-<stamp>``) before rebuilding from the recorded wave outcomes and,
for a wave no run recorded as closed, from its agents' status files (:mod:`.status_reconcile`).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.engine.status_reconcile import StatusAnalysis, analyze
from pytest_wave.errors import WaveError
from pytest_wave.model.result import WaveOutcome
from pytest_wave.model.run_state import RunState, WaveClosure, now_iso

LOCK_TIMEOUT = 30.0  # seconds; writers hold the lock for one read-modify-write
KEPT_NOTE = " (it stays in completedWaves: reconcile never removes a wave)"


class RunStateError(WaveError):
    """``run-state.json`` exists but cannot be read as run state."""


def _lock(path: Path) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


def load(path: Path) -> RunState:
    """The run state at ``path`` (empty when missing); a corrupt file raises :class:`RunStateError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return RunState()  # nothing recorded yet (an unwritable state folder fails where it is written)
    except OSError as exc:
        raise RunStateError(f"cannot read run state: {exc.strerror or exc}", path=path) from None
    try:
        return RunState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise RunStateError(
            f"run state is corrupt ({where}: {first['msg']})",
            path=path,
            fix="run pytest with --wave-reconcile to rebuild it (the corrupt file is kept beside it)",
        ) from None


def save(path: Path, state: RunState) -> None:
    state.last_updated_at = now_iso()
    write_text_atomic(path, state.model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n")


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _relative(ctx: WaveContext, path: Path) -> str:
    return os.path.relpath(path, ctx.repo_root) if path.is_relative_to(ctx.repo_root) else str(path)


def deliverable_hashes(ctx: WaveContext) -> dict[str, str | None]:
    """Every deliverable of the wave's agents -> sha256 of the file now (None when it is missing)."""
    found: dict[str, str | None] = {}
    for agent in ctx.wave.agents:
        for rel in agent.deliverable_paths:
            target = ctx.repo_root / rel
            found[rel] = sha256_of(target) if target.is_file() else None
    return found


def closure_record(ctx: WaveContext, run_id: str, source: str = "closure") -> WaveClosure:
    assert ctx.wave.number is not None
    return WaveClosure(
        wave=ctx.wave.number,
        wave_file=_relative(ctx, ctx.wave_path),
        wave_sha256=sha256_of(ctx.wave_path),
        run_id=run_id,
        closed_at=now_iso(),
        deliverables=deliverable_hashes(ctx),
        source=source,
    )


def mark_completed(ctx: WaveContext, run_id: str) -> None:
    """Record that the wave closed in ``run_id`` (under the run-state lock; raises on a corrupt file)."""
    number = ctx.wave.number
    if number is None:
        return
    path = ctx.paths.run_state()
    with _lock(path):
        state = load(path)
        state.completed_waves = sorted({*state.completed_waves, number})
        state.closures[str(number)] = closure_record(ctx, run_id)
        save(path, state)


def changed_inputs(ctx: WaveContext, closure: WaveClosure) -> list[str]:
    """What changed since the wave closed: the wave file and deliverables whose bytes differ."""
    changed: list[str] = []
    if closure.wave_sha256 != sha256_of(ctx.wave_path):
        changed.append(_relative(ctx, ctx.wave_path))
    now = deliverable_hashes(ctx)
    for rel in sorted(set(now) | set(closure.deliverables)):
        if now.get(rel) != closure.deliverables.get(rel):
            changed.append(rel)
    return changed


def reuse_reason(ctx: WaveContext, state: RunState) -> str | None:
    """Why the wave need not run again (it closed and its inputs did not change), or None to run it."""
    number = ctx.wave.number
    if number is None or number not in state.completed_waves:
        return None
    closure = state.closure(number)
    if closure is None:
        # Marked complete by the Node.js tool or an older pytest-wave: nothing to compare, trust the record.
        return f"wave {number} reused: marked complete in run-state.json (no input hashes recorded)"
    changed = changed_inputs(ctx, closure)
    if changed:
        return None
    return f"wave {number} reused: closed in run {closure.run_id}; its wave file and deliverables are unchanged"


# --------------------------------------------------------------------------- reconcile


@dataclass
class ReconcileReport:
    path: Path
    added: list[int] = field(default_factory=list)  # from a recorded closed outcome (wave.json)
    added_from_status: list[int] = field(default_factory=list)  # from the agents' status files
    recorded: list[int] = field(default_factory=list)  # closure records (re)built for waves already listed
    not_reconstructable: dict[int, str] = field(default_factory=dict)
    codes: dict[int, list[str]] = field(default_factory=dict)  # wave -> its reason codes, in order
    already_listed: set[int] = field(default_factory=set)  # not reconstructable, but listed before (kept)
    corrupt_kept_as: Path | None = None
    corrupt_reason: str | None = None
    completed: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.corrupt_kept_as is not None:
            out.append(f"[reconcile] {self.path} was corrupt ({self.corrupt_reason}); kept as {self.corrupt_kept_as}")
        out.append("[reconcile] added from results: " + (_list(self.added) or "none"))
        out.append("[reconcile] added from status files: " + (_list(self.added_from_status) or "none"))
        if self.recorded:
            out.append("[reconcile] input hashes recorded for: " + _list(self.recorded))
        for number, reason in sorted(self.not_reconstructable.items()):
            kept = KEPT_NOTE if number in self.already_listed else ""
            out.append(f"[reconcile] wave {number} not reconstructable: {reason}{kept}")
        out.append("[reconcile] completed waves now: " + (_list(self.completed) or "none"))
        return out


def _list(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def latest_closed_outcome(ctx: WaveContext) -> WaveOutcome | None:
    """The most recent recorded outcome that closed this wave with the wave file as it is now."""
    number = ctx.wave.number
    if number is None:
        return None
    folder = ctx.paths.state_dir / "results" / f"wave-{number}"
    current = sha256_of(ctx.wave_path)
    best: WaveOutcome | None = None
    for path in sorted(folder.glob("*/wave.json")):  # run ids sort by time
        try:
            outcome = WaveOutcome.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if outcome.closed and outcome.wave_sha256 == current:
            best = outcome
    return best


@dataclass
class _Evidence:
    """What proves a wave complete: a closed outcome (stronger), or its status files."""

    ctx: WaveContext
    outcome: WaveOutcome | None
    analysis: StatusAnalysis | None

    @property
    def run_id(self) -> str | None:
        if self.outcome is not None:
            return self.outcome.run_id
        if self.analysis is not None and self.analysis.complete:
            return self.analysis.run_id or "unknown"
        return None


def _evidence(ctx: WaveContext) -> _Evidence:
    outcome = latest_closed_outcome(ctx)
    return _Evidence(ctx, outcome, None if outcome is not None else analyze(ctx))


def reconcile(ctxs: list[WaveContext], path: Path) -> ReconcileReport:
    """Rebuild ``path`` for the waves of ``ctxs``: add every wave a run closed with the current wave
    file, else every wave its status files prove complete (lifecycle.md 7.11). Waves already listed
    stay listed; a corrupt file is moved aside, not lost."""
    report = ReconcileReport(path=path)
    # The evidence is read before the lock: it reads many files, and writers wait on the lock.
    found = [_evidence(ctx) for ctx in ctxs if ctx.wave.number is not None]
    with _lock(path):
        try:
            state = load(path)
        except RunStateError as exc:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            kept = path.with_name(f"{path.name}.corrupt-{stamp}")
            os.replace(path, kept)
            report.corrupt_kept_as, report.corrupt_reason = kept, exc.message
            state = RunState()
        before = set(state.completed_waves)
        for evidence in found:
            number = evidence.ctx.wave.number
            assert number is not None
            run_id = evidence.run_id
            if run_id is None:
                assert evidence.analysis is not None
                report.not_reconstructable[number] = evidence.analysis.reasons()
                report.codes[number] = evidence.analysis.codes()
                if number in before:
                    report.already_listed.add(number)
                continue
            source = "reconcile" if evidence.outcome is not None else "status-files"
            if number not in before:
                (report.added if evidence.outcome is not None else report.added_from_status).append(number)
            elif state.closure(number) is None:
                report.recorded.append(number)
            else:
                continue
            state.completed_waves = sorted({*state.completed_waves, number})
            state.closures[str(number)] = closure_record(evidence.ctx, run_id, source=source)
        if report.added or report.added_from_status or report.recorded or report.corrupt_kept_as is not None:
            save(path, state)
        report.completed = list(state.completed_waves)
    return report

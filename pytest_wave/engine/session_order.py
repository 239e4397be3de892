"""Which waves a session runs, in what order, and which it reuses or leaves out.

A session over several wave files runs them one after another in wave-number order: wave N+1 starts
only after wave N closed. Before anything runs, the numbering is checked (no gaps, no duplicates, a
file name that agrees with its heading), the lane's run state is read, and each wave gets a
disposition:

* ``first``: the first wave to run; its agents go through pytest's (xdist) loop;
* ``later``: held back, run by the controller once every wave before it closed;
* ``reused``: marked complete in the lane's run state with no results of ours to re-verify (the
  Node.js tool's record; not under ``--wave-fresh``). A wave pytest-wave closed itself runs as
  ``first``/``later`` instead, and each of its agents reuses its proof when that still holds;
* ``excluded``: outside ``--wave-start``/``--wave-end``/``--wave-auto-next``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytest_wave.engine import run_state
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.executors.registry import ExecutorLookup, builtin_executor
from pytest_wave.model.run_state import RunState

Disposition = Literal["first", "later", "reused", "excluded"]
_FILE_NUMBER = re.compile(r"^wave-(\d+)\.md$")
_HEADING_NUMBER = re.compile(r"^#\s+Wave\s+(\d+)\b", re.IGNORECASE)


class WaveOrderError(WaveError):
    """The session's wave files cannot be put in one order (gaps, duplicates, disagreeing numbers)."""


class RangeError(WaveError):
    """``--wave-start``/``--wave-end`` select nothing, or contradict each other."""


@dataclass
class PlannedWave:
    key: str  # the wave file's absolute path
    shown: str  # how messages name it
    number: int | None
    ctx: WaveContext | None = None
    error: WaveError | None = None


@dataclass
class SessionPlan:
    waves: list[PlannedWave] = field(default_factory=list)  # in run order
    disposition: dict[str, Disposition] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # reused/excluded key -> why
    messages: list[str] = field(default_factory=list)  # lines for the terminal (auto-next)
    nothing_to_do: bool = False  # --wave-auto-next found every wave complete
    run_states: dict[Path, RunState] = field(default_factory=dict)  # state dir -> run state read at start
    groups: dict[str, str] = field(default_factory=dict)  # wave key -> its sequence (lane state folder)

    @property
    def order(self) -> list[str]:
        return [wave.key for wave in self.waves]

    def group_of(self, key: str) -> str:
        return self.groups.get(key, key)

    def number_of(self, key: str) -> int | None:
        return next((w.number for w in self.waves if w.key == key), None)

    def to_wire(self) -> dict[str, str]:
        """What xdist workers need: key -> disposition (plain strings cross the wire)."""
        return dict(self.disposition)


def file_number(path: Path) -> int | None:
    match = _FILE_NUMBER.match(path.name)
    return int(match.group(1)) if match else None


def heading_number(path: Path) -> tuple[int | None, int]:
    """The number in the file's first ``# Wave N`` heading, and its line (0 when there is none)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for index, line in enumerate(handle, start=1):
                match = _HEADING_NUMBER.match(line)
                if match:
                    return int(match.group(1)), index
                if line.startswith("## "):
                    break
    except OSError:
        pass
    return None, 0


def check_numbering(waves: list[PlannedWave], completed: set[int]) -> list[str]:
    """Problems with a multi-wave session's numbering, each naming the files (empty when fine)."""
    problems: list[str] = []
    for wave in waves:
        from_name = file_number(Path(wave.key))
        from_heading, line = heading_number(Path(wave.key))
        if from_name is not None and from_heading is not None and from_name != from_heading:
            problems.append(
                f"{wave.shown}:{line}: the file name says wave {from_name} but the heading says wave "
                f"{from_heading} (fix: rename the file to wave-{from_heading}.md or correct the heading)"
            )
    by_number: dict[int, list[PlannedWave]] = {}
    for wave in waves:
        if wave.number is not None:
            by_number.setdefault(wave.number, []).append(wave)
    for number, same in sorted(by_number.items()):
        if len(same) > 1:
            names = " and ".join(w.shown for w in same)
            problems.append(f"{names} are all wave {number} (fix: give each wave file its own number)")
    numbers = sorted(by_number)
    for low, high in itertools.pairwise(numbers):
        missing = [n for n in range(low + 1, high) if n not in completed]
        if missing:
            gap = ", ".join(str(n) for n in missing)
            problems.append(
                f"wave numbering has a gap: {by_number[low][0].shown} (wave {low}) is followed by "
                f"{by_number[high][0].shown} (wave {high}); missing: wave {gap} "
                f"(fix: add the missing wave file or renumber)"
            )
    return problems


def _load(path: Path, shown: str, options: RunOptions, lookup: ExecutorLookup) -> PlannedWave:
    try:
        ctx = WaveContext.load(path, options, lookup=lookup)
    except WaveError as exc:
        return PlannedWave(key=str(path), shown=shown, number=file_number(path), error=exc)
    return PlannedWave(key=str(path), shown=shown, number=ctx.wave.number, ctx=ctx)


def _group_of(wave: PlannedWave, by_folder: dict[Path, str]) -> str:
    """Waves sequence per lane state folder; a wave that did not load joins the lane of the waves
    beside it (else it stands alone)."""
    if wave.ctx is not None:
        return str(wave.ctx.paths.state_dir)
    return by_folder.get(Path(wave.key).parent, wave.key)


def plan_session(
    paths: list[Path],
    options: RunOptions,
    *,
    shown: dict[Path, str] | None = None,
    start: int | None = None,
    end: int | None = None,
    auto_next: bool = False,
    lookup: ExecutorLookup = builtin_executor,
) -> SessionPlan:
    """Order ``paths`` and decide each wave's disposition (see the module docstring). Waves of
    different lanes (or repositories) are independent sequences that run side by side.

    Raises :class:`WaveOrderError`, :class:`RangeError`, or :class:`run_state.RunStateError` for a
    corrupt run state (a session never guesses the lane's progress)."""
    shown = shown or {}
    if (start is not None and start < 0) or (end is not None and end < 0):
        raise RangeError("--wave-start and --wave-end must be 0 or more")
    if start is not None and end is not None and end < start and not auto_next:
        raise RangeError(f"--wave-end {end} is below --wave-start {start}")
    waves = [_load(p, shown.get(p, str(p)), options, lookup) for p in paths]
    waves.sort(key=lambda w: (w.number is None, w.number if w.number is not None else 0, w.key))
    plan = SessionPlan(waves=waves)
    by_folder = {Path(w.key).parent: str(w.ctx.paths.state_dir) for w in waves if w.ctx is not None}
    for wave in waves:
        plan.groups[wave.key] = _group_of(wave, by_folder)
        if wave.ctx is not None and wave.ctx.paths.state_dir not in plan.run_states:
            plan.run_states[wave.ctx.paths.state_dir] = run_state.load(wave.ctx.paths.run_state())
    problems: list[str] = []
    for group in dict.fromkeys(plan.groups.values()):
        members = [w for w in waves if plan.groups[w.key] == group]
        state = plan.run_states.get(Path(group))
        if len(members) > 1:
            problems += check_numbering(members, set(state.completed_waves) if state else set())
    if problems:
        raise WaveOrderError("; ".join(problems) if len(problems) > 1 else problems[0])
    for group in dict.fromkeys(plan.groups.values()):
        _plan_group(plan, [w for w in waves if plan.groups[w.key] == group], group, options, start, end, auto_next)
    ranged = start is not None or end is not None or auto_next
    if auto_next and all(d == "excluded" for d in plan.disposition.values()):
        plan.nothing_to_do = True
    elif ranged and all(d == "excluded" for d in plan.disposition.values()):
        raise RangeError(f"no waves available for range start={start or 0}, end={end if end is not None else 'last'}")
    return plan


def _plan_group(
    plan: SessionPlan,
    waves: list[PlannedWave],
    group: str,
    options: RunOptions,
    start: int | None,
    end: int | None,
    auto_next: bool,
) -> None:
    state = plan.run_states.get(Path(group))
    completed = set(state.completed_waves) if state else set()
    numbered = [w.number for w in waves if w.number is not None]
    ranged = start is not None or end is not None or auto_next
    if auto_next:
        pending = [n for n in numbered if n not in completed]
        where = Path(group) / "run-state.json"
        if not pending:
            plan.messages.append(f"[auto-next] All known waves are already marked complete in {where}.")
            for wave in waves:
                plan.disposition[wave.key] = "excluded"
                plan.reasons[wave.key] = "already complete"
            return
        start = min(pending)
        last = max(completed) if completed else None
        plan.messages.append(
            f"[auto-next] last completed wave: {last if last is not None else 'none'}; starting from wave {start}."
        )
    low = start if start is not None else (min(numbered) if numbered else 0)
    high = end if end is not None else (max(numbered) if numbered else 0)
    first_taken = False
    for wave in waves:
        if ranged and (wave.number is None or not low <= wave.number <= high):
            plan.disposition[wave.key] = "excluded"
            plan.reasons[wave.key] = f"outside the selected range {low}..{high}"
            continue
        # A wave we closed ourselves runs like any other: each agent item re-verifies and reuses its own
        # proof (REUSED), so an input that changed reruns only the agents it touches. A wave known only
        # from a completedWaves record (the Node.js tool's) has nothing to re-verify: trust the record.
        reason = None if _closed_by_us(wave, plan) else _reuse(wave, plan, options)
        if reason is not None:
            plan.disposition[wave.key] = "reused"
            plan.reasons[wave.key] = reason
            continue
        plan.disposition[wave.key] = "later" if first_taken else "first"
        first_taken = True


def _closed_by_us(wave: PlannedWave, plan: SessionPlan) -> bool:
    """Whether pytest-wave closed the wave itself (input hashes recorded), not only marked it complete."""
    if wave.ctx is None or wave.number is None:
        return False
    state = plan.run_states.get(wave.ctx.paths.state_dir)
    return state is not None and state.closure(wave.number) is not None


def _reuse(wave: PlannedWave, plan: SessionPlan, options: RunOptions) -> str | None:
    if options.fresh or options.dry_run or wave.ctx is None:
        return None
    state = plan.run_states.get(wave.ctx.paths.state_dir)
    return run_state.reuse_reason(wave.ctx, state) if state is not None else None

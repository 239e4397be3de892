"""The cross-lane orchestrator board (artifacts.md 4.3) and a regenerated listing of every lane.

``messageboards/orchestrator.md`` is append-only, in the Node.js tool's entry format, so both tools'
runs land in one log. ``messageboards/lanes.md`` is ours and regenerated after every entry: each lane
under the state root, the live run holding it (if any) and its completed waves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from pytest_wave.engine import lane_lock, run_state
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.errors import WaveError
from pytest_wave.model.run_state import now_iso
from pytest_wave.rendering import render

LANE_SUFFIX = "-wave-launcher"


@dataclass(frozen=True)
class LaneRow:
    name: str
    holder: str | None
    completed: str


def _one_line(text: str, limit: int = 1000) -> str:
    return " ".join(text.split())[:limit]


def append_entry(
    orchestrator_dir: Path,
    *,
    lane: str,
    orchestrator: str,
    event: str,
    status: str,
    details: str,
    waves: str | None = None,
    action: str | None = None,
) -> None:
    board = orchestrator_dir / "messageboards" / "orchestrator.md"
    board.parent.mkdir(parents=True, exist_ok=True)
    entry = render(
        "lanes/orchestrator-entry.md.j2",
        at=now_iso(),
        lane=lane,
        orchestrator=orchestrator,
        event=event,
        waves=waves,
        status=status,
        details=_one_line(details),
        action=action,
    )
    with FileLock(str(board) + ".lock", timeout=10):
        if not board.exists():
            board.write_text(render("lanes/orchestrator-board.md.j2"), encoding="utf-8")
        with board.open("a", encoding="utf-8") as handle:
            handle.write(entry)


def lane_rows(state_root: Path) -> list[LaneRow]:
    rows: list[LaneRow] = []
    if not state_root.is_dir():
        return rows
    for folder in sorted(state_root.glob(f"*{LANE_SUFFIX}")):
        if not folder.is_dir():
            continue
        holder = lane_lock.read_holder(folder / "launcher.lock")
        live = lane_lock.describe(holder) if holder and lane_lock.holder_alive(holder) else None
        try:
            completed = ", ".join(str(n) for n in run_state.load(folder / "run-state.json").completed_waves)
        except WaveError:
            completed = "run-state.json is corrupt (run --wave-reconcile)"
        rows.append(LaneRow(name=folder.name[: -len(LANE_SUFFIX)], holder=live, completed=completed))
    return rows


def write_lanes(orchestrator_dir: Path, state_root: Path) -> Path:
    target = orchestrator_dir / "messageboards" / "lanes.md"
    text = render("lanes/lanes.md.j2", generated=now_iso(), state_root=state_root, lanes=lane_rows(state_root))
    write_text_atomic(target, text)
    return target

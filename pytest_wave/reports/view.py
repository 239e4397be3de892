"""A read-only view of one wave run, built from what is on disk: the projection every report draws.

The HTML report, the live progress lines and ``wave dashboard`` all look at a run the same way:
the attempt folders (``results/wave-<n>/<run-id>/attempt-<k>/<Agent>.json`` and the attempt's
``<safe>.log``), the pid files of agents still running, ``wave.json`` once the wave has an outcome,
and the open human questions of the wave's coordination log. Nothing here writes, and nothing needs
the process that runs the agents: an xdist worker, the controller or another terminal all see the
same files.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psutil
from pydantic import ValidationError

from pytest_wave.coordination.log import LogReader
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.paths import LanePaths
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, Usage, WaveOutcome

AgentState = Literal[
    "pending", "launching", "running", "validating", "passed", "failed", "timed_out", "not-run", "waiting-human"
]
IN_FLIGHT = ("launching", "running", "validating")
BOARD_TAIL_LINES = 24


@dataclass(frozen=True)
class AgentSpec:
    """What the wave file says about an agent (or, without it, what its results say)."""

    agent_id: str
    title: str
    role: str
    executor: str
    slug: str


@dataclass(frozen=True)
class HumanWait:
    record_id: str
    agent_id: str
    summary: str


@dataclass(frozen=True)
class Attempt:
    """One attempt of one agent: a finished result, or one still in flight (``result`` None)."""

    agent_id: str
    attempt: int
    started_at: float
    finished_at: float
    result: AgentResult | None = None
    log_path: str | None = None

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def status(self) -> str:
        if self.result is None:
            return "running"
        if self.result.timed_out:
            return "timed_out"
        return self.result.status


@dataclass
class AgentView:
    spec: AgentSpec
    state: AgentState = "pending"
    attempt: int = 0
    result: AgentResult | None = None  # the latest finished attempt
    log_path: str | None = None
    updated_at: float | None = None
    question: HumanWait | None = None

    @property
    def agent_id(self) -> str:
        return self.spec.agent_id

    @property
    def markers(self) -> list[str]:
        return self.result.markers if self.result else []

    @property
    def detail(self) -> str:
        if self.question is not None:
            return f"waiting on human: {self.question.summary}"
        if self.result is not None and self.result.reason and not self.result.ok:
            return self.result.reason
        return " ".join(self.markers)


@dataclass
class WaveView:
    wave: int | None
    wave_path: str
    lane: str
    run_id: str
    agents: list[AgentView]
    attempts: list[Attempt]
    outcome: WaveOutcome | None
    waits: list[HumanWait]
    board_tail: list[str]
    started_at: float | None
    updated_at: float

    @property
    def status(self) -> str:
        if self.outcome is not None:
            return "completed" if self.outcome.closed else "failed"
        return "running" if self.attempts else "pending"

    @property
    def attempt(self) -> int:
        return max((a.attempt for a in self.attempts), default=0)

    def counts(self) -> dict[str, int]:
        counter = Counter(agent.state for agent in self.agents)
        return dict(sorted(counter.items()))

    def by_state(self, *states: str) -> list[str]:
        return [agent.agent_id for agent in self.agents if agent.state in states]

    @property
    def usage(self) -> Usage | None:
        if self.outcome is not None and self.outcome.usage is not None:
            return self.outcome.usage
        total: Usage | None = None
        for attempt in self.attempts:
            if attempt.result is not None and attempt.result.usage is not None:
                total = attempt.result.usage if total is None else total.plus(attempt.result.usage)
        return total


def specs_from_context(ctx: WaveContext) -> list[AgentSpec]:
    specs: list[AgentSpec] = []
    for agent in [*ctx.implementation_agents(), *ctx.closure_agents()]:
        try:
            executor = ctx.executor_for(agent).id
        except WaveError:
            executor = "unresolved"
        specs.append(AgentSpec(agent.id, agent.title, ctx.role(agent), executor, agent.slug))
    return specs


def latest_run_id(paths: LanePaths, wave: int | None) -> str | None:
    """The newest run of a wave (run ids start with a UTC timestamp, so they sort by time)."""
    root = paths.run_dir(wave, "x").parent
    if not root.is_dir():
        return None
    runs = sorted(p.name for p in root.iterdir() if p.is_dir())
    return runs[-1] if runs else None


def wave_numbers(paths: LanePaths) -> list[int]:
    root = paths.state_dir / "results"
    if not root.is_dir():
        return []
    found = [p.name.split("-", 1)[1] for p in root.glob("wave-*") if p.is_dir()]
    return sorted(int(n) for n in found if n.isdigit())


@dataclass
class WaveWatcher:
    """Builds :class:`WaveView` snapshots of one run of one wave; cheap to call every second or two.

    Results are parsed once per file version, and the coordination log is read incrementally.
    """

    paths: LanePaths
    wave: int | None
    wave_path: str
    lane: str
    run_id: str
    specs: list[AgentSpec] = field(default_factory=list)
    _parsed: dict[Path, tuple[tuple[int, int], AgentResult | None]] = field(default_factory=dict)
    _first_seen: dict[tuple[str, int], float] = field(default_factory=dict)
    _reader: LogReader | None = None
    _coordination: CoordinationState = field(default_factory=CoordinationState)

    @classmethod
    def for_context(cls, ctx: WaveContext, run_id: str) -> WaveWatcher:
        return cls(
            paths=ctx.paths,
            wave=ctx.wave.number,
            wave_path=str(ctx.wave_path),
            lane=ctx.lane.name,
            run_id=run_id,
            specs=specs_from_context(ctx),
        )

    @property
    def run_dir(self) -> Path:
        return self.paths.run_dir(self.wave, self.run_id)

    # -- reading ---------------------------------------------------------------------------------
    def _result(self, path: Path) -> AgentResult | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            result: AgentResult | None = AgentResult.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            result = None  # torn or foreign: not (yet) a result
        self._parsed[path] = (key, result)
        return result

    def _attempt_dirs(self) -> list[tuple[int, Path]]:
        if not self.run_dir.is_dir():
            return []
        found: list[tuple[int, Path]] = []
        for folder in self.run_dir.glob("attempt-*"):
            number = folder.name.split("-", 1)[1]
            if number.isdigit() and folder.is_dir():
                found.append((int(number), folder))
        return sorted(found)

    def _running_pid(self, spec: AgentSpec) -> float | None:
        """Start time of the agent's live process (its pid file's mtime), or None when none runs."""
        pid_path = self.paths.state_dir / "pids" / f"{self.paths.safe(self.wave, spec.slug)}.pid"
        try:
            pid = int(pid_path.read_text().strip() or "0")
            started = pid_path.stat().st_mtime
        except (OSError, ValueError):
            return None
        return started if pid > 0 and psutil.pid_exists(pid) else None

    def _outcome(self) -> WaveOutcome | None:
        path = self.run_dir / "wave.json"
        try:
            return WaveOutcome.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            return None

    def _waits(self) -> list[HumanWait]:
        if self.wave is None:
            return []
        if self._reader is None:
            self._reader = LogReader(self.paths.state_dir / "coordination" / f"wave-{self.wave}.jsonl")
        batch = self._reader.poll()
        if batch.entries:
            self._coordination.apply_all((entry.record, entry.set_keys) for entry in batch.entries)
        return [
            HumanWait(str(rec["id"]), str(rec.get("agentId") or ""), " ".join(str(rec.get("summary") or "").split()))
            for rec in self._coordination.open_human()
        ]

    def _board_tail(self) -> list[str]:
        if self.wave is None:
            return []
        path = self.paths.state_dir / "messageboards" / f"wave-{self.wave}.md"
        try:
            with path.open("rb") as handle:
                handle.seek(max(0, path.stat().st_size - 12_000))
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-BOARD_TAIL_LINES:]

    # -- the snapshot ----------------------------------------------------------------------------
    def snapshot(self, *, now: float | None = None, board: bool = False) -> WaveView:
        now = time.time() if now is None else now
        specs = list(self.specs)
        known = {spec.agent_id for spec in specs}
        by_slug = {self.paths.safe(self.wave, spec.slug): spec for spec in specs}
        attempts: list[Attempt] = []
        latest: dict[str, AgentResult] = {}
        in_flight: dict[str, Attempt] = {}
        for number, folder in self._attempt_dirs():
            finished: set[str] = set()
            for path in sorted(folder.glob("*.json")):
                result = self._result(path)
                if result is None:
                    continue
                finished.add(result.agent_id)
                latest[result.agent_id] = result
                in_flight.pop(result.agent_id, None)
                attempts.append(
                    Attempt(result.agent_id, number, result.started_at, result.finished_at, result, result.log_path)
                )
                if result.agent_id not in known:
                    known.add(result.agent_id)
                    specs.append(AgentSpec(result.agent_id, result.title, result.role, result.executor_id, ""))
            for log in folder.glob("*.log"):
                spec = by_slug.get(log.stem)
                if spec is None or spec.agent_id in finished:
                    continue
                first = self._first_seen.setdefault((spec.agent_id, number), _mtime(log) or now)
                in_flight[spec.agent_id] = Attempt(spec.agent_id, number, first, now, None, str(log))
        outcome = self._outcome()
        waits = self._waits()
        asked = {wait.agent_id: wait for wait in waits}
        views: list[AgentView] = []
        for spec in specs:
            view = AgentView(spec)
            result = latest.get(spec.agent_id)
            flight = in_flight.get(spec.agent_id)
            if result is not None:
                view.result, view.attempt, view.log_path = result, result.attempt, result.log_path
                view.updated_at = result.finished_at
                view.state = _state_of(result)
            if flight is not None and (result is None or flight.attempt > result.attempt):
                started = self._running_pid(spec)
                view.attempt, view.log_path = flight.attempt, flight.log_path
                view.updated_at = _mtime(Path(flight.log_path)) if flight.log_path else None
                if started is not None:
                    view.state = "running"
                    flight = Attempt(
                        spec.agent_id, flight.attempt, min(started, flight.started_at), now, None, flight.log_path
                    )
                elif outcome is not None:
                    view.state = "not-run"  # the run ended (or was killed) before this attempt's verdict
                else:
                    # An empty log: waiting for a slot, or starting; else the process ended and is being judged.
                    view.state = "validating" if _size(Path(flight.log_path or "")) else "launching"
                if outcome is None:
                    attempts.append(flight)
            if view.state == "pending" and outcome is not None:
                view.state = "not-run"
            if spec.agent_id in asked:
                view.question = asked[spec.agent_id]
                if view.state != "passed":
                    view.state = "waiting-human"
            views.append(view)
        order = {spec.agent_id: index for index, spec in enumerate(specs)}
        attempts.sort(key=lambda a: (order.get(a.agent_id, len(order)), a.attempt))
        started_at = min((a.started_at for a in attempts if a.started_at), default=None)
        return WaveView(
            wave=self.wave,
            wave_path=self.wave_path,
            lane=self.lane,
            run_id=self.run_id,
            agents=views,
            attempts=attempts,
            outcome=outcome,
            waits=waits,
            board_tail=self._board_tail() if board else [],
            started_at=started_at,
            updated_at=now,
        )


def _state_of(result: AgentResult) -> AgentState:
    if result.ok:
        return "passed"
    if result.timed_out:
        return "timed_out"
    if result.status == "not-run":
        return "not-run"
    return "failed"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None

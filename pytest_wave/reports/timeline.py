"""The agents' timeline of a wave as chart geometry (rows, bars, ticks), drawn as SVG by the HTML report.

One row per agent; every attempt is a bar from its ``started_at`` to its ``finished_at`` (an attempt
still running ends at the snapshot's time), so a retry shows as a second bar later on the same row.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_wave.reports.view import WaveView

LABEL_WIDTH = 150
ROW_HEIGHT = 26
BAR_HEIGHT = 16
AXIS_HEIGHT = 28
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800)


@dataclass(frozen=True)
class Row:
    y: float
    agent_id: str
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    agent_id: str
    attempt: int
    status: str  # passed, failed, timed_out, reused, not-run, running
    tooltip: str
    start_offset: float
    duration: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    chart_x: int
    chart_width: int
    rows: list[Row]
    bars: list[Bar]
    ticks: list[Tick]
    span: float

    @property
    def empty(self) -> bool:
        return not self.bars


def duration_label(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _step(span: float, most: int = 8) -> float:
    for step in NICE_STEPS:
        if span / step <= most:
            return float(step)
    return float(NICE_STEPS[-1])


def build(view: WaveView, *, width: int = 960) -> Timeline:
    chart_width = width - LABEL_WIDTH - 20
    rows: list[Row] = []
    index: dict[str, int] = {}
    for agent in view.agents:
        index[agent.agent_id] = len(rows)
        rows.append(Row(AXIS_HEIGHT + len(rows) * ROW_HEIGHT, agent.agent_id, f"{agent.agent_id} {agent.spec.role}"))
    timed = [a for a in view.attempts if a.started_at > 0]
    origin = min((a.started_at for a in timed), default=0.0)
    end = max((max(a.finished_at, a.started_at) for a in timed), default=origin)
    span = max(end - origin, 1.0)
    scale = chart_width / span
    bars: list[Bar] = []
    for attempt in timed:
        if attempt.agent_id not in index:
            index[attempt.agent_id] = len(rows)
            rows.append(Row(AXIS_HEIGHT + len(rows) * ROW_HEIGHT, attempt.agent_id, attempt.agent_id))
        row = rows[index[attempt.agent_id]]
        duration = max(0.0, attempt.finished_at - attempt.started_at)
        offset = attempt.started_at - origin
        executor = attempt.result.executor_id if attempt.result else ""
        tip = (
            f"{attempt.agent_id} attempt {attempt.attempt}: {attempt.status}"
            f"{' on ' + executor if executor else ''}, +{duration_label(offset)} for {duration_label(duration)}"
        )
        bars.append(
            Bar(
                x=round(LABEL_WIDTH + offset * scale, 2),
                y=row.y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                width=round(max(2.0, duration * scale), 2),
                height=BAR_HEIGHT,
                agent_id=attempt.agent_id,
                attempt=attempt.attempt,
                status=attempt.status,
                tooltip=tip,
                start_offset=offset,
                duration=duration,
            )
        )
    step = _step(span)
    ticks: list[Tick] = []
    value = 0.0
    while value <= span + 1e-9:
        ticks.append(Tick(round(LABEL_WIDTH + value * scale, 2), duration_label(value) if value else "0s"))
        value += step
    height = AXIS_HEIGHT + max(1, len(rows)) * ROW_HEIGHT + 8
    return Timeline(width, height, LABEL_WIDTH, chart_width, rows, bars, ticks, span)

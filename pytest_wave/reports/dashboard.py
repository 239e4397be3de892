"""One frame of ``wave dashboard``: a wave run's agents, their states and last markers, as text.

The layout follows the Node.js tool's rendered wave view (artifacts.md §12.2): a header line
``<lane> Wave Dashboard | wave= | status= | attempt=``, the times, ``Counts:``, the agent table, the
open questions for a human, then the tail of the wave's message board.
"""

from __future__ import annotations

import time

from pytest_wave.rendering import render
from pytest_wave.reports.timeline import duration_label
from pytest_wave.reports.view import IN_FLIGHT, AgentView, WaveView

TEMPLATE = "reports/dashboard.txt.j2"
DETAIL_WIDTH = 70
HEADERS = ("ID", "State", "Attempt", "Exit", "Executor", "Last Update", "Markers / Detail")


def _clock(stamp: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp)) if stamp else "-"


def _exit(agent: AgentView) -> str:
    result = agent.result
    if result is None or agent.state in IN_FLIGHT:
        return "-"
    if result.timed_out:
        return "124"
    if result.exit_code is not None:
        return str(result.exit_code)
    return f"sig{result.signal}" if result.signal else "-"


def _detail(agent: AgentView) -> str:
    text = " ".join(agent.detail.split())
    return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 3] + "..."


def table(view: WaveView) -> list[str]:
    rows = [HEADERS]
    for agent in view.agents:
        executor = agent.result.executor_id if agent.result else agent.spec.executor
        rows.append(
            (
                agent.agent_id,
                agent.state,
                str(agent.attempt or "-"),
                _exit(agent),
                executor,
                _clock(agent.updated_at),
                _detail(agent),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    return ["  ".join(row[i].ljust(widths[i]) for i in range(len(widths))) + "  " + row[-1] for row in rows]


def render_frame(view: WaveView, *, wave_file: str) -> str:
    end = max((a.finished_at for a in view.attempts), default=view.updated_at) if view.outcome else view.updated_at
    elapsed = duration_label(end - view.started_at) if view.started_at else "-"
    return render(
        TEMPLATE,
        view=view,
        wave_file=wave_file,
        updated=_clock(view.updated_at),
        started=_clock(view.started_at),
        elapsed=elapsed,
        counts=" ".join(f"{state}:{n}" for state, n in view.counts().items()),
        table=table(view),
    )

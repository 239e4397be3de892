"""``--wave-html PATH``: one self-contained HTML file (inline CSS, JS and SVG; nothing from the network).

Per wave: the agents' timeline as an SVG chart (a bar per attempt), the closure table, links to the
logs (relative to the report, so the folder can be moved or archived together) and the reasons of
every failed attempt. :class:`WaveHtmlReport` is a controller-only plugin object in the manner of
pytest-reportlog: it rewrites the file after every agent report (the page reloads itself while the
run goes on) and once more, final, at session finish.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from pytest_wave.engine.files import write_text_atomic
from pytest_wave.model.result import AgentResult, WaveOutcome
from pytest_wave.rendering import render
from pytest_wave.reports import closure_table
from pytest_wave.reports.runs import SessionWaves
from pytest_wave.reports.timeline import Timeline, build, duration_label
from pytest_wave.reports.view import IN_FLIGHT, WaveView
from pytest_wave.state import session_state

TEMPLATE = "reports/wave-report.html.j2"
REFRESH_SECONDS = 5


@dataclass(frozen=True)
class Link:
    label: str
    href: str | None  # None: the file is not there (or not on this machine)


@dataclass(frozen=True)
class TableRow:
    agent_id: str
    title: str
    role: str
    executor: str
    attempts: int
    verdict: str
    duration: str
    tokens: str
    cost: str
    switches: str
    reason: str
    log: Link | None


@dataclass(frozen=True)
class CheckRow:
    name: str
    expected: str
    found: str
    evidence: Link | None


@dataclass(frozen=True)
class Failure:
    agent_id: str
    attempt: int
    reason: str
    checks: list[CheckRow]
    log: Link | None


@dataclass
class WaveSection:
    title: str
    anchor: str
    run_id: str
    verdict: str  # CLOSED, NOT CLOSED, RUNNING
    reason: str | None
    attempts: int
    counts: dict[str, int]
    timeline: Timeline
    rows: list[TableRow]
    failures: list[Failure]
    waits: list[str]
    usage: str | None
    show_usage: bool = False
    show_switches: bool = False
    notes: list[str] = field(default_factory=list)


def link(path: str | None, base: Path) -> Link | None:
    if not path:
        return None
    target = Path(path)
    try:
        rel = os.path.relpath(target, base)
    except ValueError:  # another drive (Windows)
        rel = str(target)
    href = quote(Path(rel).as_posix()) if target.exists() else None
    return Link(Path(rel).as_posix(), href)


def section(
    title: str,
    view: WaveView,
    outcome: WaveOutcome | None,
    base: Path,
    skipped: dict[str, str] | None = None,
) -> WaveSection:
    skipped = skipped or {}
    outcome = outcome or view.outcome
    finals: dict[str, AgentResult] = dict(outcome.agents) if outcome else {}
    rows: list[TableRow] = []
    for agent in view.agents:
        result = finals.get(agent.agent_id) or agent.result
        reason = (result.reason if result and not result.ok else None) or skipped.get(agent.agent_id) or ""
        if agent.question is not None:
            reason = f"waiting on human: {agent.question.summary}"
        verdict = result.status if result is not None and agent.state not in IN_FLIGHT else agent.state
        if result is None and agent.agent_id in skipped:
            verdict = "not-run"
        rows.append(
            TableRow(
                agent_id=agent.agent_id,
                title=agent.spec.title,
                role=agent.spec.role,
                executor=result.executor_id if result else agent.spec.executor,
                attempts=agent.attempt,
                verdict=verdict,
                duration=duration_label(result.duration) if result else "",
                tokens=closure_table.tokens(result.usage if result else None),
                cost=closure_table.cost(result.usage if result else None),
                switches=closure_table.switches(result) if result else "",
                reason=reason,
                log=link(agent.log_path or (result.log_path if result else None), base),
            )
        )
    failures = [
        Failure(
            agent_id=attempt.agent_id,
            attempt=attempt.attempt,
            reason=attempt.result.reason or attempt.result.status,
            checks=[
                CheckRow(c.name, c.expected, c.found, link(c.evidence, base) if c.evidence else None)
                for c in attempt.result.failed_checks()
            ],
            log=link(attempt.log_path, base),
        )
        for attempt in view.attempts
        if attempt.result is not None and not attempt.result.ok
    ]
    wave_verdict = ("CLOSED" if outcome.closed else "NOT CLOSED") if outcome is not None else "RUNNING"
    return WaveSection(
        title=title,
        anchor="wave-" + "".join(ch if ch.isalnum() else "-" for ch in title),
        run_id=view.run_id,
        verdict=wave_verdict,
        reason=outcome.reason if outcome else None,
        attempts=outcome.attempts if outcome else view.attempt,
        counts=view.counts(),
        timeline=build(view),
        rows=rows,
        failures=failures,
        waits=[f"{w.record_id} ({w.agent_id}): {w.summary}" for w in view.waits],
        usage=closure_table.usage_line(view.usage),
        show_usage=any(r.tokens or r.cost for r in rows),
        show_switches=any(r.switches for r in rows),
    )


def render_report(sections: list[WaveSection], *, title: str, final: bool, generated_at: float) -> str:
    return render(
        TEMPLATE,
        title=title,
        sections=sections,
        final=final,
        refresh_seconds=REFRESH_SECONDS,
        generated=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(generated_at)),
    )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return str(text).removeprefix("Skipped: ")


class WaveHtmlReport:
    """Controller-only sink: registered by :mod:`pytest_wave.reports.plugin` for ``--wave-html``."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.waves = SessionWaves(config)
        self.skipped: dict[str, dict[str, str]] = {}  # wave key -> agent -> why it did not run
        self.error: str | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.waves.discover()
        self.write(final=False)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        wave, agent = props.get("wave"), props.get("agent")
        if not (isinstance(wave, str) and isinstance(agent, str)):
            return
        watcher = self.waves.add(wave)
        if watcher is None:
            return
        if report.skipped:
            self.skipped.setdefault(watcher.wave_path, {})[agent] = _skip_reason(report)
        if report.when == "teardown":  # once per item, after its result is on disk
            self.write(final=False)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for wave_key in session_state(self.config).outcomes:
            self.waves.add(wave_key)
        self.write(final=True)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.error:
            terminalreporter.write_sep("-", f"wave html report NOT written: {self.error}", red=True)
        else:
            terminalreporter.write_sep("-", f"wave html report: {self.path}")

    def write(self, *, final: bool) -> None:
        outcomes = session_state(self.config).outcomes
        base = self.path.parent.resolve()
        sections = [
            section(
                self.waves.display(key),
                view,
                outcomes.get(key) or outcomes.get(view.wave_path),
                base,
                self.skipped.get(view.wave_path),
            )
            for key, view in self.waves.views(board=False)
        ]
        text = render_report(sections, title="pytest-wave report", final=final, generated_at=time.time())
        try:
            write_text_atomic(self.path, text)
            self.error = None
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror or exc}"

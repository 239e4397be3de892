"""Live progress on the terminal while agents run: one line per wave whenever its state changes.

xdist workers cannot print, so everything here runs on the controller: the line is recomputed from
the wave's files (:mod:`pytest_wave.reports.view`) on every item start and report, and by a poller
thread in between (agents run for hours; a question for a human must show up while they do).

Output rules: lines only (no cursor tricks), written through ``terminalreporter.write_line``, and only
when the line changed. The thread never writes while pytest is capturing output of an item running
in this process (the next event prints instead), and writes are serialized with the terminal
reporter's own per-item writes by a lock held around those hooks, so lines never split pytest's.
Off under ``-q``; on a terminal, a line that stays the same is repeated every minute while agents run.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

from pytest_wave.rendering import render
from pytest_wave.reports.runs import SessionWaves, wave_key_of
from pytest_wave.reports.timeline import duration_label
from pytest_wave.reports.view import IN_FLIGHT, WaveView

TEMPLATE = "reports/progress-line.txt.j2"
HEARTBEAT_SECONDS = 60.0
_SUFFIX = re.compile(r"(\[[^\]]*\]|@.*)$")  # ``A1[attempt-2]``, xdist's ``@group`` suffix


def agent_of(nodeid: str) -> str:
    name = nodeid.rsplit("::", 1)[-1]
    while True:
        stripped = _SUFFIX.sub("", name)
        if stripped == name:
            return name
        name = stripped


def progress_line(title: str, view: WaveView, started: set[str]) -> str | None:
    """The wave's line, or None while nothing of it has started."""
    running: list[str] = []
    for agent in view.agents:
        if agent.state in IN_FLIGHT or (agent.state == "pending" and agent.agent_id in started):
            running.append(agent.agent_id)
    failed = view.by_state("failed", "timed_out")
    waiting = list(dict.fromkeys(wait.agent_id for wait in view.waits))  # open questions, whoever asked
    done = view.by_state("passed")
    if not (running or failed or waiting or done):
        return None
    return render(
        TEMPLATE,
        title=title,
        attempt=view.attempt,
        running=running,
        done=done,
        failed=failed,
        waiting=waiting,
        total=len(view.agents),
    ).strip()


class LiveProgress:
    """Controller-only plugin object; registered by :mod:`pytest_wave.reports.plugin`."""

    def __init__(self, config: pytest.Config, terminal: Any, *, interval: float) -> None:
        self.config = config
        self.terminal = terminal
        self.interval = interval
        self.waves = SessionWaves(config)
        self.lock = threading.RLock()
        self.started: dict[str, set[str]] = {}
        self.skipping: set[str] = set()  # closure stages the controller reports as not run
        self.last: dict[str, tuple[str, float]] = {}
        self.capturing = False
        self.capture_off = config.getoption("capture", "fd") == "no"
        self.heartbeat = HEARTBEAT_SECONDS if terminal.isatty else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the thread ------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        self.waves.discover()
        if self.interval > 0:
            self._thread = threading.Thread(target=self._poll, name="wave-progress", daemon=True)
            self._thread.start()
        try:
            return (yield)
        finally:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(from_thread=True)
            except Exception:  # a report must never take the run down; the next event tries again
                continue

    # -- serialising with pytest's own writes ------------------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        with self.lock:
            yield
            if report.when == "teardown":
                key = wave_key_of(report.nodeid, self.config)
                if key is not None:
                    self.started.get(key, set()).discard(agent_of(report.nodeid))
            self.tick()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(
        self, nodeid: str, location: tuple[str, int | None, str]
    ) -> Generator[None, None, None]:
        with self.lock:
            # Before the terminal reporter writes the item's location, so the line stays whole.
            key = wave_key_of(nodeid, self.config)
            if nodeid in self.skipping:
                self.skipping.discard(nodeid)
            elif key is not None and self.waves.add(key) is not None:
                self.started.setdefault(str(key), set()).add(agent_of(nodeid))
                self.tick()
            yield

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(
        self, nodeid: str, location: tuple[str, int | None, str]
    ) -> Generator[None, None, None]:
        with self.lock:
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        if getattr(item, "skip_reason", None):  # a closure stage that will not run: not "running" either
            self.skipping.add(item.nodeid)
        return (yield)

    # An item running in this process (no xdist, or closure on the controller) has its output captured.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._captured())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._captured())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        return (yield from self._captured())

    def _captured(self) -> Generator[None, None, None]:
        self.capturing = True
        try:
            return (yield)
        finally:
            self.capturing = False

    # -- the lines -------------------------------------------------------------------------------
    def tick(self, *, from_thread: bool = False) -> None:
        with self.lock:
            if from_thread and self.capturing and not self.capture_off:
                return
            now = time.monotonic()
            for key, view in self.waves.views():
                line = progress_line(self.waves.display(key), view, self.started.get(key, set()))
                if line is None:
                    continue
                previous = self.last.get(key)
                if previous is not None and previous[0] == line:
                    if not (from_thread and self._due(view, now - previous[1])):
                        continue
                    since = view.started_at and time.time() - view.started_at
                    self._write(f"{line} (still going, {duration_label(since or 0.0)})")
                else:
                    self._write(line)
                self.last[key] = (line, now)

    def _write(self, line: str) -> None:
        if self.config.get_terminal_writer().width_of_current_line and not self.terminal.currentfspath:
            self.terminal.write("\n")  # after xdist's progress dots, which leave the line open
        self.terminal.write_line(line)  # (write_line ends a line the reporter started with a location)

    def _due(self, view: WaveView, quiet_for: float) -> bool:
        """A heartbeat: on a terminal, repeat an unchanged line every minute while agents still run."""
        if self.heartbeat is None or view.outcome is not None or quiet_for < self.heartbeat:
            return False
        return any(agent.state in (*IN_FLIGHT, "waiting-human") for agent in view.agents)

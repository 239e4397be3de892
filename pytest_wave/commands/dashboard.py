"""``wave dashboard``: a live terminal view of a lane's waves (agents, states, last markers).

It reads only the run's files (results, logs, pid files, the coordination log, the message board),
so it works from any terminal, beside a running ``pytest`` or after it. ``--once`` prints one frame
and exits. On a terminal the view redraws in place; otherwise a frame is printed each time it
changes. Ctrl-C leaves the view (exit 0).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pytest_wave.coordination.cli_support import (
    ENV_WAVE,
    Location,
    add_location_options,
    locate,
    wave_file,
    wave_number,
)
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.paths import LanePaths
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult
from pytest_wave.reports.dashboard import render_frame
from pytest_wave.reports.view import AgentSpec, WaveWatcher, latest_run_id, specs_from_context, wave_numbers

CLEAR = "\x1b[H\x1b[2J"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="live terminal view of a lane's waves: agents, states, last markers",
        description="Live terminal view of a lane's waves, read from the run's files (agents are never touched).",
    )
    add_location_options(parser)
    parser.add_argument("--run", default=None, help="run id (default: the newest run of each wave)")
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between frames (default 2)")
    parser.set_defaults(handler=_dashboard)


class _Wave:
    """One wave on the dashboard: follows its newest run unless ``--run`` pinned one."""

    def __init__(self, location: Location, paths: LanePaths, number: int, pinned: str | None) -> None:
        self.location = location
        self.paths = paths
        self.number = number
        self.pinned = pinned
        self.display = f"wave-{number}"
        self.specs: list[AgentSpec] = []
        self.watcher: WaveWatcher | None = None
        with contextlib.suppress(WaveError):
            self._load(wave_file(location, number, None))

    def _load(self, path: Path) -> None:
        """The wave file's agents (in wave order, with their slugs: what tells a running agent apart)."""
        ctx = WaveContext.load(path, RunOptions(lane=self.location.lane), repo_root=self.location.repo_root)
        self.specs = specs_from_context(ctx)
        self.display = os.path.relpath(ctx.wave_path, self.location.repo_root)

    def _load_from_run(self, run_id: str) -> None:
        """Without the lane's wave file, the run's own records name it (a wave outside ``wavesDir``)."""
        for result in sorted(self.paths.run_dir(self.number, run_id).glob("attempt-*/*.json")):
            try:
                recorded = AgentResult.model_validate_json(result.read_bytes()).wave_path
                self._load(Path(recorded))
                return
            except (OSError, ValueError, WaveError):
                continue

    def frame(self) -> tuple[str, object]:
        """The frame's text, and what it shows apart from the clock (to print a new frame on change only)."""
        run_id = self.pinned or latest_run_id(self.paths, self.number)
        if run_id is None:
            return f"{self.location.lane} Wave Dashboard | wave={self.number} | status=not started\n", None
        if self.watcher is None or self.watcher.run_id != run_id:
            if not self.specs:
                self._load_from_run(run_id)
            self.watcher = WaveWatcher(
                paths=self.paths,
                wave=self.number,
                wave_path=self.display,
                lane=self.location.lane,
                run_id=run_id,
                specs=list(self.specs),
            )
        view = self.watcher.snapshot(board=True)
        shows = (
            run_id,
            [(a.agent_id, a.state, a.attempt, a.detail) for a in view.agents],
            view.waits,
            view.outcome is not None and view.outcome.closed,
            view.board_tail,
        )
        return render_frame(view, wave_file=self.display), shows


def _dashboard(args: argparse.Namespace) -> int:
    location = locate(args)
    paths = LanePaths(repo_root=location.repo_root, state_dir=location.state_dir)
    if args.wave is not None or os.environ.get(ENV_WAVE, "").strip():
        numbers = [wave_number(args.wave)]
    else:
        numbers = wave_numbers(paths)
        if not numbers:
            raise WaveError(
                f"no wave run found under {Path(paths.state_dir) / 'results'}",
                fix="run `pytest waves/wave-<n>.md` first, or pass --repo-root/--lane",
            )
    if args.interval <= 0:
        raise WaveError(f"--interval must be more than 0 (got {args.interval})")
    waves = [_Wave(location, paths, number, args.run) for number in numbers]
    if args.once:
        sys.stdout.write("\n".join(wave.frame()[0] for wave in waves))
        return 0
    return _watch(waves, args.interval)


def _watch(waves: list[_Wave], interval: float) -> int:
    """Redraw until Ctrl-C. The signal only sets a flag: a KeyboardInterrupt raised inside a callback
    Python runs for itself (a weakref or import-lock callback) would be swallowed, and the view would
    never stop."""
    stop = threading.Event()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if main_thread else None
    tty = sys.stdout.isatty()
    shown: object = object()
    try:
        while not stop.is_set():
            frames = [wave.frame() for wave in waves]
            text = "\n".join(frame for frame, _ in frames)
            state = [shows for _, shows in frames]
            if tty:
                sys.stdout.write(CLEAR + text)
            elif state != shown:
                sys.stdout.write(text + "\n")
            sys.stdout.flush()
            shown = state
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
    return 0

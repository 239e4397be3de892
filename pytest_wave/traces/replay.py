"""``pytest --wave-replay PATH``: replay trace bundles read-only, as test items.

Per bundle: ``integrity`` (the manifest loads, every file is there with its recorded sha256), one
item per agent (its gates recomputed from the recorded artifacts match what was recorded) and
``verdict`` (the wave-level barrier, verdict, quality and derived files reproduce). The session
exits 0 only when every bundle reproduces. PATH is one bundle or a folder holding bundles
(``traces/`` or ``traces/wave-<n>/``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_wave.traces.bundle import MANIFEST, Bundle, TraceError
from pytest_wave.traces.recompute import BundleReplay, Difference

_REPLAYS = pytest.StashKey[dict[Path, "BundleReplay | TraceError"]]()


class ReplayFailure(Exception):
    def __init__(self, headline: str, differences: list[Difference] | None = None) -> None:
        super().__init__(headline)
        self.headline = headline
        self.differences = differences or []

    def render(self) -> str:
        return "\n".join([self.headline, *(f"  {d.line()}" for d in self.differences)])


def find_bundles(root: Path) -> list[Path]:
    if (root / MANIFEST).is_file():
        return [root]
    return sorted(path.parent for path in root.rglob(MANIFEST) if not path.parent.name.startswith("."))


def _replay(config: pytest.Config, folder: Path) -> BundleReplay:
    cache = config.stash.setdefault(_REPLAYS, {})
    if folder not in cache:
        try:
            cache[folder] = BundleReplay(Bundle.load(folder))
        except TraceError as exc:
            cache[folder] = exc
    found = cache[folder]
    if isinstance(found, TraceError):
        raise ReplayFailure(found.one_line())
    return found


def _items(parent: pytest.Directory, folder: Path) -> Iterator[pytest.Item]:
    yield IntegrityItem.from_parent(parent, name="integrity", folder=folder)
    try:
        replay = _replay(parent.config, folder)
    except ReplayFailure:
        return  # the integrity item says why, in one line
    for agent in replay.manifest.agents:
        yield AgentReplayItem.from_parent(parent, name=agent.agent_id, folder=folder, agent_id=agent.agent_id)
    yield VerdictItem.from_parent(parent, name="verdict", folder=folder)


class ReplayRoot(pytest.Directory):
    """The folder given to ``--wave-replay``: a bundle, or a folder of bundles."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        bundles = find_bundles(self.path)
        if bundles == [self.path] or not bundles:
            yield from _items(self, self.path)  # no bundle at all: "integrity" fails and says so
            return
        for folder in bundles:
            yield ReplayBundle.from_parent(self, path=folder)


class ReplayBundle(pytest.Directory):
    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        yield from _items(self, self.path)


class _ReplayItem(pytest.Item):
    def __init__(self, *, folder: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = folder

    @property
    def replay(self) -> BundleReplay:
        return _replay(self.config, self.folder)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.folder, None, f"replay {self.name}"

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ReplayFailure):
            return excinfo.value.render()
        if isinstance(excinfo.value, TraceError):
            return excinfo.value.one_line()
        return super().repr_failure(excinfo, style=style)

    def runtest(self) -> None:
        try:
            self.check()
        except BaseException as exc:
            count = len(exc.differences) if isinstance(exc, ReplayFailure) else 0
            seen = self.config.stash.setdefault(_SEEN, {})
            seen[self.folder] = seen.get(self.folder, 0) + max(1, count)
            raise

    def check(self) -> None:
        raise NotImplementedError

    @staticmethod
    def _run(headline: str, differences: list[Difference]) -> None:
        if differences:
            raise ReplayFailure(headline.format(count=len(differences)), differences)


class IntegrityItem(_ReplayItem):
    def check(self) -> None:
        replay = self.replay
        self.user_properties.append(("trace_version", replay.manifest.trace_version))
        self.user_properties.append(("run_id", replay.manifest.run_id))
        self._run("bundle integrity: {count} problem(s)", replay.integrity())


class AgentReplayItem(_ReplayItem):
    def __init__(self, *, agent_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agent_id = agent_id

    def check(self) -> None:
        result = self.replay.agent(self.agent_id)
        self.user_properties += [("agent", self.agent_id), ("status", result.replayed_status)]
        if result.carried:
            self.add_report_section("call", "carried as recorded", "\n".join(result.carried))
        self._run(
            f"{self.agent_id}: recorded {result.recorded_status}, {{count}} difference(s) on replay",
            result.differences,
        )


class VerdictItem(_ReplayItem):
    def check(self) -> None:
        verdict = self.replay.verdict()
        shown = "CLOSED" if verdict.replayed_closed else "NOT CLOSED"
        self.user_properties += [("verdict", shown), ("final", verdict.final)]
        self.config.stash.setdefault(_VERDICTS, {})[self.folder] = verdict.recorded_closed
        self._run(
            f"recorded verdict does not reproduce: {{count}} difference(s) (replayed: {shown})", verdict.differences
        )


_VERDICTS = pytest.StashKey[dict[Path, bool]]()  # bundle -> its recorded verdict (closed)
_SEEN = pytest.StashKey[dict[Path, int]]()  # bundle -> differences found by its items so far


def terminal_lines(config: pytest.Config) -> list[str]:
    """One line per replayed bundle for the terminal summary."""
    lines: list[str] = []
    base = Path(config.invocation_params.dir)
    verdicts = config.stash.get(_VERDICTS, {})
    seen = config.stash.get(_SEEN, {})
    for folder, found in sorted(config.stash.get(_REPLAYS, {}).items()):
        shown = folder.relative_to(base) if folder.is_relative_to(base) else folder
        if isinstance(found, TraceError):
            lines.append(f"replay {shown}: cannot be replayed: {found.message}")
            continue
        closed = verdicts.get(folder)
        recorded = "the recorded verdict" if closed is None else f"recorded {'CLOSED' if closed else 'NOT CLOSED'}"
        count = seen.get(folder, 0)
        if count:
            lines.append(f"replay {shown}: {recorded} does NOT reproduce ({count} difference(s))")
        elif closed is not None:
            lines.append(f"replay {shown}: {recorded} reproduces")
    return lines

"""pytest collection nodes for wave files: plan, agent, closure and lint items.

These run wherever pytest runs them (an xdist worker or the only process); they hold no
orchestration logic of their own and delegate to :mod:`pytest_wave.engine`.
"""

from __future__ import annotations

import hashlib
import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr
from _pytest._io import TerminalWriter

from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.wave_run import WaveRun
from pytest_wave.errors import WaveError
from pytest_wave.lint.base import Category
from pytest_wave.lint.runner import lint_wave
from pytest_wave.model.findings import Finding
from pytest_wave.model.result import AgentResult
from pytest_wave.model.wave import Agent
from pytest_wave.state import WaveSession, session_state

LOG_TAIL_LINES = 40


class WaveItemFailure(Exception):
    """An expected failure: rendered as a short table, never as a traceback."""

    def __init__(self, headline: str, rows: list[tuple[str, str, str, str]] | None = None) -> None:
        super().__init__(headline)
        self.headline = headline
        self.rows = rows or []


class FailureTable(TerminalRepr):
    def __init__(self, failure: WaveItemFailure) -> None:
        self.failure = failure

    def toterminal(self, tw: TerminalWriter) -> None:
        tw.line(self.failure.headline, red=True, bold=True)
        if not self.failure.rows:
            return
        headers = ("check", "expected", "found", "evidence")
        rows = [headers, *self.failure.rows]
        widths = [min(60, max(len(row[i]) for row in rows)) for i in range(3)]
        for index, row in enumerate(rows):
            cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(3)]
            tw.line("  " + " | ".join(cells) + " | " + row[3], bold=index == 0)


def failure_from_result(result: AgentResult) -> WaveItemFailure:
    rows = [(c.name, c.expected, c.found, c.evidence or "") for c in result.failed_checks()]
    who = f"{result.agent_id} ({result.role}, {result.executor_id}, attempt {result.attempt})"
    if result.crashed:  # reported as an error, not as a gate the agent failed
        return WaveItemFailure(f"{who} crashed: killed by {signal_name(result.signal)}", rows)
    return WaveItemFailure(f"{who}: {result.reason}", rows)


def signal_name(number: int | None) -> str:
    try:
        return signal.Signals(number or 0).name
    except ValueError:
        return f"signal {number}"


class _WaveNode(pytest.Item):
    """Shared parts of every item of a wave file."""

    wave_file: WaveFile

    def __init__(self, *, line: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._line = line
        self.wave_file = self.parent  # type: ignore[assignment]

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, max(0, self._line - 1), self.name

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, WaveItemFailure):
            return FailureTable(excinfo.value)
        if isinstance(excinfo.value, WaveError):
            return excinfo.value.one_line()
        return super().repr_failure(excinfo, style=style)

    @property
    def wave_state(self) -> WaveSession:
        return session_state(self.config)

    def validated_context(self, consequence: str) -> WaveContext:
        """The wave's context, or a failure naming its load error or every validation error
        (``consequence`` completes the headline: what an invalid wave means for this item)."""
        error = self.wave_file.load_error
        if error is not None:
            raise WaveItemFailure(error.one_line())
        errors = [f for f in self.wave_file.findings() if f.severity == "error"]
        if errors:
            raise WaveItemFailure(
                f"{len(errors)} validation error(s){consequence}",
                [(f.rule_id, f.fix or "", f.message, f"{f.path}:{f.line}") for f in errors],
            )
        return self.wave_file.context()


class PlanItem(_WaveNode):
    """Parse and validate the wave; agents of an invalid wave are never launched."""

    def runtest(self) -> None:
        ctx = self.validated_context("; no agent of this wave will be launched")
        WaveRun(ctx, self.wave_state.run_id).take_baseline()


class AgentItem(_WaveNode):
    """One agent attempt: launch it through its executor, then assert its proof."""

    def __init__(self, *, agent: Agent, attempt: int = 1, result: AgentResult | None = None, **kwargs: Any) -> None:
        super().__init__(line=agent.line, **kwargs)
        self.agent = agent
        self.attempt = attempt
        self.result: AgentResult | None = result  # precomputed by a parallel retry pass

    @property
    def retry_remaining(self) -> bool:
        state = self.wave_state
        return (
            self.attempt < state.max_attempts
            and state.closure_selected(self.wave_file.wave_key)
            and not self.wave_file.has_validation_errors()  # an invalid wave is never retried (or launched)
            and not (self.result is not None and self.result.status == "not-run")  # held for a human
        )

    def runtest(self) -> None:
        ctx = self.wave_file.context()
        if self.wave_file.has_validation_errors():
            raise WaveItemFailure(f"{self.agent.id} not launched: the wave has validation errors (see ::plan)")
        if self.result is None:
            run = WaveRun(ctx, self.wave_state.run_id)
            run.take_baseline()  # no-op when the controller or the plan item already took it
            self.result = self.run_attempt(run)
            self.config.hook.pytest_wave_agent_finished(result=self.result)
        self.wave_state.record_result(self.result)
        if not self.result.ok:
            raise failure_from_result(self.result)

    def run_attempt(self, run: WaveRun) -> AgentResult:
        return run.run_agent(self.agent, self.attempt)

    def log_tail(self) -> str | None:
        if self.result is None or not self.result.log_path:
            return None
        try:
            lines = Path(self.result.log_path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def properties(self) -> list[tuple[str, object]]:
        result = self.result
        props: list[tuple[str, object]] = [
            ("wave", self.wave_file.wave_key),
            ("agent", self.agent.id),
            ("attempt", self.attempt),
        ]
        if result is not None:
            digest = hashlib.sha256(
                json.dumps([c.model_dump() for c in result.checks], sort_keys=True).encode()
            ).hexdigest()[:16]
            props += [
                ("role", result.role),
                ("executor", result.executor_id),
                ("status", result.status),
                ("markers", " | ".join(result.markers)),
                ("log", result.log_path or ""),
                ("proof_digest", digest),
                ("reused_from", _evidence(result)),
                ("crashed", signal_name(result.signal) if result.crashed else ""),
            ]
        return props


def _evidence(result: AgentResult) -> str:
    """``<run-id>/attempt-<k>: <result path>`` of the earlier result a reused one stands on."""
    origin = result.reused_from
    return f"{origin.run_id}/attempt-{origin.attempt}: {origin.result_path}" if origin else ""


class ClosureItem(AgentItem):
    """A closure stage (integration, documentation, evaluator); runs on the controller, in order."""

    skip_reason: str | None = None

    def runtest(self) -> None:
        if self.skip_reason:
            pytest.skip(self.skip_reason)
        super().runtest()

    def run_attempt(self, run: WaveRun) -> AgentResult:
        return run.run_closure_stage(self.agent, self.attempt)


class LintItem(_WaveNode):
    """``--wave-lint``: the wave's plan lint findings as one pass/fail item; starts no agent."""

    def runtest(self) -> None:
        error = self.wave_file.load_error
        if error is not None:
            raise WaveItemFailure(error.one_line())
        findings = self.wave_file.findings(include_lint=True)
        for finding in findings:
            if finding.severity != "error":
                self.add_report_section("call", "lint warnings", finding.one_line())
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise WaveItemFailure(
                f"{len(errors)} lint error(s)",
                [(f.rule_id, f.fix or "", f.message, f"{f.path}:{f.line}") for f in errors],
            )


@dataclass
class _Loaded:
    ctx: WaveContext | None = None
    error: WaveError | None = None
    findings: dict[bool, list[Finding]] = field(default_factory=dict)


class WaveFile(pytest.File):
    """A wave markdown file: a plan item, one item per agent, then the closure stages."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded: _Loaded | None = None

    @property
    def wave_key(self) -> str:
        return str(self.path)

    def _load(self) -> _Loaded:
        if self._loaded is None:
            state = session_state(self.config)
            try:
                self._loaded = _Loaded(ctx=WaveContext.load(self.path, state.options, lookup=state.lookup))
            except WaveError as exc:
                self._loaded = _Loaded(error=exc)
        return self._loaded

    @property
    def load_error(self) -> WaveError | None:
        return self._load().error

    def context(self) -> WaveContext:
        loaded = self._load()
        if loaded.ctx is None:
            raise WaveItemFailure(loaded.error.one_line() if loaded.error else "wave did not load")
        return loaded.ctx

    def findings(self, *, include_lint: bool = False) -> list[Finding]:
        loaded = self._load()
        if include_lint not in loaded.findings:
            ctx = self.context()
            include: tuple[Category, ...] = ("validation", "lint") if include_lint else ("validation",)
            loaded.findings[include_lint] = lint_wave(
                ctx.wave, ctx.repo_root, ctx.lane, include=include, pluginmanager=self.config.pluginmanager
            )
        return loaded.findings[include_lint]

    def has_validation_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings())

    def collect(self) -> Iterator[pytest.Item]:
        state = session_state(self.config)
        if state.lint_mode:
            yield LintItem.from_parent(self, name="lint")
            return
        if state.mode is not None:
            from pytest_wave.modes.items import mode_items

            yield from mode_items(self, state.mode)
            return
        loaded = self._load()
        yield PlanItem.from_parent(self, name="plan")
        if loaded.ctx is None:
            return
        ctx = loaded.ctx
        for agent in ctx.implementation_agents():
            yield self._agent_item(AgentItem, ctx, agent)
        for agent in ctx.closure_agents():
            yield self._agent_item(ClosureItem, ctx, agent)

    def _agent_item(self, cls: type[AgentItem], ctx: WaveContext, agent: Agent, **kwargs: Any) -> AgentItem:
        item = cls.from_parent(self, name=kwargs.pop("name", agent.id), agent=agent, **kwargs)
        try:
            executor = ctx.executor_for(agent).id
        except WaveError:
            executor = "unresolved"
        item.add_marker(executor if executor in ("codex", "claude", "opencode", "local") else "wave")
        item.add_marker(ctx.role(agent))
        item.add_marker("wave")
        return item

    def make_item(self, agent: Agent, attempt: int, *, closure: bool, result: AgentResult | None = None) -> AgentItem:
        """An item for a later attempt (built on the controller for retries)."""
        cls: type[AgentItem] = ClosureItem if closure else AgentItem
        name = agent.id if attempt == 1 else f"{agent.id}[attempt-{attempt}]"
        return self._agent_item(cls, self.context(), agent, name=name, attempt=attempt, result=result)

"""One wave's coordination on disk: the log, the materialized state and every derived file.

:class:`WaveCoordination` keeps the state in memory between refreshes and reads only the bytes
appended since the last one; then it rebuilds the projections the new records affect (the shared
summary, the board and the ledger always; inboxes only for the agents a record targets, authored,
touches by path or was assigned) and writes the files whose text changed, each atomically. All
derived files can be deleted at any time: the next refresh rebuilds them from the log and the wave.

Layout (artifacts.md §4.1), under the lane's state dir ``.tmp/<lane>-wave-launcher/``::

    coordination/wave-<n>.jsonl           the log (the authority)
    messageboards/wave-<n>.md             board
    inboxes/wave-<n>/shared-summary.md    shared summary; <AgentId>.md per agent
    assignments/wave-<n>.json             helper assignments
    ledger/wave-<n>.json                  ledger
    docs-queue/wave-<n>.json              docs queue
    integration/wave-<n>.json, .md        integration summary
    dependencies/wave-<n>.json, .md       cross-lane dependency snapshot
    feedback/triage/wave-<n>.jsonl        triage records; wave-<n>/pending-human.md
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wave.coordination.dependencies import DependencyStore, build_snapshot
from pytest_wave.coordination.feedback import FeedbackQueue
from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.projections import (
    Lines,
    WaveFacts,
    assignments_by_agent,
    build_docs_queue,
    build_integration_summary,
    build_ledger,
    render_board,
    render_dependencies_markdown,
    render_inbox,
    render_integration_markdown,
    render_pending_human,
    render_shared_summary,
    tasks_by_owner,
)
from pytest_wave.coordination.records import Rec, dumps_pretty
from pytest_wave.coordination.seeds import result_records, seed_updates
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.coordination.triage import triage
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.model.coordination import SYSTEM_AUTHORS, LogIssue, MaterializedState, Roster, now_iso
from pytest_wave.model.result import Check
from pytest_wave.rendering import render

WRITE_DELAY = 1.0  # seconds between writes of the big JSON projections while records stream in

# Record kinds whose changes can change the ledger (tasks, blockers, clarifications, human items).
_LEDGER_KINDS = frozenset(
    {"request", "blocker", "clarification-request", "human-feedback", "human-escalation", "assignment"}
)


@dataclass(frozen=True)
class CoordinationPaths:
    state_dir: Path
    orchestrator_dir: Path
    wave: int

    def _w(self, folder: str, suffix: str) -> Path:
        return self.state_dir / folder / f"wave-{self.wave}{suffix}"

    @property
    def log(self) -> Path:
        return self._w("coordination", ".jsonl")

    @property
    def board(self) -> Path:
        return self._w("messageboards", ".md")

    @property
    def inbox_dir(self) -> Path:
        return self.state_dir / "inboxes" / f"wave-{self.wave}"

    @property
    def shared_summary(self) -> Path:
        return self.inbox_dir / "shared-summary.md"

    def inbox(self, agent_id: str) -> Path:
        return self.inbox_dir / f"{agent_id}.md"

    @property
    def assignments(self) -> Path:
        return self._w("assignments", ".json")

    @property
    def ledger(self) -> Path:
        return self._w("ledger", ".json")

    @property
    def docs_queue(self) -> Path:
        return self._w("docs-queue", ".json")

    @property
    def integration_json(self) -> Path:
        return self._w("integration", ".json")

    @property
    def integration_md(self) -> Path:
        return self._w("integration", ".md")

    @property
    def dependencies_json(self) -> Path:
        return self._w("dependencies", ".json")

    @property
    def dependencies_md(self) -> Path:
        return self._w("dependencies", ".md")

    @property
    def triage_log(self) -> Path:
        return self.state_dir / "feedback" / "triage" / f"wave-{self.wave}.jsonl"

    @property
    def pending_human(self) -> Path:
        return self.state_dir / "feedback" / "triage" / f"wave-{self.wave}" / "pending-human.md"

    @property
    def dependency_dir(self) -> Path:
        return self.orchestrator_dir / "dependencies"


@dataclass
class Projections:
    """The latest derived data, kept between refreshes."""

    docs_queue: dict[str, Any] = field(default_factory=dict)
    integration: dict[str, Any] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    dependencies: dict[str, Any] | None = None
    shared_summary: str = ""
    inboxes: dict[str, str] = field(default_factory=dict)
    board: str = ""


class WaveCoordination:
    """Coordination of one wave of one lane (thread-safe: agents of a wave refresh from threads)."""

    def __init__(
        self, roster: Roster, paths: CoordinationPaths, *, write: bool = True, log: CoordinationLog | None = None
    ) -> None:
        self.roster = roster
        self.paths = paths
        self.write_files = write
        # ``log``: another store for the same records (the Redis stream of a distributed wave).
        self.log = log if log is not None else CoordinationLog(paths.log)
        self.reader = self.log.reader(known_agents=[*roster.ids, *SYSTEM_AUTHORS])
        self.state = CoordinationState(roster)
        self.deps = DependencyStore(paths.dependency_dir)
        self.facts = WaveFacts(attempt=0)
        self.issues: list[LogIssue] = []
        self.torn_tail: LogIssue | None = None
        self.views = Projections()
        self._lock = threading.RLock()
        self._written: dict[Path, str] = {}
        self._facts_dirty = True
        self._first = True
        self._note: tuple[str, str] | None = None
        self.lines = Lines()
        self._ledger_cache: dict[str, Any] = {}
        self._owned_tasks: dict[str | None, list[dict[str, Any]]] = {}
        self._assigned: dict[str, list[dict[str, Any]]] | None = None
        # Big JSON projections (ledger, assignments) are written at most every WRITE_DELAY seconds
        # while records stream in, and always by flush() (called before any gate reads state).
        self._pending: dict[Path, Callable[[], str]] = {}
        self._last_big_write = 0.0

    # -- inputs --------------------------------------------------------------------------------
    def set_facts(self, facts: WaveFacts) -> None:
        with self._lock:
            if facts.agents != self.facts.agents or facts.attempt != self.facts.attempt:
                self.facts = facts
                self._facts_dirty = True

    def feedback_queue(self) -> FeedbackQueue:
        return FeedbackQueue(self.paths.orchestrator_dir, lambda lane, wave: self.log)

    def append(self, records: list[Rec]) -> list[Rec]:
        with self._lock:
            return self.log.append(records)

    def record_result(self, agent_id: str) -> list[Rec]:
        """Append what ``agent_id``'s latest attempt (in the current facts) proved."""
        with self._lock:
            self._poll()
            records = result_records(self.roster, self.facts, agent_id, self.state)
            return self.log.append(records) if records else []

    # -- refresh -------------------------------------------------------------------------------
    def _poll(self) -> bool:
        batch = self.reader.poll(final=True)
        self.issues.extend(batch.issues)
        self.torn_tail = batch.torn_tail
        self.state.apply_batch(batch)
        return len(batch) > 0

    def refresh(self, *, attempt: int | None = None, seeds: bool = True, run_triage: bool = False) -> bool:
        """Bring state and projections up to date with the log; True when anything changed."""
        with self._lock:
            changed = self._poll()
            if seeds and self._facts_dirty:
                read_more: list[bool] = []

                def updates() -> list[Rec]:
                    read_more.append(self._poll())  # under the append lock: no one appends a seed in between
                    return seed_updates(self.state, self.roster, self.facts)

                appended = self.log.append_computed(updates)
                changed = self._poll() or bool(appended) or any(read_more) or changed
            deps_changed = self.deps.poll()
            everything = self._first or self._facts_dirty or deps_changed
            if not (changed or everything):
                return False
            self._rebuild(everything)
            clarifying = run_triage and bool(self.state.open_by_kind.get("clarification-request"))
            if clarifying and self._triage(attempt if attempt is not None else self.facts.attempt):
                self._poll()
                self._rebuild(False)
            self._first = False
            self._facts_dirty = False
            return True

    def _rebuild(self, everything: bool) -> None:
        state, roster, views = self.state, self.roster, self.views
        touched, kinds = state.take_changes()
        # Projections carry the time of the newest record, not the wall clock: the same log gives
        # the same files, and an unchanged projection is not rewritten on every refresh.
        stamp = state.last_updated or now_iso()
        if everything:
            views.docs_queue = build_docs_queue(roster, self.facts, stamp)
            views.dependencies = build_snapshot(
                self.deps.tickets_for_lane(roster.lane), roster.lane, roster.wave, state.resolve_target
            )
        views.integration = build_integration_summary(
            state, roster, self.facts, views.docs_queue, views.dependencies, stamp
        )
        note = (views.integration["recommendation"], views.integration["detail"])
        ledger_changed = everything or bool(kinds & _LEDGER_KINDS) or note != self._note or not views.ledger
        if ledger_changed:
            views.ledger = build_ledger(
                state,
                roster,
                self.facts,
                views.integration,
                views.docs_queue,
                views.dependencies,
                stamp,
                self._ledger_cache,
            )
            self._owned_tasks = tasks_by_owner(views.ledger)
        views.shared_summary = render_shared_summary(
            state, roster, views.integration, views.ledger["phase"], views.dependencies, self.lines
        )
        if note != self._note:
            # The inbox's integration note and ledger tasks can change for everyone.
            touched = set(roster.ids)
            self._note = note
        targets = roster.ids if everything else [a for a in roster.ids if a in touched]
        if everything or "assignment" in kinds or self._assigned is None:
            self._assigned = assignments_by_agent(state)
        assigned = self._assigned
        for agent_id in targets:
            views.inboxes[agent_id] = render_inbox(
                state,
                roster,
                agent_id,
                views.ledger,
                views.docs_queue,
                views.integration,
                views.dependencies,
                assigned,
                self.lines,
                self._owned_tasks,
            )
        views.board = render_board(state, roster, views.dependencies, self.lines)
        if not self.write_files:
            return
        paths = self.paths
        self._put(paths.board, views.board)
        self._put(paths.shared_summary, views.shared_summary)
        for agent_id in targets:
            self._put(paths.inbox(agent_id), views.inboxes[agent_id])
        if ledger_changed:
            ledger = views.ledger
            self._pending[paths.ledger] = lambda: dumps_pretty(ledger)
        self._put(paths.integration_json, dumps_pretty(views.integration))
        self._put(paths.integration_md, render_integration_markdown(views.integration))
        if everything or "assignment" in kinds:
            self._pending[paths.assignments] = lambda: dumps_pretty(state.all_assignments())
        if everything or time.monotonic() - self._last_big_write >= WRITE_DELAY:
            self._write_pending()
        if everything:
            self._put(paths.docs_queue, dumps_pretty(views.docs_queue))
            if views.dependencies is not None:
                self._put(paths.dependencies_json, dumps_pretty(views.dependencies))
                self._put(paths.dependencies_md, render_dependencies_markdown(views.dependencies, self.lines))

    def _write_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for path, text in pending.items():
            self._put(path, text())
        self._last_big_write = time.monotonic()

    def flush(self) -> None:
        """Write every projection still waiting (see WRITE_DELAY)."""
        with self._lock:
            if self.write_files:
                self._write_pending()

    def _put(self, path: Path, text: str) -> None:
        if self._written.get(path) == text and path.exists():
            return
        write_text_atomic(path, text)
        self._written[path] = text

    def _triage(self, attempt: int) -> bool:
        outcome = triage(
            self.state,
            self.roster,
            self.facts,
            attempt=attempt,
            docs_queue=self.views.docs_queue,
            integration=self.views.integration if self.paths.integration_json.exists() else None,
        )
        if not outcome.records and not outcome.feedback:
            return False
        queue = self.feedback_queue()
        for request in outcome.feedback:
            queue.ask(
                request.lane,
                request.wave,
                request.agent_id,
                request.question,
                request.context,
                clarification_id=request.clarification_id,
                rid=request.id,
            )
        if outcome.records:
            self.log.append(outcome.records)
            CoordinationLog(self.paths.triage_log).append(outcome.records)
        escalations = self.state.latest_of_kind("human-escalation") + [
            r for r in outcome.records if r["kind"] == "human-escalation"
        ]
        if self.write_files:
            self._put(self.paths.pending_human, render_pending_human(escalations))
        return True

    # -- reading -------------------------------------------------------------------------------
    def inbox(self, agent_id: str) -> str:
        with self._lock:
            if agent_id not in self.views.inboxes:
                self.views.inboxes[agent_id] = render_inbox(
                    self.state,
                    self.roster,
                    agent_id,
                    self.views.ledger,
                    self.views.docs_queue,
                    self.views.integration,
                    self.views.dependencies,
                )
            return self.views.inboxes[agent_id]

    def prompt_section(self, agent_id: str) -> str:
        """The text an agent's prompt carries: its compiled inbox, then the shared summary."""
        with self._lock:
            return render(
                "coordination/prompt_section.md.j2",
                inbox=self.inbox(agent_id).strip(),
                shared=self.views.shared_summary.strip(),
            )

    def materialized(self) -> MaterializedState:
        state = self.state
        return MaterializedState(
            lane=self.roster.lane,
            wave=self.roster.wave,
            record_count=state.record_count,
            latest_records=list(state.latest.values()),
            open_records=list(state.open_ids),
            blocking_records=list(state.blocking_ids),
            records_by_agent_id=_group(state.latest.values(), lambda r: [r["agentId"]]),
            records_by_target=_group(state.latest.values(), lambda r: r["targets"]),
            by_kind={k: list(v) for k, v in state.by_kind.data.items()},
            issues=[*self.issues, *([self.torn_tail] if self.torn_tail else [])],
        )

    # -- closure -------------------------------------------------------------------------------
    def barrier_checks(self) -> list[Check]:
        """Closure barriers over the materialized state; each is a named Check (ok or not)."""
        with self._lock:
            return barrier_checks(self.state, self.views.dependencies, str(self.paths.log))

    def waiting_on_human(self) -> str | None:
        with self._lock:
            return waiting_on_human(self.state)

    def relaunch_targets(self) -> list[str]:
        """Wave agents that open blocking coordination asks to act (lifecycle.md §7.8 steps 3-7)."""
        with self._lock:
            return relaunch_targets(self.state, self.views.dependencies)


def _group(records: Iterable[Rec], keys: Callable[[Rec], list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in records:
        for key in keys(record):
            out.setdefault(key, []).append(record["id"])
    return out


def _ids(records: list[Rec], limit: int = 5) -> str:
    shown = ", ".join(r["id"] for r in records[:limit])
    more = f" (+{len(records) - limit} more)" if len(records) > limit else ""
    return shown + more


def barrier_checks(state: CoordinationState, dependencies: dict[str, Any] | None, evidence: str) -> list[Check]:
    checks: list[Check] = []
    blockers = [r for r in state.blocking() if r["kind"] == "blocker" or (r["kind"] == "request" and not r["targets"])]
    checks.append(
        Check(
            name="coordination: open blocking records",
            ok=not blockers,
            expected="no open blocking blocker or request",
            found="none" if not blockers else f"{len(blockers)} open: {_ids(blockers)}",
            code=None if not blockers else "coordination-blocker-open",
            evidence=evidence,
        )
    )
    clarifications = [r for r in state.open_clarifications() if r["id"] in state.blocking_ids]
    follow_ups = [r for r in state.clarification_linked_requests() if r["id"] in state.blocking_ids]
    code = "clarification-open" if clarifications else ("clarification-follow-up-open" if follow_ups else None)
    pending = clarifications + follow_ups
    checks.append(
        Check(
            name="coordination: clarifications",
            ok=not pending,
            expected="every clarification and its follow-up requests resolved",
            found="none open" if not pending else f"{len(pending)} open: {_ids(pending)}",
            code=code,
            evidence=evidence,
        )
    )
    helpers = [a for a in state.blocking_assignments() if a["closureCondition"][:14] != "clarification:"]
    unassigned = [a for a in helpers if not a["assignedAgentId"]]
    checks.append(
        Check(
            name="coordination: helper assignments",
            ok=not helpers,
            expected="no open helper assignment",
            found="none open"
            if not helpers
            else f"{len(helpers)} open ({len(unassigned)} without an assignee): "
            + ", ".join(f"{a['requestId']}->{a['assignedAgentId'] or '?'}" for a in helpers[:5]),
            code=None if not helpers else ("helper-assignment-unresolved" if unassigned else "helper-assignment-open"),
            evidence=evidence,
        )
    )
    deps = dependencies or {}
    required = [*deps.get("requiredInbound", []), *deps.get("requiredOutbound", [])]
    unresolved = list(deps.get("unresolvedInboundAssignments", []))
    checks.append(
        Check(
            name="coordination: required dependencies",
            ok=not required,
            expected="no open required cross-lane dependency",
            found="none open" if not required else f"{len(required)} open: {', '.join(required[:5])}",
            code=None if not required else ("dependency-assignment-unresolved" if unresolved else "dependency-open"),
            evidence=evidence,
        )
    )
    human = [r for r in state.open_human() if r["id"] in state.blocking_ids]
    checks.append(
        Check(
            name="coordination: human feedback",
            ok=not human,
            expected="no question waiting on a human",
            found="none pending" if not human else f"waiting on human: {_ids(human)}",
            code=None if not human else "human-feedback-open",
            evidence=evidence,
        )
    )
    return checks


def waiting_on_human(state: CoordinationState) -> str | None:
    human = [r for r in state.open_human() if r["id"] in state.blocking_ids]
    if not human:
        return None
    first = human[0]
    return (
        f"waiting on human: {len(human)} open question(s), first {first['id']} "
        f"({' '.join(first['summary'].split())[:120]}); answer with `wave feedback respond --id <id> --response ...`"
    )


def relaunch_targets(state: CoordinationState, dependencies: dict[str, Any] | None) -> list[str]:
    ids = state.agent_ids
    out: dict[str, None] = {}
    for request in state.clarification_linked_requests():
        for target in request["targets"]:
            key = target[6:] if target.startswith("agent:") else target
            if key in ids:
                out[key] = None
    for item in state.blocking_assignments():
        if item["assignedAgentId"]:
            out[item["assignedAgentId"]] = None
    for entry in (dependencies or {}).get("inbound", []):
        if entry["blocking"] and entry["assignedAgentId"]:
            out[entry["assignedAgentId"]] = None
    for record in state.blocking():
        if record["kind"] != "blocker":
            continue
        if record["agentId"] in ids:
            out[record["agentId"]] = None
        for target in record["targets"]:
            key = target[6:] if target.startswith("agent:") else target
            if key in ids:
                out[key] = None
    return list(out)

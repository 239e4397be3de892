"""Projections: pure functions from materialized state (+ the wave and agent proof) to derived files.

Nothing here reads a file or a previous projection: the log and the wave are the only inputs
(after-0.5 §2.4, "never from its own prior outputs"). JSON projections are plain dicts in the
camelCase shape of the models in :mod:`pytest_wave.model.coordination` (tests validate them against
those models); building pydantic objects for thousands of entries on every refresh would cost more
than the whole refresh budget. Every text goes through a template in ``templates/coordination/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

from pytest_wave.coordination.state import CoordinationState, is_open
from pytest_wave.engine.markers import parse_marker_line
from pytest_wave.model.coordination import AgentFacts, Roster
from pytest_wave.model.markers import INFRA_PASSING_STATES, Marker
from pytest_wave.rendering import environment, render

INTEGRATION_LISTS: tuple[tuple[str, str], ...] = (
    ("Open Claims", "openClaims"),
    ("Conflicting Claims", "conflictingClaims"),
    ("Unresolved Blockers", "unresolvedBlockers"),
    ("Changed Interfaces", "changedInterfaces"),
    ("Cross-Component Impacts", "crossComponentImpacts"),
    ("Proof Gaps", "proofGaps"),
    ("Deploy Risks", "deployRisks"),
    ("Inbound Dependencies", "inboundDependencies"),
    ("Outbound Dependencies", "outboundDependencies"),
    ("Helper Assignments", "helperAssignments"),
)
LIST_CAP = 25  # items kept per integration list; counts keep the full sizes
SECTION_CAP = 12  # items per inbox / summary section
BOARD_CAP = 200
SHARED_SUMMARY_MAX = 4000
INBOX_MAX = 8000


_LINE_FIELDS: dict[str, tuple[str, ...]] = {
    "assignment": ("requestId", "assignedAgentId", "assignmentReason", "target", "summary"),
    "dep": ("direction", "id", "status", "required", "requesterLane", "ownerLane", "assignedAgentId", "summary"),
    "task": ("id", "state", "title"),
    "doc": ("kind", "path", "summary"),
}


class Lines:
    """One-line items rendered through the macros of ``_macros.j2``, each cached by its content.

    Record dicts are never mutated (a new version is a new dict), so a record's line is cached by
    identity; derived items are keyed by the fields the macro prints. Rendering each line once
    instead of on every refresh is what keeps an incremental refresh within its budget.
    """

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._items: dict[tuple[Any, ...], str] = {}
        self._module: Any = None

    def _macro(self, name: str) -> Any:
        if self._module is None:
            self._module = environment().get_template("coordination/_macros.j2").module
        return getattr(self._module, name)

    def record(self, record: dict[str, Any], fmt: str = "rec") -> str:
        key = (fmt, record["id"])
        hit = self._records.get(key)
        if hit is not None and hit[0] is record:
            return hit[1]
        text = str(self._macro(fmt)(record))
        self._records[key] = (record, text)
        return text

    def records(self, records: list[dict[str, Any]], fmt: str = "rec") -> list[str]:
        return [self.record(r, fmt) for r in records]

    def item(self, fmt: str, item: dict[str, Any]) -> str:
        key = (fmt, *(item.get(field) for field in _LINE_FIELDS[fmt]))
        text = self._items.get(key)
        if text is None:
            if len(self._items) > 200_000:
                self._items.clear()  # bounded: derived items churn with every refresh
            text = self._items[key] = str(self._macro(fmt)(item))
        return text

    def items(self, fmt: str, items: list[dict[str, Any]]) -> list[str]:
        return [self.item(fmt, i) for i in items]


_DEFAULT_LINES = Lines()


@dataclass
class WaveFacts:
    """Agent proof for the current run: agent id -> facts of its latest attempt."""

    agents: dict[str, AgentFacts] = field(default_factory=dict)
    attempt: int = 0

    def get(self, agent_id: str) -> AgentFacts | None:
        return self.agents.get(agent_id)

    def ok(self, agent_id: str) -> bool:
        facts = self.agents.get(agent_id)
        return facts is not None and facts.ok

    @cached_property
    def parsed(self) -> dict[str, list[Marker]]:
        out: dict[str, list[Marker]] = {}
        for agent_id, facts in self.agents.items():
            found: list[Marker] = []
            for line in facts.markers:
                marker = parse_marker_line(line)
                if isinstance(marker, Marker):
                    found.append(marker)
            out[agent_id] = found
        return out

    def markers(self, agent_id: str, kind: str) -> list[Marker]:
        return [m for m in self.parsed.get(agent_id, []) if m.kind == kind]

    def last(self, agent_id: str, kind: str) -> Marker | None:
        found = self.markers(agent_id, kind)
        return found[-1] if found else None


def _line(record: dict[str, Any]) -> str:
    return f"{record['id']}: {' '.join(record['summary'].split())}"


def runtime_assignments(roster: Roster) -> list[str]:
    return [
        f"{a.agent_id}: executor={a.executor_id or 'unknown'} role={a.role} profile={a.profile or 'none'} "
        "fallback_used=no"
        for a in roster.agents
    ]


# --------------------------------------------------------------------------- docs queue


def build_docs_queue(roster: Roster, facts: WaveFacts, now: str) -> dict[str, Any]:
    doc_id = roster.documentation_id if roster.agent(roster.documentation_id) else None
    items: list[dict[str, Any]] = []
    for agent in roster.agents:
        for marker in facts.markers(agent.agent_id, "wave-doc-delta"):
            state = marker.state
            if state == "owned":
                for path in marker.paths:
                    items.append(
                        {
                            "id": f"{agent.agent_id}:owned:{path}",
                            "kind": "owned-doc",
                            "agentId": agent.agent_id,
                            "ownerAgentId": agent.agent_id,
                            "path": path,
                            "summary": f"{agent.agent_id} changed owned doc {path}",
                            "detail": marker.detail or "",
                            "targets": [f"agent:{agent.agent_id}"],
                        }
                    )
            elif state == "shared-plan":
                # The Node.js tool meant to fall back to the lane's shared plan docs when no paths
                # are given, but never did (artifacts.md §4.1 quirk); we do.
                for path in marker.paths or roster.shared_plan_docs:
                    items.append(
                        {
                            "id": f"{agent.agent_id}:shared:{path}",
                            "kind": "shared-plan",
                            "agentId": agent.agent_id,
                            "ownerAgentId": doc_id,
                            "path": path,
                            "summary": f"shared plan doc {path} needs the change {agent.agent_id} reported",
                            "detail": marker.detail or "",
                            "targets": [f"agent:{doc_id}"] if doc_id else [],
                        }
                    )
    for component, level in roster.promotions.items():
        items.append(
            {
                "id": f"component-matrix:{component}",
                "kind": "component-matrix",
                "agentId": None,
                "ownerAgentId": doc_id,
                "path": component,
                "summary": f"component matrix: promote {component} to {level}",
                "detail": "",
                "targets": [f"agent:{doc_id}"] if doc_id else [],
            }
        )
    unique = list({item["id"]: item for item in items}.values())
    return {
        "lane": roster.lane,
        "wave": roster.wave,  # an int: the Node.js tool wrote the whole wave object for wave 0
        "createdAt": now,
        "updatedAt": now,
        "releaseNotesRequired": any(item["kind"] == "shared-plan" for item in unique),
        "runtimeAssignments": runtime_assignments(roster),
        "items": unique,
    }


# --------------------------------------------------------------------------- integration summary


def build_integration_summary(
    state: CoordinationState,
    roster: Roster,
    facts: WaveFacts,
    docs_queue: dict[str, Any],
    dependencies: dict[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    claim_ids = state.open_by_kind.get("claim")
    blocker_ids = state.blocking_by_kind.get("blocker")
    claims = state.top(claim_ids, LIST_CAP)
    conflicting = state.top(state.conflict_ids, LIST_CAP)
    blockers = state.top(blocker_ids, LIST_CAP)
    interfaces = state.records(islice(reversed(state.interface_ids), LIST_CAP))
    impacts = state.records(islice(reversed(state.impact_ids), LIST_CAP))
    closure = set(roster.closure_ids)
    proof_gaps: list[str] = []
    deploy_risks: list[str] = []
    doc_gaps = [f"{item['id']}: {item['summary']}" for item in docs_queue["items"]]
    for agent in roster.agents:
        agent_facts = facts.get(agent.agent_id)
        if agent.agent_id not in closure and agent_facts is not None and agent_facts.status == "failed":
            proof_gaps.append(f"{agent.agent_id}: {agent_facts.reason or 'failed'}")
        for gap in facts.markers(agent.agent_id, "wave-gap"):
            kind = gap.get("kind")
            text = f"{agent.agent_id}: [{kind}] {gap.detail or ''}".strip()
            if kind in ("architecture", "integration", "durability"):
                proof_gaps.append(text)
            elif kind == "ops":
                deploy_risks.append(text)
            elif kind == "docs":
                doc_gaps.append(text)
        deploy = facts.last(agent.agent_id, "deploy-status")
        if deploy is not None and deploy.state != "healthy":
            deploy_risks.append(f"{agent.agent_id}: deploy {deploy.get('service')} {deploy.state}")
        infra = facts.last(agent.agent_id, "infra-status")
        if infra is not None and infra.state not in INFRA_PASSING_STATES:
            deploy_risks.append(f"{agent.agent_id}: infra {infra.get('target')} {infra.state}")
    deps = dependencies or {}
    inbound = [f"{d['id']}: {d['summary']}" for d in deps.get("inbound", []) if d["blocking"]]
    outbound = [f"{d['id']}: {d['summary']}" for d in deps.get("outbound", []) if d["blocking"]]
    helpers = state.blocking_assignments()
    lists: dict[str, list[str]] = {
        "openClaims": [_line(r) for r in claims],
        "conflictingClaims": [_line(r) for r in conflicting],
        "unresolvedBlockers": [_line(r) for r in blockers],
        "changedInterfaces": [_line(r) for r in interfaces],
        "crossComponentImpacts": [_line(r) for r in impacts],
        "proofGaps": proof_gaps[:LIST_CAP],
        "docGaps": doc_gaps[:LIST_CAP],
        "deployRisks": deploy_risks[:LIST_CAP],
        "inboundDependencies": inbound[:LIST_CAP],
        "outboundDependencies": outbound[:LIST_CAP],
        "helperAssignments": [
            f"{a['requestId']} -> {a['assignedAgentId'] or 'unassigned'}: {a['summary']}" for a in helpers[:LIST_CAP]
        ],
    }
    counts = {
        "openClaims": len(claim_ids),
        "conflictingClaims": len(state.conflict_ids),
        "unresolvedBlockers": len(blocker_ids),
        "changedInterfaces": len(state.interface_ids),
        "crossComponentImpacts": len(state.impact_ids),
        "proofGaps": len(proof_gaps),
        "docGaps": len(doc_gaps),
        "deployRisks": len(deploy_risks),
        "inboundDependencies": len(inbound),
        "outboundDependencies": len(outbound),
        "helperAssignments": len(helpers),
    }
    marker = facts.last(roster.integration_id, "wave-integration") if roster.agent(roster.integration_id) else None
    if marker is not None:
        # The steward's explicit sign-off is authoritative and sticky (after-0.5 §3.3 item 3):
        # re-deriving gaps on every refresh must not override it.
        agent_id = roster.integration_id
        recommendation = marker.state or "needs-more-work"
        detail = marker.detail or f"{agent_id} reported {recommendation}"
    else:
        agent_id = "launcher"
        blocking = counts["unresolvedBlockers"] + counts["conflictingClaims"] + counts["proofGaps"]
        blocking += counts["deployRisks"]
        recommendation = "needs-more-work" if blocking else "ready-for-doc-closure"
        # No counts in the detail: every inbox shows it, and a count in it would change every inbox
        # on every blocker; the counts are in the summary and the shared summary.
        detail = (
            "inferred: open blockers, conflicting claims, proof gaps or deploy risks remain"
            if blocking
            else "inferred: no open blocker, conflict, proof gap or deploy risk"
        )
    return {
        "wave": roster.wave,
        "lane": roster.lane,
        "agentId": agent_id,
        "attempt": facts.attempt,
        **lists,
        "runtimeAssignments": runtime_assignments(roster),
        "counts": counts,
        "recommendation": recommendation,
        "detail": detail,
        "createdAt": now,
        "updatedAt": now,
    }


def render_integration_markdown(summary: dict[str, Any]) -> str:
    return render("coordination/integration.md.j2", s=summary, lists=INTEGRATION_LISTS)


# --------------------------------------------------------------------------- ledger


def _role_task_kind(role: str) -> str:
    return role if role in ("integration", "documentation", "evaluator") else "implementation"


def build_ledger(
    state: CoordinationState,
    roster: Roster,
    facts: WaveFacts,
    integration: dict[str, Any],
    docs_queue: dict[str, Any],
    dependencies: dict[str, Any] | None,
    now: str,
    cache: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ledger (§6.8). ``cache`` keeps per-assignment entries between refreshes: a wave with
    thousands of open helper assignments would otherwise rebuild thousands of dicts each time."""
    tasks: list[dict[str, Any]] = []
    for agent in roster.agents:
        kind = _role_task_kind(agent.role)
        agent_facts = facts.get(agent.agent_id)
        if agent_facts is None or agent_facts.status == "not-run":
            task_state = "planned"
        elif kind == "integration":
            task_state = (
                "done" if agent_facts.ok and integration["recommendation"] == "ready-for-doc-closure" else "blocked"
            )
        else:
            task_state = "done" if agent_facts.ok else "blocked"
        tasks.append(
            {
                "id": f"{kind}:{agent.agent_id}",
                "title": agent.title or agent.agent_id,
                "owner": agent.agent_id,
                "kind": kind,
                "dependsOn": [],
                "state": task_state,
                "proofState": agent_facts.status if agent_facts else "not-run",
                "priority": "high" if kind != "implementation" else "normal",
                "artifactRefs": list(agent.owned_paths),
                "runtime": agent.executor_id or None,
            }
        )
    for component, level in roster.promotions.items():
        owners = [
            a.agent_id for a in roster.agents if component in a.components and a.agent_id not in roster.closure_ids
        ]
        met = bool(owners) and all(
            facts.ok(owner)
            and any(
                m.get("component") == component and m.state == "met" for m in facts.markers(owner, "wave-component")
            )
            for owner in owners
        )
        tasks.append(
            {
                "id": f"component:{component}",
                "title": f"Promote {component} to {level}",
                "owner": None,
                "kind": "component",
                "dependsOn": [f"implementation:{o}" for o in owners],
                "state": "done" if met else ("planned" if not any(facts.get(o) for o in owners) else "blocked"),
                "proofState": "met" if met else "open",
                "priority": "high",
                "artifactRefs": [component],
                "runtime": None,
            }
        )
    helper_tasks, ledger_assignments = _helper_entries(state, cache if cache is not None else {})
    tasks.extend(helper_tasks)
    deps = dependencies or {}
    for entry in deps.get("inbound", []):
        if not entry["blocking"]:
            continue
        unassigned = entry["required"] and not entry["assignedAgentId"]
        tasks.append(
            {
                "id": f"dependency:{entry['id']}",
                "title": entry["summary"],
                "owner": entry["assignedAgentId"],
                "kind": "dependency",
                "dependsOn": [],
                "state": "blocked" if unassigned else {"open": "planned"}.get(entry["status"], entry["status"]),
                "proofState": "open",
                "priority": entry["priority"],
                "artifactRefs": entry["artifactRefs"],
                "runtime": None,
            }
        )
    for entry in deps.get("outbound", []):
        if entry["blocking"] and entry["required"]:
            tasks.append(
                {
                    "id": f"dependency-outbound:{entry['id']}",
                    "title": entry["summary"],
                    "owner": None,
                    "kind": "dependency-outbound",
                    "dependsOn": [],
                    "state": "blocked",
                    "proofState": "open",
                    "priority": entry["priority"],
                    "artifactRefs": entry["artifactRefs"],
                    "runtime": None,
                }
            )
    for item in docs_queue["items"]:
        if item["kind"] in ("shared-plan", "component-matrix"):
            tasks.append(
                {
                    "id": f"doc-helper:{item['id']}",
                    "title": item["summary"],
                    "owner": item["ownerAgentId"]
                    or (roster.documentation_id if roster.agent(roster.documentation_id) else None),
                    "kind": "documentation-helper",
                    "dependsOn": [],
                    "state": "done" if facts.ok(roster.documentation_id) else "planned",
                    "proofState": "open",
                    "priority": "normal",
                    "artifactRefs": [item["path"]],
                    "runtime": None,
                }
            )
    open_clarifications = [r["id"] for r in state.open_clarifications()]
    linked = [r["id"] for r in state.clarification_linked_requests()]
    human = state.open_human()
    snapshot = None
    if dependencies is not None:
        snapshot = {
            key: list(dependencies[key])
            for key in (
                "openInbound",
                "openOutbound",
                "requiredInbound",
                "requiredOutbound",
                "unresolvedInboundAssignments",
            )
        }
    ledger: dict[str, Any] = {
        "wave": roster.wave,
        "lane": roster.lane,
        "attempt": facts.attempt,
        "phase": "running",
        "tasks": tasks,
        "blockers": list(state.by_kind.get("blocker")),
        "openClarifications": open_clarifications,
        "clarificationLinkedRequests": linked,
        "openRequests": list(state.open_by_kind.get("request")),
        "capabilityAssignments": ledger_assignments,
        "dependencySnapshot": snapshot,
        "humanFeedback": [r["id"] for r in human],
        "humanEscalations": [r["id"] for r in human if r["kind"] == "human-escalation"],
        "integrationState": integration["recommendation"],
        "docClosureState": "closed" if facts.ok(roster.documentation_id) else "open",
        "evaluatorState": "pass" if facts.ok(roster.evaluator_id) else "open",
        "updatedAt": now,
    }
    ledger["phase"] = derive_phase(state, roster, facts, ledger, integration)
    return ledger


_LEDGER_ASSIGNMENT_KEYS = (
    "id",
    "requestId",
    "assignedAgentId",
    "target",
    "targetType",
    "capability",
    "blocking",
    "assignmentReason",
    "state",
)


def _helper_entries(state: CoordinationState, cache: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Ledger helper tasks and capability assignments of the blocking requests.

    Cached per request by the identity of its assignment list, which the reducer replaces whenever
    that request changes: a refresh rebuilds the entries of changed requests only.
    """
    tasks: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    for rid in state.blocking_requests:
        items = state.assignments[rid]
        hit = cache.get(rid)
        if hit is None or hit[0] is not items:
            hit = cache[rid] = (items, [_helper_task(i) for i in items], [_ledger_assignment(i) for i in items])
        tasks.extend(hit[1])
        assignments.extend(hit[2])
    return tasks, assignments


def _ledger_assignment(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _LEDGER_ASSIGNMENT_KEYS}


def _helper_task(item: dict[str, Any]) -> dict[str, Any]:
    assignee = item["assignedAgentId"]
    return {
        "id": f"helper:{item['id']}",
        "title": item["summary"],
        "owner": assignee,
        "kind": "helper",
        "dependsOn": [item["requestId"]],
        "state": "blocked" if not assignee else {"open": "planned"}.get(item["state"], item["state"]),
        "proofState": "open",
        "priority": item["priority"],
        "artifactRefs": item["artifactRefs"],
        "runtime": None,
    }


def tasks_by_owner(ledger: dict[str, Any]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    for task in ledger["tasks"]:
        out.setdefault(task["owner"], []).append(task)
    return out


def derive_phase(
    state: CoordinationState,
    roster: Roster,
    facts: WaveFacts,
    ledger: dict[str, Any],
    integration: dict[str, Any],
) -> str:
    """First match wins (coordination.md §6.8), over *blocking* records only (open is not blocking)."""
    latest = state.latest
    if any(latest[rid]["priority"] in ("high", "urgent") for rid in state.blocking_by_kind.get("blocker")):
        return "blocked"
    if ledger["openClarifications"] or ledger["clarificationLinkedRequests"] or ledger["humanFeedback"]:
        return "clarifying"
    snapshot = ledger["dependencySnapshot"] or {}
    if snapshot.get("requiredInbound") or snapshot.get("requiredOutbound"):
        return "blocked"
    helpers = [t for t in ledger["tasks"] if t["kind"] in ("helper", "dependency", "dependency-outbound")]
    if helpers:
        return "blocked" if any(t["state"] == "blocked" for t in helpers) else "running"
    closure = set(roster.closure_ids)
    if not all(facts.ok(a.agent_id) for a in roster.agents if a.agent_id not in closure):
        return "running"
    if roster.agent(roster.integration_id) and (
        integration["recommendation"] != "ready-for-doc-closure" or not facts.ok(roster.integration_id)
    ):
        return "integrating"
    if roster.agent(roster.documentation_id) and not facts.ok(roster.documentation_id):
        return "docs-closure"
    if roster.agent(roster.evaluator_id) and not facts.ok(roster.evaluator_id):
        return "evaluator-closure"
    return "completed"


# --------------------------------------------------------------------------- texts


def _truncate(text: str, limit: int, what: str) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n\n[{what} truncated at {limit} characters]\n"


def render_shared_summary(
    state: CoordinationState,
    roster: Roster,
    integration: dict[str, Any],
    phase: str,
    dependencies: dict[str, Any] | None,
    lines: Lines = _DEFAULT_LINES,
) -> str:
    deps = dependencies or {}
    inbound = [d for d in deps.get("inbound", []) if d["blocking"]]
    outbound = [d for d in deps.get("outbound", []) if d["blocking"]]
    # Groups of different kinds share no id: walk them in place instead of copying thousands of ids
    # into a union on every refresh.
    blocking_ids = [state.blocking_by_kind.get("blocker"), state.blocking_by_kind.get("request")]
    human_ids = [state.open_by_kind.get("human-escalation"), state.open_by_kind.get("human-feedback")]
    clarification_ids = [state.open_by_kind.get("clarification-request"), *human_ids]
    blocking = state.top_of_disjoint(blocking_ids, 8)
    clarifications = state.top_of_disjoint(clarification_ids, 6)
    assignments = state.blocking_assignments()
    decisions = state.records(islice(reversed(state.by_kind.get("decision")), 5))
    counts = {
        "requests": len(state.open_by_kind.get("request")),
        "blockers": len(state.open_by_kind.get("blocker")),
        "blocking": sum(map(len, blocking_ids)),
        "clarifications": sum(map(len, clarification_ids)),
        "human": sum(map(len, human_ids)),
        "open": len(state.open_ids),
        "assignments": len(assignments),
        "inbound": len(inbound),
        "outbound": len(outbound),
    }
    text = render(
        "coordination/shared_summary.md.j2",
        wave=roster.wave,
        lane=roster.lane,
        counts=counts,
        integration=integration,
        phase=phase,
        blockers=lines.records(blocking),
        clarifications=lines.records(clarifications),
        assignments=lines.items("assignment", assignments[:8]),
        dependencies=lines.items("dep", [*inbound, *outbound][:6]),
        decisions=lines.records(decisions),
        integration_lists=[item for item in INTEGRATION_LISTS if item[1] != "helperAssignments"]
        + [("Documentation Gaps", "docGaps")],
        runtime=integration["runtimeAssignments"],
    )
    return _truncate(text, SHARED_SUMMARY_MAX, "Shared summary")


def render_inbox(
    state: CoordinationState,
    roster: Roster,
    agent_id: str,
    ledger: dict[str, Any],
    docs_queue: dict[str, Any],
    integration: dict[str, Any],
    dependencies: dict[str, Any] | None,
    assigned: dict[str, list[dict[str, Any]]] | None = None,
    lines: Lines = _DEFAULT_LINES,
    owned_tasks: dict[str | None, list[dict[str, Any]]] | None = None,
) -> str:
    """One agent's inbox; ``assigned`` (agent -> blocking assignments) saves a scan per agent."""
    sections = state.inbox_ids(agent_id)
    agent = roster.agent(agent_id)
    assignments = state.assignments_for(agent_id) if assigned is None else assigned.get(agent_id, [])
    deps: list[dict[str, Any]] = []
    for entry in (dependencies or {}).get("inbound", []) + (dependencies or {}).get("outbound", []):
        targeted = f"agent:{agent_id}" in entry["targets"] or agent_id in entry["targets"]
        relevant = any(agent_id in state.owners_of_ref(ref) for ref in entry["artifactRefs"])
        if entry["blocking"] and (entry["assignedAgentId"] == agent_id or targeted or relevant):
            deps.append(entry)
    if owned_tasks is not None:
        tasks = owned_tasks.get(agent_id, [])
    else:
        tasks = [t for t in ledger["tasks"] if t["owner"] == agent_id]
    docs = [
        item
        for item in docs_queue["items"]
        if agent_id in (item["ownerAgentId"], item["agentId"]) or f"agent:{agent_id}" in item["targets"]
    ]

    def top(ids: dict[str, None]) -> list[str]:
        return lines.records(state.top(ids, SECTION_CAP))

    text = render(
        "coordination/inbox.md.j2",
        wave=roster.wave,
        agent_id=agent_id,
        title=agent.title if agent else "",
        targeted=top(sections["targeted"]),
        own=top(sections["own"]),
        clarifications=top(sections["clarifications"]),
        relevant=top(sections["relevant"]),
        assignments=lines.items("assignment", assignments[:SECTION_CAP]),
        dependencies=lines.items("dep", deps[:SECTION_CAP]),
        tasks=lines.items("task", tasks[:SECTION_CAP]),
        docs=lines.items("doc", docs[:SECTION_CAP]),
        totals={
            **{key: len(ids) for key, ids in sections.items()},
            "assignments": len(assignments),
            "dependencies": len(deps),
            "tasks": len(tasks),
            "docs": len(docs),
        },
        integration=integration,
    )
    return _truncate(text, INBOX_MAX, "Inbox")


def render_board(
    state: CoordinationState, roster: Roster, dependencies: dict[str, Any] | None, lines: Lines = _DEFAULT_LINES
) -> str:
    open_items = state.top(state.open_ids, BOARD_CAP)
    assignments = state.blocking_assignments()
    deps = [*(dependencies or {}).get("inbound", []), *(dependencies or {}).get("outbound", [])]
    return render(
        "coordination/board.md.j2",
        wave=roster.wave,
        wave_file=roster.wave_file,
        agents=roster.ids,
        record_count=state.record_count,
        latest_count=len(state.latest),
        open_total=len(state.open_ids),
        open_items=lines.records(open_items),
        assignments=lines.items("assignment", assignments[:50]),
        assignments_total=len(assignments),
        dependencies=lines.items("dep", [d for d in deps if d["blocking"]][:50]),
        recent=lines.records(list(reversed(state.recent)), "feed"),
    )


def render_pending_human(records: list[dict[str, Any]]) -> str:
    return render("coordination/pending_human.md.j2", items=[r for r in records if is_open(r)])


def assignments_by_agent(state: CoordinationState) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in state.blocking_assignments():
        if item["assignedAgentId"]:
            out.setdefault(item["assignedAgentId"], []).append(item)
    return out


def render_dependencies_markdown(snapshot: dict[str, Any], lines: Lines = _DEFAULT_LINES) -> str:
    return render(
        "coordination/dependencies.md.j2",
        s=snapshot,
        inbound=lines.items("dep", snapshot["inbound"]),
        outbound=lines.items("dep", snapshot["outbound"]),
    )

"""The clarification triage ladder (coordination.md §6.9).

For each open clarification the orchestrator first tries to answer it from what the wave already
knows (an earlier decision, the docs queue, ownership, agent proof, the integration summary, the
roles), routes it to the agent that can answer as a linked follow-up request, re-routes once if
that did not help, and only then asks a human. :func:`triage` is pure: it returns the records to
append and the feedback requests to create; :class:`~pytest_wave.coordination.store.WaveCoordination`
writes them.

Differences from the Node.js tool, each a bug it shipped: an empty decision text no longer matches
every clarification; launcher records (component seeds) are not "decisions" that resolve questions
by policy; the asker is never routed its own question; status updates carry a fresh ``updatedAt``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_wave.coordination.feedback import request_id
from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.model.coordination import OPEN_STATUSES, FeedbackRequest, Roster, now_iso

MAX_ROUTE_CYCLES = 2
_INTEGRATION_WORDS = ("contradict", "cross-component", "cross component", "interface", "integration")
_SHARED_PLAN_WORDS = ("shared-plan", "shared plan", "docs/plans/", "component-cutover-matrix")
_EVALUATOR_WORDS = ("evaluator", "gate")


@dataclass
class TriageOutcome:
    records: list[Rec] = field(default_factory=list)
    feedback: list[FeedbackRequest] = field(default_factory=list)


@dataclass
class Route:
    kind: str  # "policy" | "agent" | "human"
    target: str | None = None
    guidance: str = ""
    decision_id: str | None = None


def _mentions(text: str, needle: str) -> bool:
    needle = needle.strip().lower()
    return bool(needle) and needle in text


def policy_route(
    clarification: Rec,
    state: CoordinationState,
    roster: Roster,
    facts: WaveFacts,
    docs_queue: dict[str, Any] | None,
    integration: dict[str, Any] | None,
) -> Route:
    """Steps 2(a)-(i): the first source that can answer or own the question."""
    asker = clarification["agentId"]
    refs = {ref.lower() for ref in clarification["artifactRefs"]}
    text = " ".join([clarification["summary"], clarification["detail"], *clarification["artifactRefs"]]).lower()
    present = set(roster.ids)

    for decision in reversed(state.latest_of_kind("decision")):
        if decision["source"] == "launcher" or decision["status"] in ("cancelled", "superseded"):
            continue
        overlap = refs & {ref.lower() for ref in decision["artifactRefs"]}
        said = any(_mentions(text, part) for part in (decision["summary"], decision["detail"]))
        if overlap or said or any(_mentions(text, ref) for ref in decision["artifactRefs"]):
            guidance = decision["detail"] or decision["summary"]
            return Route(
                "policy", guidance=f"Resolved by decision {decision['id']}: {guidance}", decision_id=decision["id"]
            )

    doc = roster.documentation_id if roster.documentation_id in present and roster.documentation_id != asker else None
    for item in (docs_queue or {}).get("items", []):
        if doc and (
            item["path"].lower() in refs
            or item["id"].lower() in refs
            or any(_mentions(text, part) for part in (item["id"], item["path"], item["summary"]))
        ):
            return Route("agent", doc, f"docs queue item {item['id']} is owned by {doc}")
    for agent in roster.agents:
        if agent.agent_id != asker and any(_mentions(text, path) for path in agent.owned_paths):
            return Route("agent", agent.agent_id, f"{agent.agent_id} owns a path the question names")
    for agent in roster.agents:
        if agent.agent_id != asker and any(_mentions(text, c) for c in agent.components):
            return Route("agent", agent.agent_id, f"{agent.agent_id} owns a component the question names")
    for agent in roster.agents:
        if agent.agent_id == asker:
            continue
        evidence = [p for m in facts.markers(agent.agent_id, "wave-doc-delta") for p in m.paths]
        evidence += [m.get("component") or "" for m in facts.markers(agent.agent_id, "wave-component")]
        if any(_mentions(text, item) for item in evidence):
            return Route("agent", agent.agent_id, f"{agent.agent_id} reported proof about what the question names")
    steward = roster.integration_id if roster.integration_id in present and roster.integration_id != asker else None
    if steward and integration is not None:
        items = [
            line
            for key in (
                "openClaims",
                "conflictingClaims",
                "unresolvedBlockers",
                "changedInterfaces",
                "crossComponentImpacts",
                "proofGaps",
                "deployRisks",
                "docGaps",
            )
            for line in integration.get(key, [])
        ]
        if any(_mentions(text, line.split(": ", 1)[-1]) for line in items) or any(
            w in text for w in _INTEGRATION_WORDS
        ):
            return Route("agent", steward, f"integration steward {steward} owns cross-agent questions")
    if doc and any(w in text for w in _SHARED_PLAN_WORDS):
        return Route("agent", doc, f"documentation steward {doc} owns the shared plan")
    evaluator = roster.evaluator_id if roster.evaluator_id in present and roster.evaluator_id != asker else None
    if evaluator and any(w in text for w in _EVALUATOR_WORDS):
        return Route("agent", evaluator, f"evaluator {evaluator} owns gate questions")
    return Route("human", guidance="no owner in the wave can answer this")


def triage(
    state: CoordinationState,
    roster: Roster,
    facts: WaveFacts,
    *,
    attempt: int,
    docs_queue: dict[str, Any] | None = None,
    integration: dict[str, Any] | None = None,
    orchestrator_id: str | None = None,
) -> TriageOutcome:
    outcome = TriageOutcome()
    stamp = now_iso()
    for clarification in state.open_clarifications():
        cid = clarification["id"]
        linked = state.linked_to(cid)

        def update(status: str, note: str, record: Rec = clarification) -> None:
            outcome.records.append({**record, "status": status, "updatedAt": stamp, "resolution": note})

        done = [r for r in linked if r["status"] in ("resolved", "closed")]
        escalations = [
            r for r in state.latest_of_kind("human-escalation") if r["closureCondition"] == f"clarification:{cid}"
        ]
        answered = [r for r in escalations if r["status"] in ("resolved", "closed")]
        if done or answered:
            via = (done or answered)[0]["id"]
            update("resolved", f"Resolved via {via}")
            continue
        open_linked = [r for r in linked if r["status"] in OPEN_STATUSES]
        open_escalation = [r for r in escalations if r["status"] in OPEN_STATUSES]
        if open_escalation:
            continue  # a human has it; nothing to route until they answer
        route = policy_route(clarification, state, roster, facts, docs_queue, integration)
        if route.kind == "policy":
            update("resolved", route.guidance)
            outcome.records.append(
                make_record(
                    id=f"triage-{cid}-policy",
                    kind="resolved-by-policy",
                    wave=roster.wave,
                    lane=roster.lane,
                    agent_id="launcher",
                    targets=[f"agent:{clarification['agentId']}"],
                    status="resolved",
                    depends_on=[cid, route.decision_id or ""],
                    closure_condition=f"clarification:{cid}",
                    summary=f"{cid} resolved by policy",
                    detail=route.guidance,
                )
            )
            continue
        cycles = len(linked)
        last_attempt = max((r["attempt"] or 0 for r in linked), default=0)
        if route.kind == "agent" and not open_linked:
            outcome.records.extend(_route_records(clarification, route, cycles + 1, attempt, roster, stamp))
            continue
        if not open_linked and route.kind == "human":
            _escalate(outcome, clarification, roster, stamp, orchestrator_id)
            continue
        if attempt <= last_attempt:
            continue  # the follow-up has not had an attempt to answer yet
        if cycles < MAX_ROUTE_CYCLES and route.kind == "agent":
            for request in open_linked:
                update("superseded", f"re-routed after attempt {attempt}", request)
            outcome.records.extend(_route_records(clarification, route, cycles + 1, attempt, roster, stamp))
        else:
            _escalate(outcome, clarification, roster, stamp, orchestrator_id)
    return outcome


def _route_records(clarification: Rec, route: Route, cycle: int, attempt: int, roster: Roster, stamp: str) -> list[Rec]:
    cid = clarification["id"]
    asker = clarification["agentId"]
    return [
        {
            **clarification,
            "status": "in_progress",
            "updatedAt": stamp,
            "resolution": f"routed to {route.target}: {route.guidance}",
        },
        make_record(
            id=f"triage-{cid}-route-{cycle}",
            kind="orchestrator-guidance",
            wave=roster.wave,
            lane=roster.lane,
            agent_id="launcher",
            targets=[f"agent:{asker}"],
            status="resolved",
            attempt=attempt,
            summary=f"{cid} routed to {route.target}",
            detail=route.guidance,
        ),
        make_record(
            id=f"route-{cid}-{cycle}",
            kind="request",
            wave=roster.wave,
            lane=roster.lane,
            agent_id="launcher",
            targets=[f"agent:{route.target}"],
            status="open",
            priority=clarification["priority"],
            depends_on=[cid],
            closure_condition=f"clarification:{cid}",
            attempt=attempt,
            artifact_refs=list(clarification["artifactRefs"]),
            summary=f"Answer {asker}'s clarification: {clarification['summary']}",
            detail=clarification["detail"],
        ),
    ]


def _escalate(
    outcome: TriageOutcome, clarification: Rec, roster: Roster, stamp: str, orchestrator_id: str | None
) -> None:
    cid = clarification["id"]
    asker = clarification["agentId"]
    rid = request_id(roster.lane, roster.wave, asker)
    outcome.feedback.append(
        FeedbackRequest(
            id=rid,
            created_at=stamp,
            updated_at=stamp,
            lane=roster.lane,
            wave=roster.wave,
            agent_id=asker,
            orchestrator_id=orchestrator_id,
            # A human must get a question even when the asker wrote none (the record is still theirs).
            question=clarification["summary"].strip()
            or clarification["detail"].strip()
            or f"(no question text: see clarification {cid} from {asker})",
            context=clarification["detail"],
            clarification_id=cid,
        )
    )
    outcome.records.append(
        make_record(
            id=f"escalation-{rid}",
            kind="human-escalation",
            wave=roster.wave,
            lane=roster.lane,
            agent_id="launcher",
            targets=[f"agent:{asker}"],
            status="open",
            priority="high",
            depends_on=[cid],
            closure_condition=f"clarification:{cid}",
            artifact_refs=[rid],
            summary=clarification["summary"],
            detail=clarification["detail"],
        )
    )
    outcome.records.append(
        {**clarification, "status": "in_progress", "updatedAt": stamp, "resolution": f"Escalated to human via {rid}"}
    )

"""The clarification triage ladder and the human feedback queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from coordkit import rec, roster

from pytest_wave.coordination.feedback import FeedbackError
from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.state import reduce
from pytest_wave.coordination.store import CoordinationPaths, WaveCoordination
from pytest_wave.coordination.triage import policy_route, triage

R = roster(
    [
        {"agentId": "A1", "ownedPaths": ["src/api/"], "components": ["api-core"]},
        {"agentId": "A2", "ownedPaths": ["src/db/schema.sql"]},
        {"agentId": "A0", "role": "evaluator"},
        {"agentId": "A8", "role": "integration"},
        {"agentId": "A9", "role": "documentation"},
    ],
    evaluator_id="A0",
    integration_id="A8",
    documentation_id="A9",
)


def _clar(text: str, **extra: object) -> dict[str, object]:
    return rec(id="c1", kind="clarification-request", agent_id="A1", summary=text, **extra)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("does src/db/schema.sql keep the old column?", "A2"),  # (c) another agent's owned path
        ("should the shared plan mention this?", "A9"),  # (g)
        ("which gate threshold applies?", "A0"),  # (h)
        ("what colour should the logo be?", None),  # (i) nobody: a human
    ],
)
def test_ladder_routes_to_the_owner_or_a_human(text: str, route: str | None) -> None:
    found = policy_route(_clar(text), reduce([_clar(text)], R), R, WaveFacts(), None, None)
    assert (found.target if found.kind == "agent" else None) == route
    assert found.kind == ("agent" if route else "human")


def test_asker_is_never_routed_its_own_question() -> None:
    found = policy_route(_clar("is src/api/x.py done?"), reduce([], R), R, WaveFacts(), None, None)
    assert found.target != "A1"


def test_decision_resolves_by_policy_but_launcher_records_and_empty_text_do_not() -> None:
    seedish = rec(id="wave-0-component-api-core", kind="decision", agent_id="launcher", source="launcher",
                  summary="Promote api-core to live", artifact_refs=["api-core"])  # fmt: skip
    empty = rec(id="d0", kind="decision", agent_id="A8", summary="", detail="")
    clarification = _clar("is api-core ready?", artifact_refs=["api-core"])
    state = reduce([seedish, empty, clarification], R)
    assert policy_route(clarification, state, R, WaveFacts(), None, None).kind != "policy"
    decision = rec(id="d1", kind="decision", agent_id="A8", summary="api-core ships as is", artifact_refs=["api-core"])
    state = reduce([seedish, empty, clarification, decision], R)
    outcome = triage(state, R, WaveFacts(), attempt=1)
    assert {r["id"]: r["status"] for r in outcome.records} == {"c1": "resolved", "triage-c1-policy": "resolved"}


def test_route_then_reroute_then_escalate() -> None:
    records = [_clar("does src/db/schema.sql keep the old column?")]
    state = reduce(records, R)
    first = triage(state, R, WaveFacts(), attempt=1)
    route = next(r for r in first.records if r["kind"] == "request")
    assert route["id"] == "route-c1-1" and route["targets"] == ["agent:A2"]
    assert route["closureCondition"] == "clarification:c1"
    state.apply_all((r, None) for r in first.records)
    assert triage(state, R, WaveFacts(), attempt=1).records == []  # same attempt: wait for the owner
    second = triage(state, R, WaveFacts(), attempt=2)
    assert {r["id"]: r["status"] for r in second.records if r["kind"] == "request"} == {
        "route-c1-1": "superseded",
        "route-c1-2": "open",
    }
    assert not second.feedback  # routing is not exhausted yet: no human
    state.apply_all((r, None) for r in second.records)
    third = triage(state, R, WaveFacts(), attempt=3)
    assert len(third.feedback) == 1 and third.feedback[0].clarification_id == "c1"
    assert any(r["kind"] == "human-escalation" and r["status"] == "open" for r in third.records)


def test_resolved_follow_up_resolves_the_clarification() -> None:
    state = reduce([_clar("x"), rec(id="f", kind="request", targets=["agent:A2"], status="resolved",
                                    closure_condition="clarification:c1")], R)  # fmt: skip
    outcome = triage(state, R, WaveFacts(), attempt=1)
    assert [(r["id"], r["status"]) for r in outcome.records] == [("c1", "resolved")]
    assert "Resolved via f" in outcome.records[0]["resolution"]


def _store(tmp_path: Path) -> WaveCoordination:
    return WaveCoordination(R, CoordinationPaths(tmp_path / "state", tmp_path / "orch", 0))


def test_escalation_is_a_feedback_request_and_the_answer_closes_the_chain(tmp_path: Path) -> None:
    wave = _store(tmp_path)
    wave.append([_clar("what colour should the logo be?")])
    wave.refresh(seeds=False, run_triage=True, attempt=1)
    queue = wave.feedback_queue()
    pending = queue.list("main", 0, pending=True)
    assert len(pending) == 1 and pending[0].clarification_id == "c1"
    assert wave.waiting_on_human() is not None
    assert "escalation-" + pending[0].id in wave.paths.pending_human.read_text()
    queue.respond(pending[0].id, "blue", "ops")
    with pytest.raises(FeedbackError, match="already answered"):
        queue.respond(pending[0].id, "green")
    queue.respond(pending[0].id, "green", force=True)
    wave.refresh(seeds=False, run_triage=True, attempt=2)
    assert wave.waiting_on_human() is None
    state = wave.state
    assert state.latest["c1"]["status"] == "resolved"
    assert state.latest[f"escalation-{pending[0].id}"]["status"] == "resolved"
    assert all(c.ok for c in wave.barrier_checks())


def test_plain_ask_has_no_escalation(tmp_path: Path) -> None:
    wave = _store(tmp_path)
    queue = wave.feedback_queue()
    request = queue.ask("main", 0, "A1", "may I drop the v1 endpoint?", "it has no callers")
    wave.refresh(seeds=False)
    assert wave.state.latest[request.id]["kind"] == "human-feedback"
    assert "waiting on human" in (wave.waiting_on_human() or "")
    queue.respond(request.id, "yes")
    wave.refresh(seeds=False)
    assert wave.waiting_on_human() is None
    assert f"escalation-{request.id}" not in wave.state.latest  # the Node.js tool wrote one anyway
    with pytest.raises(FeedbackError):
        queue.ask("main", 0, "A1", "   ")

"""The reducer: folding, open vs blocking, seeds that close, barriers, dependency snapshots."""

from __future__ import annotations

from pathlib import Path

from coordkit import compile_views, rec, roster

from pytest_wave.coordination.dependencies import DependencyStore, build_snapshot
from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.seeds import result_records, seed_updates
from pytest_wave.coordination.state import CoordinationState, is_blocking, reduce, severity_of
from pytest_wave.coordination.store import barrier_checks, relaunch_targets, waiting_on_human
from pytest_wave.model.coordination import AgentFacts, DocsQueue, HelperAssignment, IntegrationSummary, Ledger

R = roster(
    [
        {"agentId": "A1", "title": "Parser", "ownedPaths": ["src/parser/"], "components": ["parser"]},
        {"agentId": "A2", "title": "Docs", "ownedPaths": ["docs/a.md"], "capabilities": ["docs"]},
        {"agentId": "A8", "title": "Integration", "role": "integration", "capabilities": ["integration"]},
    ],
    wave=3,
    integration_id="A8",
    promotions={"parser": "repo-landed"},
)


def _facts(**status: str) -> WaveFacts:
    return WaveFacts(
        agents={a: AgentFacts(agent_id=a, status=s, attempt=1) for a, s in status.items()},  # type: ignore[arg-type]
        attempt=1,
    )


def test_fold_is_by_log_order_and_keeps_the_first_created_at() -> None:
    first = rec(id="x", kind="claim", summary="v1", created_at="2026-01-02T00:00:00.000Z")
    # A later version with an *older* updatedAt still wins: file order is the order (Node.js quirk).
    second = rec(id="x", kind="claim", summary="v2", created_at="2026-01-01T00:00:00.000Z")
    state = reduce([first, second], R)
    assert state.latest["x"]["summary"] == "v2"
    assert state.latest["x"]["createdAt"] == "2026-01-02T00:00:00.000Z"


def test_open_is_not_blocking() -> None:
    soft = rec(id="s", kind="blocker", priority="low")
    advisory = rec(id="a", kind="blocker", severity="advisory", priority="urgent")
    claim = rec(id="c", kind="claim", priority="urgent")
    hard = rec(id="h", kind="blocker")
    resolved = rec(id="r", kind="blocker", status="resolved")
    state = reduce([soft, advisory, claim, hard, resolved], R)
    assert set(state.open_ids) == {"s", "a", "c", "h"}
    assert list(state.blocking_ids) == ["h"]
    assert [severity_of(r) for r in (soft, advisory, claim, hard)] == ["soft", "advisory", "advisory", "hard"]
    assert not is_blocking(resolved)


def test_seeds_close_when_proof_lands_and_are_never_reopened() -> None:
    state = CoordinationState(R)
    seeds = seed_updates(state, R, WaveFacts())
    ids = {s["id"] for s in seeds}
    assert {"wave-3-agent-A1-request", "wave-3-component-parser", "wave-3-integration-summary"} <= ids
    state.apply_all((s, None) for s in seeds)
    assert seed_updates(state, R, WaveFacts()) == []  # nothing changed: nothing appended
    assert not any(is_blocking(s) for s in seeds)  # seeds are advisory: the agent's own gate covers them
    landed = seed_updates(state, R, _facts(A1="passed"))
    assert {s["id"]: s["status"] for s in landed} == {
        "wave-3-agent-A1-request": "resolved",
        "wave-3-component-parser": "resolved",
    }
    state.apply_all((s, None) for s in landed)
    assert seed_updates(state, R, _facts(A1="failed")) == []  # a later failure does not reopen it


def test_results_become_records_and_gap_blockers_close_on_a_passing_attempt() -> None:
    state = CoordinationState(R)
    gap_marker = "[wave-gap] kind=durability detail=no restart test"
    failing = WaveFacts(
        agents={"A1": AgentFacts(agent_id="A1", status="failed", attempt=1, markers=[gap_marker])}, attempt=1
    )
    records = result_records(R, failing, "A1", state)
    assert [r["kind"] for r in records] == ["evidence", "blocker"]
    gap = records[1]
    assert gap["severity"] == "soft" and not is_blocking(gap)
    state.apply_all((r, None) for r in records)
    passing = WaveFacts(agents={"A1": AgentFacts(agent_id="A1", status="passed", attempt=2)}, attempt=2)
    closing = result_records(R, passing, "A1", state)
    assert any(r["id"] == gap["id"] and r["status"] == "resolved" for r in closing)


def test_barriers_block_on_open_and_pass_on_resolved() -> None:
    records = [
        rec(id="b", kind="blocker", targets=["agent:A1"]),
        rec(id="q", kind="request", targets=["capability:docs"], summary="docs please"),
        rec(id="cl", kind="clarification-request", summary="which api?"),
        rec(id="hf", kind="human-feedback", summary="ok to drop v1?", priority="high"),
    ]
    state = reduce(records, R)
    checks = {c.name: c for c in barrier_checks(state, None, "log")}
    assert {n: c.code for n, c in checks.items() if not c.ok} == {
        "coordination: open blocking records": "coordination-blocker-open",
        "coordination: helper assignments": "helper-assignment-open",
        "coordination: clarifications": "clarification-open",
        "coordination: human feedback": "human-feedback-open",
    }
    assert waiting_on_human(state) is not None and "hf" in (waiting_on_human(state) or "")
    assert set(relaunch_targets(state, None)) == {"A1", "A2"}
    closed = reduce([*records, *({**r, "status": "resolved"} for r in records)], R)
    assert all(c.ok for c in barrier_checks(closed, None, "log"))
    assert waiting_on_human(closed) is None


def test_unassignable_request_is_unresolved() -> None:
    state = reduce([rec(id="q", kind="request", targets=["capability:quantum"])], R)
    check = next(c for c in barrier_checks(state, None, "log") if c.name == "coordination: helper assignments")
    assert check.code == "helper-assignment-unresolved"


def test_projections_validate_against_their_models() -> None:
    views = compile_views(R, [rec(id="q", kind="request", targets=["capability:docs"], summary="write it down")])
    for item in views.state.all_assignments():
        HelperAssignment.model_validate(item)
    Ledger.model_validate(views.ledger)
    IntegrationSummary.model_validate(views.integration)
    DocsQueue.model_validate(views.docs_queue)
    assert views.state.all_assignments()[0]["assignedAgentId"] == "A2"


def test_steward_sign_off_is_sticky() -> None:
    facts = WaveFacts(
        agents={"A8": AgentFacts(agent_id="A8", status="passed", attempt=1, markers=[
            "[wave-integration] state=ready-for-doc-closure claims=0 conflicts=0 blockers=0 detail=all good"])},
        attempt=1,
    )  # fmt: skip
    views = compile_views(R, [rec(id="b", kind="blocker", summary="still open")], facts)
    assert views.integration["recommendation"] == "ready-for-doc-closure"
    assert views.integration["agentId"] == "A8"
    assert views.integration["counts"]["unresolvedBlockers"] == 1  # still visible, not overriding


def test_resolved_dependency_tickets_stop_blocking(tmp_path: Path) -> None:
    store = DependencyStore(tmp_path / "dependencies")
    store.post(owner_lane="main", owner_wave=3, requester_lane="web", requester_wave=1, agent_id="W1",
               summary="need the parser api", targets=["agent:A1"], required=True, id="dep-1")  # fmt: skip
    store.poll()
    state = reduce([], R)
    snapshot = build_snapshot(store.tickets_for_lane("main"), "main", 3, state.resolve_target)
    assert snapshot["requiredInbound"] == ["dep-1"]
    assert snapshot["inbound"][0]["assignedAgentId"] == "A1"
    check = next(c for c in barrier_checks(state, snapshot, "log") if "dependencies" in c.name)
    assert check.code == "dependency-open"
    store.resolve("main", "dep-1", "A1")
    snapshot = build_snapshot(store.tickets_for_lane("main"), "main", 3, state.resolve_target)
    assert snapshot["requiredInbound"] == [] and snapshot["openInbound"] == []
    assert all(c.ok for c in barrier_checks(state, snapshot, "log"))

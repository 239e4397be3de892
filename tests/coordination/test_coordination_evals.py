"""The Node.js tool's coordination eval cases as conformance tests of the reducer and inbox compiler.

Each case: load the fixture, materialize, compile the shared summary, inboxes and assignments, and
assert the case's expectations (facts are matched case-insensitively as substrings, as the Node.js
benchmark scores them).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from coordkit import EVALS_DIR, compile_views, load_eval

from pytest_wave.coordination.store import barrier_checks

CASES = sorted(EVALS_DIR.glob("*.json"))


def test_all_seven_cases_are_present() -> None:
    assert len(CASES) == 7


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_eval_case(path: Path) -> None:
    case, roster, records = load_eval(path)
    expect = case["expectations"]
    views = compile_views(roster, records)
    assignments = views.state.all_assignments()
    assignment_lines = "\n".join(f"{a['requestId']} {a['assignedAgentId']} {a['summary']}" for a in assignments)
    integration_agents = [a.agent_id for a in roster.agents if "integration" in a.capabilities]
    visible = "\n".join([views.shared, *(views.inboxes[a] for a in integration_agents), assignment_lines]).lower()

    for fact in expect.get("summaryFacts", []):
        assert fact.lower() in views.shared.lower(), f"shared summary lacks {fact!r}"
    for agent_id, facts in expect.get("targetedInboxes", {}).items():
        for fact in facts:
            assert fact.lower() in views.inboxes[agent_id].lower(), f"{agent_id} inbox lacks {fact!r}"
    for fact in expect.get("globalFacts", []):
        assert fact.lower() in visible, f"integration-visible text lacks {fact!r}"
    by_request = {a["requestId"]: a["assignedAgentId"] for a in assignments}
    for wanted in expect.get("requiredAssignments", []):
        assert by_request.get(wanted["requestId"]) == wanted["assignedAgentId"]
    if "minimumDistinctAssignedAgents" in expect:
        distinct = {a["assignedAgentId"] for a in assignments if a["assignedAgentId"]}
        assert len(distinct) >= expect["minimumDistinctAssignedAgents"]
    if expect.get("requireBlockingGuard"):
        checks = {c.name: c for c in barrier_checks(views.state, None, "log")}
        guard = checks["coordination: clarifications"]
        assert not guard.ok and guard.code == "clarification-open"
        assert views.ledger["phase"] == "clarifying"
        for cid in expect["clarificationRequestIds"]:
            assert cid in guard.found
            assert cid in views.shared
            assert cid in views.ledger["openClarifications"]
        linked = [r["id"] for r in views.state.clarification_linked_requests()]
        assert "repair-missing-evidence" in linked

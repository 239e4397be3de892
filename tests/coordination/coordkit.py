"""Shared builders for the coordination tests: rosters, records, compiled views, and a CLI runner."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wave.commands import coord, dep, feedback
from pytest_wave.coordination.projections import (
    WaveFacts,
    build_docs_queue,
    build_integration_summary,
    build_ledger,
    render_board,
    render_inbox,
    render_shared_summary,
)
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.coordination.state import CoordinationState, reduce
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import Roster, RosterAgent

EVALS_DIR = Path(__file__).resolve().parents[1] / "data" / "conformance" / "evals"
NOW = "2026-03-01T00:00:00.000Z"


def roster(agents: list[dict[str, Any]], *, lane: str = "main", wave: int = 0, **extra: Any) -> Roster:
    return Roster(
        lane=lane,
        wave=wave,
        agents=[RosterAgent.model_validate(a) for a in agents],
        **extra,
    )


def rec(**fields: Any) -> Rec:
    fields.setdefault("lane", "main")
    fields.setdefault("wave", 0)
    fields.setdefault("agent_id", "A1")
    fields.setdefault("source", "agent")
    fields.setdefault("created_at", NOW)
    return make_record(**fields)


@dataclass
class Views:
    state: CoordinationState
    shared: str
    inboxes: dict[str, str]
    ledger: dict[str, Any]
    integration: dict[str, Any]
    docs_queue: dict[str, Any]
    board: str


def compile_views(r: Roster, records: list[Rec], facts: WaveFacts | None = None) -> Views:
    facts = facts or WaveFacts()
    state = reduce(records, r)
    docs = build_docs_queue(r, facts, NOW)
    integration = build_integration_summary(state, r, facts, docs, None, NOW)
    ledger = build_ledger(state, r, facts, integration, docs, None, NOW)
    shared = render_shared_summary(state, r, integration, ledger["phase"], None)
    inboxes = {a: render_inbox(state, r, a, ledger, docs, integration, None) for a in r.ids}
    return Views(state, shared, inboxes, ledger, integration, docs, render_board(state, r, None))


def load_eval(path: Path) -> tuple[dict[str, Any], Roster, list[Rec]]:
    case = json.loads(path.read_text())
    fixture = case["fixture"]
    r = roster(
        [
            {
                "agentId": a["agentId"],
                "title": a.get("title", ""),
                "ownedPaths": a.get("ownedPaths", []),
                "capabilities": a.get("capabilities", []),
            }
            for a in fixture["agents"]
        ],
        lane=fixture["lane"],
        wave=fixture["waveNumber"],
        preferred_agents=fixture.get("capabilityRouting", {}).get("preferredAgents", {}),
    )
    records = [make_record(**record) for record in fixture["records"]]
    return case, r, records


def run(argv: list[str]) -> int:
    """Run a coordination subcommand the way ``wave`` runs it (without depending on cli.py wiring)."""
    parser = argparse.ArgumentParser(prog="wave")
    sub = parser.add_subparsers(dest="command")
    for module in (coord, feedback, dep):
        module.register(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.handler(args))
    except WaveError as exc:
        print(exc.one_line(), file=sys.stderr)
        return 1


def state_snapshot(state: CoordinationState) -> dict[str, Any]:
    """Every index of a materialized state, with the order of ids inside each bucket (the projections'
    newest-first order): two states that must be equal compare equal through this."""
    buckets = {
        name: {key: list(ids) for key, ids in getattr(state, name).data.items()}
        for name in (
            "by_kind",
            "open_by_kind",
            "blocking_by_kind",
            "open_by_target",
            "open_by_author",
            "open_relevant",
            "linked_requests",
        )
    }
    flat = {
        name: list(getattr(state, name))
        for name in ("latest", "open_ids", "blocking_ids", "conflict_ids", "interface_ids", "impact_ids")
    }
    return {
        **buckets,
        **flat,
        "records": dict(state.latest),
        "assignments": state.assignments,
        "blocking_requests": list(state.blocking_requests),
        "load": +state.load,
        "recent": list(state.recent),
        "count": state.record_count,
    }

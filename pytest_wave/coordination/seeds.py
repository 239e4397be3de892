"""Launcher records: the seeds of a wave (coordination.md §6.4) and the records agent results become.

Seeds differ from the Node.js tool's in one way on purpose: they close. An agent's request seed is
resolved once that agent's proof lands (its attempt passed), a component seed once every owner of
the component passed, the shared-plan and integration seeds once their stewards passed. The
anchor's seeds stayed open forever and were re-appended over any hand edit, so "open requests"
never reached zero. A seed is appended only when what it should say differs from its latest
version, and a record someone else closed is never reopened.
"""

from __future__ import annotations

from typing import Any

from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.model.coordination import CLOSED_STATUSES, Roster, now_iso

_COMPARABLE_SKIP = frozenset({"id", "recordVersion", "createdAt", "updatedAt"})


def seed_id(wave: int, what: str) -> str:
    return f"wave-{wave}-{what}"


def desired_seeds(roster: Roster, facts: WaveFacts) -> list[dict[str, Any]]:
    """What every seed record should currently say, as record fields."""
    wave = roster.wave
    closure = set(roster.closure_ids)
    seeds: list[dict[str, Any]] = []

    def status(done: bool) -> str:
        return "resolved" if done else "open"

    for agent in roster.agents:
        aid = agent.agent_id
        seeds.append(
            {
                "id": seed_id(wave, f"agent-{aid}-request"),
                "kind": "request",
                "targets": [] if aid in closure else [f"agent:{aid}"],
                "priority": "high" if aid in (roster.evaluator_id, roster.documentation_id) else "normal",
                "status": status(facts.ok(aid)),
                "summary": f"Wave {wave} assigned to {aid}: {agent.title}",
                # Not the prompt itself (the Node.js tool copied it here): prompts can hold pasted
                # secrets, and the log is shared with every agent and kept forever.
                "detail": f"{aid} ({agent.role}) owns: {', '.join(agent.owned_paths) or 'nothing declared'}",
                "artifactRefs": list(agent.owned_paths),
            }
        )
    for component, level in roster.promotions.items():
        owners = [a.agent_id for a in roster.agents if component in a.components and a.agent_id not in closure]
        seeds.append(
            {
                "id": seed_id(wave, f"component-{component}"),
                "kind": "decision",
                "priority": "high",
                "status": "resolved" if owners and all(facts.ok(o) for o in owners) else "in_progress",
                "summary": f"Promote {component} to {level}",
                "artifactRefs": [component],
            }
        )
    if roster.shared_plan_docs and roster.agent(roster.documentation_id):
        seeds.append(
            {
                "id": seed_id(wave, "shared-plan-docs"),
                "kind": "request",
                "targets": [f"agent:{roster.documentation_id}"],
                "priority": "high",
                "status": status(facts.ok(roster.documentation_id)),
                "summary": "Keep the shared plan docs current with this wave's outcome",
                "artifactRefs": list(roster.shared_plan_docs),
            }
        )
    if roster.agent(roster.integration_id):
        seeds.append(
            {
                "id": seed_id(wave, "integration-summary"),
                "kind": "integration-summary",
                "targets": [f"agent:{roster.integration_id}"],
                "priority": "high",
                "status": status(facts.ok(roster.integration_id)),
                "summary": f"Integration summary for wave {wave}",
            }
        )
    return seeds


def seed_updates(state: CoordinationState, roster: Roster, facts: WaveFacts) -> list[Rec]:
    """Seed records to append now (new seeds, and seeds whose content or closure changed)."""
    out: list[Rec] = []
    stamp = now_iso()
    for fields in desired_seeds(roster, facts):
        record = make_record(
            wave=roster.wave, lane=roster.lane, agent_id="launcher", source="launcher", created_at=stamp, **fields
        )
        latest = state.get(record["id"])
        if latest is None:
            out.append(record)
            continue
        if latest["source"] != "launcher" and latest["status"] in CLOSED_STATUSES:
            continue  # closed by an agent or an operator: never reopened by the launcher
        if latest["status"] in CLOSED_STATUSES and record["status"] not in CLOSED_STATUSES:
            continue  # proof once landed stays landed for this seed within the log
        if any(latest.get(key) != value for key, value in record.items() if key not in _COMPARABLE_SKIP):
            out.append(record)
    return out


def result_records(roster: Roster, facts: WaveFacts, agent_id: str, state: CoordinationState) -> list[Rec]:
    """Records an agent's finished attempt becomes: evidence of the verdict, soft blockers for gaps.

    ``[wave-gap]`` markers become *soft* blockers (visible, not closure-blocking: the proof gate
    already fails the agent); a later passing attempt resolves them.
    """
    agent_facts = facts.get(agent_id)
    if agent_facts is None or agent_facts.status == "not-run":
        return []
    wave = roster.wave
    agent = roster.agent(agent_id)
    stamp = now_iso()
    out: list[Rec] = [
        make_record(
            id=seed_id(wave, f"result-{agent_id}-attempt-{agent_facts.attempt}"),
            kind="evidence",
            wave=wave,
            lane=roster.lane,
            agent_id=agent_id,
            source="launcher",
            status="resolved" if agent_facts.ok else "open",
            priority="normal" if agent_facts.ok else "high",
            attempt=agent_facts.attempt,
            summary=f"{agent_id} attempt {agent_facts.attempt} {agent_facts.status}"
            + (f": {agent_facts.reason}" if agent_facts.reason else ""),
            detail="\n".join(agent_facts.markers),
            artifact_refs=[agent_facts.log_path] if agent_facts.log_path else [],
            created_at=stamp,
        )
    ]
    gap_ids: set[str] = set()
    for marker in facts.markers(agent_id, "wave-gap"):
        kind = marker.get("kind") or "gap"
        rid = seed_id(wave, f"gap-{agent_id}-{kind}")
        gap_ids.add(rid)
        out.append(
            make_record(
                id=rid,
                kind="blocker",
                wave=wave,
                lane=roster.lane,
                agent_id=agent_id,
                source="launcher",
                severity="soft",
                priority="high",
                status="open",
                attempt=agent_facts.attempt,
                summary=f"{agent_id} reported a {kind} gap: {marker.detail or ''}".strip(),
                artifact_refs=list(agent.owned_paths) if agent else [],
                dependsOn=[],
                created_at=stamp,
            )
        )
    if agent_facts.ok:
        prefix = seed_id(wave, f"gap-{agent_id}-")
        for record in state.open_of_kind("blocker"):
            if record["id"].startswith(prefix) and record["id"] not in gap_ids:
                out.append({**record, "status": "resolved", "updatedAt": stamp})
    return out

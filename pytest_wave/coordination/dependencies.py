"""Cross-lane dependency tickets (coordination.md §6.7) and their snapshots.

Tickets are coordination records in ``<orchestratorStateDir>/dependencies/<ownerLane>.jsonl``, one
file per owner lane, appended through the same locked appender as the wave log. Snapshots fold
tickets by id before classifying them: the Node.js tool read raw lines, so the original open line
of a resolved ticket kept blocking forever (§6.7 bug, "zombie blockers").
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_wave.coordination.log import CoordinationLog, LogReader
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.model.coordination import OPEN_STATUSES, LogIssue, now_iso

Resolver = Callable[[str], tuple[str | None, str, str, str, str | None]]
_LANE = re.compile(r"^[A-Za-z0-9._-]+$")


def is_required(ticket: Rec) -> bool:
    return ticket.get("required") is True or "required=true" in ticket["closureCondition"]


class DependencyStore:
    """All tickets under one ``dependencies/`` directory, read incrementally."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._readers: dict[Path, LogReader] = {}
        self.latest: dict[str, Rec] = {}
        self.issues: list[LogIssue] = []

    def log_for(self, owner_lane: str) -> CoordinationLog:
        if not _LANE.match(owner_lane):
            raise ValueError(f"owner lane {owner_lane!r} is not a valid lane name")
        return CoordinationLog(self.directory / f"{owner_lane}.jsonl")

    def poll(self) -> bool:
        """Read what was appended since the last poll; True when any ticket changed."""
        changed = False
        if not self.directory.is_dir():
            return False
        for path in sorted(self.directory.glob("*.jsonl")):
            reader = self._readers.get(path)
            if reader is None:
                reader = self._readers[path] = LogReader(path)
            batch = reader.poll()
            self.issues.extend(batch.issues)
            for entry in batch.entries:
                record = entry.record
                prev = self.latest.pop(record["id"], None)
                if prev is not None and entry.set_keys is not None:
                    merged = dict(prev)
                    for key in entry.set_keys:
                        merged[key] = record[key]
                    record = merged
                if prev is not None:
                    record = {**record, "createdAt": prev["createdAt"]}
                self.latest[record["id"]] = record
                changed = True
        return changed

    def tickets_for_lane(self, lane: str) -> list[Rec]:
        return [t for t in self.latest.values() if lane in (t["ownerLane"] or t["lane"], t["requesterLane"], t["lane"])]

    def post(self, **fields: Any) -> Rec:
        owner_lane = fields.get("owner_lane") or fields.get("lane") or ""
        if fields.get("required") and not fields.get("closure_condition"):
            fields["closure_condition"] = "required=true"
        fields.setdefault("id", f"dep-{_base36(int(time.time() * 1000))}")
        fields.setdefault("kind", "request")
        fields.setdefault("priority", "high")
        fields.setdefault("source", "launcher")
        fields["lane"] = owner_lane
        fields["owner_lane"] = owner_lane
        fields["wave"] = fields.get("owner_wave") if fields.get("owner_wave") is not None else fields.get("wave", 0)
        record = make_record(**fields)
        self.log_for(owner_lane).append([record])
        return record

    def resolve(self, lane: str, ticket_id: str, agent_id: str, status: str = "resolved", detail: str = "") -> Rec:
        self.poll()
        current = self.latest.get(ticket_id)
        if current is None or lane not in (current["ownerLane"] or current["lane"], current["lane"]):
            raise KeyError(f"Dependency {ticket_id} not found for lane {lane}")
        stamp = now_iso()
        update = {**current, "status": status, "agentId": agent_id, "updatedAt": stamp}
        if detail:
            update["detail"] = detail
        record = make_record(**update)
        self.log_for(current["ownerLane"] or current["lane"]).append([record])
        self.poll()
        return record


def build_snapshot(tickets: list[Rec], lane: str, wave: int, resolve: Resolver | None) -> dict[str, Any]:
    inbound: list[dict[str, Any]] = []
    outbound: list[dict[str, Any]] = []
    for ticket in tickets:
        owner = ticket["ownerLane"] or ticket["lane"]
        if owner == lane and ticket["ownerWave"] in (None, wave):
            inbound.append(_entry(ticket, "inbound", lane, resolve))
        if ticket["requesterLane"] == lane and ticket["requesterWave"] in (None, wave):
            outbound.append(_entry(ticket, "outbound", lane, None))
    open_in = [e for e in inbound if e["blocking"]]
    open_out = [e for e in outbound if e["blocking"]]
    return {
        "lane": lane,
        "wave": wave,
        "generatedAt": now_iso(),
        "inbound": inbound,
        "outbound": outbound,
        "openInbound": [e["id"] for e in open_in],
        "openOutbound": [e["id"] for e in open_out],
        "requiredInbound": [e["id"] for e in open_in if e["required"]],
        "requiredOutbound": [e["id"] for e in open_out if e["required"]],
        "unresolvedInboundAssignments": [e["id"] for e in open_in if e["required"] and not e["assignedAgentId"]],
    }


def _entry(ticket: Rec, direction: str, lane: str, resolve: Resolver | None) -> dict[str, Any]:
    assignee: str | None = None
    reason = "untargeted" if not ticket["targets"] else "unresolved-target"
    detail = ""
    if direction == "inbound" and resolve is not None:
        for target in ticket["targets"]:
            found, why, text, _, _ = resolve(target)
            if found:
                assignee, reason, detail = found, why, text
                break
    return {
        "id": ticket["id"],
        "direction": direction,
        "lane": lane,
        "requesterLane": ticket["requesterLane"],
        "ownerLane": ticket["ownerLane"] or ticket["lane"],
        "requesterWave": ticket["requesterWave"],
        "ownerWave": ticket["ownerWave"],
        "required": is_required(ticket),
        "status": ticket["status"],
        "summary": ticket["summary"],
        "detail": ticket["detail"],
        "priority": ticket["priority"],
        "targets": list(ticket["targets"]),
        "artifactRefs": list(ticket["artifactRefs"]),
        "assignedAgentId": assignee,
        "assignmentReason": reason if direction == "inbound" else "",
        "assignmentDetail": detail,
        "blocking": ticket["status"] in OPEN_STATUSES,
        "createdAt": ticket["createdAt"],
        "updatedAt": ticket["updatedAt"],
    }


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"

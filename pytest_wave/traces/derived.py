"""Pure functions from recorded artifacts to the bundle's derived files.

The writer runs them on the bundle it just copied, and replay runs them again on the bundle alone,
so a derived file that differs on replay means a recorded input changed (or the computation did).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_wave.coordination.log import LogReader
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.engine.markers import scan_log
from pytest_wave.model.coordination import LogIssue, MaterializedState, Roster
from pytest_wave.model.result import AgentResult, Check, Usage, sum_usage

RAW_LOG = "coordination.raw.jsonl"
CLOSURE_ROLES = ("integration", "documentation", "evaluator")

History = Mapping[int, Mapping[str, AgentResult]]


def latest_results(history: History, upto: int | None = None) -> dict[str, AgentResult]:
    """Each agent's latest result in attempts up to ``upto`` (all attempts when None)."""
    found: dict[str, AgentResult] = {}
    for attempt in sorted(history):
        if upto is not None and attempt > upto:
            break
        found.update(history[attempt])
    return found


def reduce_log(path: Path, roster: Roster) -> tuple[CoordinationState, list[LogIssue]]:
    """The coordination log, folded into state exactly like a live refresh does (read only)."""
    state = CoordinationState(roster)
    issues: list[LogIssue] = []
    if path.is_file():
        batch = LogReader(path, known_agents=None).poll(final=True)
        state.apply_all((entry.record, entry.set_keys) for entry in batch.entries)
        state.take_changes()
        issues = [issue.model_copy(update={"path": RAW_LOG}) for issue in batch.all_issues()]
    return state, issues


def _group(records: Iterable[dict[str, Any]], keys: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in records:
        values = record[keys] if isinstance(record[keys], list) else [record[keys]]
        for key in values:
            out.setdefault(key, []).append(record["id"])
    return out


def materialized(state: CoordinationState, roster: Roster, issues: list[LogIssue]) -> MaterializedState:
    latest = list(state.latest.values())
    return MaterializedState(
        lane=roster.lane,
        wave=roster.wave,
        record_count=state.record_count,
        latest_records=latest,
        open_records=list(state.open_ids),
        blocking_records=list(state.blocking_ids),
        records_by_agent_id=_group(latest, "agentId"),
        records_by_target=_group(latest, "targets"),
        by_kind={kind: list(ids) for kind, ids in state.by_kind.data.items()},
        issues=issues,
    )


def _ratio(part: int, whole: int, default: float) -> float:
    return round(part / whole, 2) if whole else default


def quality_metrics(
    *,
    attempt: int,
    state: CoordinationState,
    roster: Roster,
    integration: Mapping[str, Any],
    docs_queue: Mapping[str, Any],
    dependencies: Mapping[str, Any] | None,
    history: History,
) -> dict[str, Any]:
    """``quality.json`` (artifacts.md §12.3), from the coordination state and the attempts' results.

    Mean-time metrics of the Node.js tool are left out: the log's timestamps of one attempt do not
    support them honestly.
    """
    latest = latest_results(history)
    closure_ids = set(roster.closure_ids)
    contract_agents = [agent.agent_id for agent in roster.agents if agent.agent_id not in closure_ids]
    passing = sum(1 for agent_id in contract_agents if agent_id in latest and latest[agent_id].ok)
    by_role: Counter[str] = Counter()
    by_executor: Counter[str] = Counter()
    launches = 0
    fallbacks = 0
    seen: dict[str, AgentResult] = {}
    evaluator_statuses: list[str] = []
    for number in sorted(history):
        for agent_id, result in history[number].items():
            launches += 1
            previous = seen.get(agent_id)
            if previous is not None:
                by_role[result.role] += 1
                by_executor[result.executor_id] += 1
                if previous.executor_id != result.executor_id:
                    fallbacks += 1  # moved to a fallback runtime between attempts
            fallbacks += sum(1 for switch in result.executor_switches if switch.kind == "fallback")
            seen[agent_id] = result
            if agent_id == roster.evaluator_id:
                evaluator_statuses.append(result.status)
    deps = dependencies or {}
    open_requests = state.open_of_kind("request")
    resolved_by_policy = [r for r in state.latest_of_kind("resolved-by-policy")]
    guidance = [r for r in state.latest_of_kind("orchestrator-guidance") if r["status"] in ("resolved", "closed")]
    return {
        "attempt": attempt,
        "unresolvedRequestCount": len(open_requests),
        "unresolvedClarificationCount": len(state.open_clarifications()) + len(state.clarification_linked_requests()),
        "humanEscalationCount": len(state.latest_of_kind("human-escalation")),
        "orchestratorResolvedClarificationCount": len(resolved_by_policy) + len(guidance),
        "contradictionCount": len(integration.get("conflictingClaims") or []),
        "documentationDriftCount": len(docs_queue.get("items") or []),
        "proofCompletenessRatio": _ratio(passing, len(contract_agents), 1.0),
        "relaunchCountByRole": dict(sorted(by_role.items())),
        "relaunchCountByExecutor": dict(sorted(by_executor.items())),
        "runtimeFallbackCount": fallbacks,
        "runtimeFallbackRate": _ratio(fallbacks, launches, 0.0),
        "openCapabilityRequestCount": sum(
            1 for r in open_requests if any(str(t).startswith("capability:") for t in r["targets"])
        ),
        "openRequiredDependencyCount": len(deps.get("requiredInbound") or []) + len(deps.get("requiredOutbound") or []),
        "helperTaskAssignmentCount": len(state.all_assignments()),
        "evaluatorReversal": len(set(evaluator_statuses)) > 1,
        "finalRecommendation": integration.get("recommendation"),
    }


def timeline(history: History) -> dict[str, Any]:
    """Every agent attempt's start and end, and how many ran at once at most."""
    rows: list[dict[str, Any]] = []
    for number in sorted(history):
        for agent_id, result in history[number].items():
            rows.append(
                {
                    "agentId": agent_id,
                    "attempt": number,
                    "role": result.role,
                    "executor": result.executor_id,
                    "status": result.status,
                    "startedAt": result.started_at,
                    "finishedAt": result.finished_at,
                    "durationSeconds": round(result.duration, 3),
                }
            )
    rows.sort(key=lambda row: (row["startedAt"], row["agentId"]))
    events = sorted([(row["startedAt"], 1) for row in rows] + [(row["finishedAt"], -1) for row in rows])
    running = peak = 0
    for _, step in events:  # ends sort before starts at the same instant: touching spans do not overlap
        running += step
        peak = max(peak, running)
    starts = [row["startedAt"] for row in rows if row["startedAt"]]
    ends = [row["finishedAt"] for row in rows if row["finishedAt"]]
    return {
        "agents": rows,
        "maxConcurrency": peak,
        "startedAt": min(starts) if starts else None,
        "finishedAt": max(ends) if ends else None,
    }


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    return usage.model_dump() if usage is not None else None


def spend(history: History, executors: Mapping[str, Mapping[str, Any]], options: Mapping[str, Any]) -> dict[str, Any]:
    """Budgets, usage, retries and executor switches per agent (``budgets.json``)."""
    agents: dict[str, dict[str, Any]] = {}
    for number in sorted(history):
        for agent_id, result in history[number].items():
            entry = agents.setdefault(
                agent_id,
                {"executor": dict(executors.get(agent_id) or {}), "attempts": [], "usage": None, "switches": []},
            )
            entry["attempts"].append({"attempt": number, "executor": result.executor_id, "status": result.status})
            entry["usage"] = _usage(sum_usage([Usage(**entry["usage"]) if entry["usage"] else None, result.usage]))
            entry["switches"] += [switch.model_dump(exclude={"log_path"}) for switch in result.executor_switches]
    for entry in agents.values():
        runtimes = [attempt["executor"] for attempt in entry["attempts"]]
        entry["retries"] = len(runtimes) - 1
        entry["executorHistory"] = [r for i, r in enumerate(runtimes) if i == 0 or runtimes[i - 1] != r]
    total = sum_usage(result.usage for attempt in history.values() for result in attempt.values())
    return {"options": dict(options), "agents": agents, "total": _usage(total)}


def _marker(result: AgentResult | None, prefix: str) -> str | None:
    if result is None:
        return None
    return next((m for m in reversed(result.markers) if m.startswith(prefix)), None)


def closure_summary(
    latest: Mapping[str, AgentResult],
    *,
    integration_id: str,
    documentation_id: str,
    evaluator_id: str,
    integration: Mapping[str, Any],
) -> dict[str, Any]:
    """Integration summary, documentation closure and evaluator verdict as the run recorded them."""

    def stage(agent_id: str) -> dict[str, Any]:
        result = latest.get(agent_id)
        return {
            "agentId": agent_id,
            "status": result.status if result else "not-run",
            "attempt": result and result.attempt,
        }

    verdict = (
        next((c for c in latest[evaluator_id].checks if c.name == "evaluator verdict"), None)
        if (evaluator_id in latest)
        else None
    )
    return {
        "integration": {
            **stage(integration_id),
            "marker": _marker(latest.get(integration_id), "[wave-integration]"),
            "recommendation": integration.get("recommendation"),
            "detail": integration.get("detail"),
            "counts": integration.get("counts"),
        },
        "documentation": {
            **stage(documentation_id),
            "marker": _marker(latest.get(documentation_id), "[wave-doc-closure]"),
        },
        "evaluator": {
            **stage(evaluator_id),
            "gate": _marker(latest.get(evaluator_id), "[wave-gate]"),
            "verdict": verdict.found if verdict else None,
        },
    }


def check_key(check: Check) -> dict[str, Any]:
    """A check without its evidence path (paths differ between the run and its bundle)."""
    return check.model_dump(exclude={"evidence"})


def markers(folder: Path, logs: Mapping[str, str | None]) -> dict[str, Any]:
    """Per agent, the markers its copied log yields (accepted, canonical) and the rejected ones, with why."""
    out: dict[str, Any] = {}
    for agent_id, rel in logs.items():
        if rel is None or not (folder / rel).is_file():
            continue
        scan = scan_log(folder / rel)
        out[agent_id] = {
            "log": rel,
            "accepted": [marker.canonical for marker in scan.accepted],
            "rejected": [
                {"kind": r.kind, "reason": r.reason, "message": r.message, "line": r.line} for r in scan.rejected
            ],
        }
    return out

"""Models of the coordination blackboard: the log record and every file derived from the log.

On disk every model uses the Node.js tool's camelCase keys (``agentId``, ``artifactRefs``...) so
existing logs, dashboards and scripts keep working; in Python the fields are snake_case
(``populate_by_name``). The record keeps unknown keys (``extra="allow"``): the log is the authority
and a reader must never drop a field another tool wrote.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RecordKind = Literal[
    "request",
    "ack",
    "claim",
    "evidence",
    "decision",
    "blocker",
    "handoff",
    "clarification-request",
    "orchestrator-guidance",
    "resolved-by-policy",
    "human-escalation",
    "human-feedback",
    "integration-summary",
]
RecordStatus = Literal["open", "acknowledged", "in_progress", "resolved", "closed", "superseded", "cancelled"]
Priority = Literal["low", "normal", "high", "urgent"]
Confidence = Literal["low", "medium", "high"]
# after-0.5 §2.13: "open" and "blocking" are different questions. Only the blocking severities
# keep a wave from closing; the others stay visible in inboxes and summaries.
Severity = Literal["hard", "soft", "stale", "advisory", "proof-critical", "closure-critical"]

RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
RECORD_STATUSES: tuple[str, ...] = get_args(RecordStatus)
PRIORITIES: tuple[str, ...] = get_args(Priority)
CONFIDENCES: tuple[str, ...] = get_args(Confidence)
SEVERITIES: tuple[str, ...] = get_args(Severity)
OPEN_STATUSES: frozenset[str] = frozenset({"open", "acknowledged", "in_progress"})
CLOSED_STATUSES: frozenset[str] = frozenset({"resolved", "closed", "superseded", "cancelled"})
BLOCKING_KINDS: frozenset[str] = frozenset(
    {"request", "blocker", "clarification-request", "human-feedback", "human-escalation"}
)
BLOCKING_SEVERITIES: frozenset[str] = frozenset({"hard", "proof-critical", "closure-critical"})
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# Agent ids that are not wave agents but legitimately author records.
SYSTEM_AUTHORS: frozenset[str] = frozenset({"launcher", "human", "operator", "orchestrator"})


def now_iso() -> str:
    """UTC timestamp with milliseconds, the shape the Node.js tool writes (``...T12:00:00.000Z``)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _clean_list(value: Any) -> Any:
    """Trim, drop empties, dedupe keeping order (the anchor's array normalization)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        text = item.strip() if isinstance(item, str) else item
        if text == "" or text in out:
            continue
        out.append(text)
    return out


class CoordinationRecord(BaseModel):
    """One line of ``coordination/wave-<n>.jsonl`` (spec coordination.md §6.1, plus ``severity``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    record_version: int = Field(1, alias="recordVersion")
    id: str = ""
    kind: RecordKind
    wave: int = Field(ge=0)
    lane: str = Field(min_length=1)
    agent_id: str = Field(alias="agentId", min_length=1)
    targets: list[str] = Field(default_factory=list)
    status: RecordStatus = "open"
    priority: Priority = "normal"
    artifact_refs: list[str] = Field(default_factory=list, alias="artifactRefs")
    depends_on: list[str] = Field(default_factory=list, alias="dependsOn")
    closure_condition: str = Field("", alias="closureCondition")
    created_at: str = Field("", alias="createdAt")
    updated_at: str = Field("", alias="updatedAt")
    confidence: Confidence = "medium"
    summary: str = ""
    detail: str = ""
    attempt: int | None = None
    source: str = "launcher"
    executor_id: str = Field("", alias="executorId")
    requester_lane: str = Field("", alias="requesterLane")
    owner_lane: str = Field("", alias="ownerLane")
    requester_wave: int | None = Field(None, alias="requesterWave")
    owner_wave: int | None = Field(None, alias="ownerWave")
    required: bool = False
    severity: Severity | None = None

    @field_validator("kind", "status", "priority", "confidence", "severity", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("targets", "artifact_refs", "depends_on", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _clean_list(value)

    @field_validator("lane", "agent_id", "id", "closure_condition", "source", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("closure_condition", "summary", "detail", "source", "executor_id", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @model_validator(mode="after")
    def _defaults(self) -> CoordinationRecord:
        # Assigning through __dict__ keeps these out of model_fields_set: a partial update that
        # omitted them must not overwrite the earlier version's values when folded.
        if not self.id:
            self.__dict__["id"] = f"coord-{self.kind}-{secrets.token_hex(4)}"
        if not self.created_at:
            self.__dict__["created_at"] = now_iso()
        if not self.updated_at:
            self.__dict__["updated_at"] = self.created_at
        return self

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_json_dict(self) -> dict[str, Any]:
        """The canonical on-disk dict: every field, camelCase, unknown keys kept."""
        return self.model_dump(by_alias=True, mode="json")


class RosterAgent(BaseModel):
    """What coordination needs to know about one agent of the wave."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    agent_id: str = Field(alias="agentId")
    title: str = ""
    owned_paths: list[str] = Field(default_factory=list, alias="ownedPaths")
    components: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    role: str = "implementation"
    executor_id: str = Field("", alias="executorId")
    profile: str | None = None


class Roster(BaseModel):
    """The wave as coordination sees it: agents, role ids, routing preferences, promotions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    lane: str
    wave: int
    wave_file: str = Field("", alias="waveFile")
    agents: list[RosterAgent] = Field(default_factory=list)
    evaluator_id: str = Field("A0", alias="evaluatorAgentId")
    integration_id: str = Field("A8", alias="integrationAgentId")
    documentation_id: str = Field("A9", alias="documentationAgentId")
    preferred_agents: dict[str, list[str]] = Field(default_factory=dict, alias="preferredAgents")
    promotions: dict[str, str] = Field(default_factory=dict)
    shared_plan_docs: list[str] = Field(default_factory=list, alias="sharedPlanDocs")

    def agent(self, agent_id: str) -> RosterAgent | None:
        for agent in self.agents:
            if agent.agent_id == agent_id:
                return agent
        return None

    @property
    def ids(self) -> list[str]:
        return [agent.agent_id for agent in self.agents]

    @property
    def closure_ids(self) -> tuple[str, str, str]:
        return (self.integration_id, self.documentation_id, self.evaluator_id)


# --------------------------------------------------------------------------- diagnostics

IssueKind = Literal["torn", "corrupt", "invalid", "unknown-kind", "unknown-agent"]


class LogIssue(BaseModel):
    """A line of a log that could not be used whole (or, for ``unknown-agent``, a warning)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    line: int
    kind: IssueKind
    message: str
    severity: Literal["error", "warning"] = "error"
    kept: bool = False  # True when the record was still used (warnings)

    def one_line(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


# --------------------------------------------------------------------------- derived files

AssignmentState = Literal["open", "acknowledged", "in_progress", "resolved"]
TargetType = Literal["agent", "capability", "unknown"]


class _Derived(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HelperAssignment(_Derived):
    """One target of a routable request (coordination.md §6.6)."""

    id: str
    request_id: str = Field(alias="requestId")
    record_id: str = Field(alias="recordId")
    source_kind: str = Field(alias="sourceKind")
    source_agent_id: str = Field(alias="sourceAgentId")
    summary: str
    detail: str
    priority: str
    request_status: str = Field(alias="requestStatus")
    state: AssignmentState
    target: str
    target_type: TargetType = Field(alias="targetType")
    capability: str | None = None
    assigned_agent_id: str | None = Field(None, alias="assignedAgentId")
    assignment_reason: str = Field(alias="assignmentReason")
    assignment_detail: str = Field(alias="assignmentDetail")
    blocking: bool
    artifact_refs: list[str] = Field(default_factory=list, alias="artifactRefs")
    depends_on: list[str] = Field(default_factory=list, alias="dependsOn")
    closure_condition: str = Field("", alias="closureCondition")
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


class DependencyEntry(_Derived):
    id: str
    direction: Literal["inbound", "outbound"]
    lane: str
    requester_lane: str = Field(alias="requesterLane")
    owner_lane: str = Field(alias="ownerLane")
    requester_wave: int | None = Field(alias="requesterWave")
    owner_wave: int | None = Field(alias="ownerWave")
    required: bool
    status: str
    summary: str
    detail: str
    priority: str
    targets: list[str]
    artifact_refs: list[str] = Field(alias="artifactRefs")
    assigned_agent_id: str | None = Field(None, alias="assignedAgentId")
    assignment_reason: str = Field("", alias="assignmentReason")
    assignment_detail: str = Field("", alias="assignmentDetail")
    blocking: bool
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


class DependencySnapshot(_Derived):
    lane: str
    wave: int
    generated_at: str = Field(alias="generatedAt")
    inbound: list[DependencyEntry] = Field(default_factory=list)
    outbound: list[DependencyEntry] = Field(default_factory=list)
    open_inbound: list[str] = Field(default_factory=list, alias="openInbound")
    open_outbound: list[str] = Field(default_factory=list, alias="openOutbound")
    required_inbound: list[str] = Field(default_factory=list, alias="requiredInbound")
    required_outbound: list[str] = Field(default_factory=list, alias="requiredOutbound")
    unresolved_inbound_assignments: list[str] = Field(default_factory=list, alias="unresolvedInboundAssignments")


class DocsQueueItem(_Derived):
    id: str
    kind: Literal["owned-doc", "shared-plan", "component-matrix"]
    agent_id: str | None = Field(alias="agentId")
    owner_agent_id: str | None = Field(alias="ownerAgentId")
    path: str
    summary: str
    detail: str = ""
    targets: list[str] = Field(default_factory=list)


class DocsQueue(_Derived):
    lane: str
    wave: int
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")
    release_notes_required: bool = Field(alias="releaseNotesRequired")
    runtime_assignments: list[str] = Field(default_factory=list, alias="runtimeAssignments")
    items: list[DocsQueueItem] = Field(default_factory=list)


class LedgerTask(_Derived):
    id: str
    title: str
    owner: str | None
    kind: str
    depends_on: list[str] = Field(default_factory=list, alias="dependsOn")
    state: Literal["planned", "done", "blocked", "in_progress", "acknowledged"]
    proof_state: str = Field("", alias="proofState")
    priority: str = "normal"
    artifact_refs: list[str] = Field(default_factory=list, alias="artifactRefs")
    runtime: str | None = None


LedgerPhase = Literal[
    "blocked",
    "clarifying",
    "running",
    "integrating",
    "docs-closure",
    "evaluator-closure",
    "completed",
]


class Ledger(_Derived):
    wave: int
    lane: str
    attempt: int
    phase: LedgerPhase
    tasks: list[LedgerTask] = Field(default_factory=list)
    blockers: list[str] = Field(default_factory=list)
    open_clarifications: list[str] = Field(default_factory=list, alias="openClarifications")
    clarification_linked_requests: list[str] = Field(default_factory=list, alias="clarificationLinkedRequests")
    open_requests: list[str] = Field(default_factory=list, alias="openRequests")
    capability_assignments: list[dict[str, Any]] = Field(default_factory=list, alias="capabilityAssignments")
    dependency_snapshot: dict[str, list[str]] | None = Field(None, alias="dependencySnapshot")
    human_feedback: list[str] = Field(default_factory=list, alias="humanFeedback")
    human_escalations: list[str] = Field(default_factory=list, alias="humanEscalations")
    integration_state: str = Field("planned", alias="integrationState")
    doc_closure_state: Literal["closed", "open"] = Field("open", alias="docClosureState")
    evaluator_state: Literal["pass", "open"] = Field("open", alias="evaluatorState")
    updated_at: str = Field(alias="updatedAt")


class IntegrationSummary(_Derived):
    """``integration/wave-<n>.json`` (lifecycle.md §7.5). Lists hold ``<id>: <summary>`` lines."""

    wave: int
    lane: str
    agent_id: str = Field(alias="agentId")
    attempt: int
    open_claims: list[str] = Field(default_factory=list, alias="openClaims")
    conflicting_claims: list[str] = Field(default_factory=list, alias="conflictingClaims")
    unresolved_blockers: list[str] = Field(default_factory=list, alias="unresolvedBlockers")
    changed_interfaces: list[str] = Field(default_factory=list, alias="changedInterfaces")
    cross_component_impacts: list[str] = Field(default_factory=list, alias="crossComponentImpacts")
    proof_gaps: list[str] = Field(default_factory=list, alias="proofGaps")
    doc_gaps: list[str] = Field(default_factory=list, alias="docGaps")
    deploy_risks: list[str] = Field(default_factory=list, alias="deployRisks")
    inbound_dependencies: list[str] = Field(default_factory=list, alias="inboundDependencies")
    outbound_dependencies: list[str] = Field(default_factory=list, alias="outboundDependencies")
    helper_assignments: list[str] = Field(default_factory=list, alias="helperAssignments")
    runtime_assignments: list[str] = Field(default_factory=list, alias="runtimeAssignments")
    # Full sizes of the lists above: lists are capped so a 100,000-record log stays readable.
    counts: dict[str, int] = Field(default_factory=dict)
    recommendation: Literal["ready-for-doc-closure", "needs-more-work"]
    detail: str
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")


class AgentFacts(_Derived):
    """What one agent's latest attempt proved, as coordination needs it (built from AgentResult)."""

    agent_id: str = Field(alias="agentId")
    status: Literal["passed", "failed", "reused", "not-run"] = "not-run"
    attempt: int = 0
    reason: str | None = None
    markers: list[str] = Field(default_factory=list)
    log_path: str | None = Field(None, alias="logPath")

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "reused")


class InboxPaths(_Derived):
    """``inboxes/wave-<n>/<AgentId>.json``, written by ``wave coord inbox``."""

    shared_path: str = Field(alias="sharedPath")
    inbox_path: str = Field(alias="inboxPath")


class MaterializedState(_Derived):
    """The reducer's output as a file (``coordination.materialized.json`` in traces, ``coord show --json``)."""

    lane: str
    wave: int
    record_count: int = Field(alias="recordCount")
    latest_records: list[dict[str, Any]] = Field(default_factory=list, alias="latestRecords")
    open_records: list[str] = Field(default_factory=list, alias="openRecords")
    blocking_records: list[str] = Field(default_factory=list, alias="blockingRecords")
    records_by_agent_id: dict[str, list[str]] = Field(default_factory=dict, alias="recordsByAgentId")
    records_by_target: dict[str, list[str]] = Field(default_factory=dict, alias="recordsByTarget")
    by_kind: dict[str, list[str]] = Field(default_factory=dict, alias="byKind")
    issues: list[LogIssue] = Field(default_factory=list)


# --------------------------------------------------------------------------- human feedback

FeedbackStatus = Literal["pending", "answered"]


class FeedbackResponse(_Derived):
    operator: str
    text: str
    answered_at: str = Field(alias="answeredAt")


class FeedbackRequest(_Derived):
    """``<orchestratorStateDir>/feedback/requests/<id>.json`` (artifacts.md §4.3)."""

    id: str
    created_at: str = Field(alias="createdAt")
    updated_at: str = Field(alias="updatedAt")
    lane: str
    wave: int
    agent_id: str = Field(alias="agentId")
    orchestrator_id: str | None = Field(None, alias="orchestratorId")
    status: FeedbackStatus = "pending"
    question: str
    context: str = ""
    response: FeedbackResponse | None = None
    # Ours: the clarification this request escalates, so answering it can close the chain (0.8.3 fix).
    clarification_id: str | None = Field(None, alias="clarificationId")

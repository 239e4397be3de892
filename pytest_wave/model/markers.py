"""Structured marker lines agents print (``[wave-proof] ... state=met``), as parsed results.

The parser lives in :mod:`pytest_wave.engine.markers`; this module holds the value sets it
checks against and the results it returns: :class:`Marker` (accepted), :class:`RejectedMarker`
(marker-shaped but malformed) and :class:`MarkerScan` (everything one log yielded).

Which marker is authoritative when a kind repeats (see ``spec/markers.md`` §5 and
``spec/after-0.5.md`` §3.1/§3.2):

* Every kind: the **last valid** marker wins (:meth:`MarkerScan.last`). A later malformed
  marker never hides an earlier valid one, and never counts as present.
* ``[wave-component]``: last valid marker *per component* (:meth:`MarkerScan.components`).
* ``[wave-gap]``: every marker counts (:meth:`MarkerScan.all`).
* ``[wave-verdict]``: also last. Anchor 0.9.11 switched the verdict to *first* match because an
  append-only report file kept a stale ``BLOCKED`` below a newer ``PASS``; that is a scoping bug,
  and first-match only works while agents write newest-first. We fix the scope instead: callers
  scan only the current attempt's output (``scan_log(path, offset=...)``), and there the
  agent's last word is its verdict, as for ``[wave-gate]`` ("last gate marker authoritative").
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from pytest_wave.model.wave import COMPLETION_LEVELS, DOC_IMPACT_LEVELS, DURABILITY_LEVELS, PROOF_LEVELS

__all__ = [
    "COMPLETION_LEVELS",
    "DEPLOY_STATES",
    "DESIGN_STATES",
    "DOC_CLOSURE_STATES",
    "DOC_DELTA_STATES",
    "DURABILITY_LEVELS",
    "EVAL_STATES",
    "GAP_KINDS",
    "GATE_DIMENSIONS",
    "GATE_VALUES",
    "INFRA_PASSING_STATES",
    "INTEGRATION_STATES",
    "MARKER_KINDS",
    "MET_STATES",
    "PHASES",
    "PROOF_LEVELS",
    "SECURITY_STATES",
    "VERDICTS",
    "Marker",
    "MarkerKind",
    "MarkerScan",
    "RejectedMarker",
]

MarkerKind = Literal[
    "wave-proof",
    "wave-doc-delta",
    "wave-doc-closure",
    "wave-integration",
    "wave-gate",
    "wave-gap",
    "wave-component",
    "wave-verdict",
    "wave-phase",
    "deploy-status",
    "infra-status",
    "wave-eval",
    "wave-security",
    "wave-design",
]
MARKER_KINDS: tuple[MarkerKind, ...] = get_args(MarkerKind)

# Value sets, exactly as the anchor's code accepts them (markers.md §5) plus the later fixes
# from after-0.5.md. Ordered tuples where the gates compare levels ("completion >= contract").
MET_STATES: tuple[str, ...] = ("met", "gap")
DOC_DELTA_STATES: tuple[str, ...] = DOC_IMPACT_LEVELS  # none < owned < shared-plan
DOC_CLOSURE_STATES: tuple[str, ...] = ("closed", "no-change", "delta")
INTEGRATION_STATES: tuple[str, ...] = ("ready-for-doc-closure", "needs-more-work")
GATE_DIMENSIONS: tuple[str, ...] = ("architecture", "integration", "durability", "live", "docs")
# ``gap`` (0.9.3) is a conditional pass; the gate decides what it means, the parser only accepts it.
GATE_VALUES: tuple[str, ...] = ("pass", "concerns", "blocked", "gap")
GAP_KINDS: tuple[str, ...] = ("architecture", "integration", "durability", "ops", "docs")
# ``hold`` stays distinct from ``concerns`` (0.9.12 fixed collapsing it); ``fail`` is an alias.
VERDICTS: tuple[str, ...] = ("pass", "concerns", "blocked", "hold")
# The dashboard only acts on these; any identifier is still a valid ``[wave-phase]``.
PHASES: tuple[str, ...] = (
    "pending",
    "launching",
    "running",
    "coding",
    "validating",
    "deploying",
    "finalizing",
    "completed",
    "failed",
    "timed_out",
)
DEPLOY_STATES: tuple[str, ...] = ("deploying", "healthy", "failed", "rolledover")
# Infra states are open-ended in the marker; only these let the infra gate pass.
INFRA_PASSING_STATES: tuple[str, ...] = (
    "conformant",
    "setup-required",
    "setup-in-progress",
    "action-required",
    "action-approved",
    "action-complete",
)
EVAL_STATES: tuple[str, ...] = ("satisfied", "needs-more-work", "blocked")
SECURITY_STATES: tuple[str, ...] = ("clear", "concerns", "blocked")
DESIGN_STATES: tuple[str, ...] = ("ready-for-implementation", "needs-clarification", "blocked")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Marker(_Model):
    """One accepted marker line, normalized.

    ``fields`` holds the known keys of the kind with normalized values (enums lower-cased,
    aliases resolved: ``state=complete`` -> ``met``). Unknown keys go to ``extra``: they are
    reported, never fatal. ``canonical`` is the line re-rendered in spec order; it parses back
    to the same marker.
    """

    kind: MarkerKind
    fields: dict[str, str] = Field(default_factory=dict)
    value: str | None = None
    """The positional argument for kinds that take one (``[wave-verdict] pass``, ``[wave-phase] coding``)."""
    detail: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    raw: str
    """The line as found (JSON-decoded when it came from a JSON event), stripped."""
    canonical: str
    line: int
    """1-based line number in the scanned log (for a JSON event, the event's line)."""
    source: str = "text"
    """``text`` for a plain log line, else the JSON path it came from, e.g. ``item.text``."""

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)

    @property
    def state(self) -> str | None:
        return self.fields.get("state")

    @property
    def paths(self) -> list[str]:
        """``paths=`` split on commas, trimmed, empties dropped (doc-delta / doc-closure)."""
        return [p.strip() for p in self.fields.get("paths", "").split(",") if p.strip()]

    def int_field(self, key: str) -> int | None:
        """A count field (``claims=3``) as an int; the parser has already checked the digits."""
        text = self.fields.get(key)
        return int(text) if text is not None else None


class RejectedMarker(_Model):
    """A marker-shaped line that does not parse: malformed, which is not the same as absent."""

    kind: str | None
    """The kind named in the brackets, lower-cased (may be an unknown kind)."""
    reason: str
    """Machine code: ``invalid-<kind>-format`` or ``unknown-marker-kind``."""
    message: str
    raw: str
    line: int
    source: str = "text"


class MarkerScan(_Model):
    """Everything one log yielded, in log order, plus diagnostics."""

    accepted: list[Marker] = Field(default_factory=list)
    rejected: list[RejectedMarker] = Field(default_factory=list)
    unknown_keys: dict[str, list[str]] = Field(default_factory=dict)
    """Kind -> sorted unknown keys seen on accepted markers of that kind."""
    raw_count: int = 0
    """Marker-shaped lines seen, duplicates included, before validation."""
    duplicate_count: int = 0
    """Lines dropped because the same marker appeared again later (see the parser's dedupe)."""
    fenced_dropped: int = 0
    """Marker lines ignored because their fence also held prose (examples, not claims)."""

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        # The counts below are derived and dumped for readers; reloading a dump must not trip
        # extra="forbid" on them.
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in ("accepted_count", "rejected_count")}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def all(self, kind: MarkerKind) -> list[Marker]:
        """Every accepted marker of ``kind``, in log order (``[wave-gap]`` collects all)."""
        return [m for m in self.accepted if m.kind == kind]

    def last(self, kind: MarkerKind) -> Marker | None:
        """The authoritative marker of ``kind``: the last valid one (see the module docstring)."""
        for marker in reversed(self.accepted):
            if marker.kind == kind:
                return marker
        return None

    def has(self, kind: MarkerKind) -> bool:
        return self.last(kind) is not None

    def rejected_for(self, kind: str) -> list[RejectedMarker]:
        """Malformed lines of ``kind``: lets a gate say ``invalid-...-format`` instead of ``missing-...``."""
        return [r for r in self.rejected if r.kind == kind]

    def components(self) -> dict[str, Marker]:
        """``[wave-component]`` markers: the last valid one per component id, ordered by that marker."""
        found: dict[str, Marker] = {}
        for marker in self.all("wave-component"):
            component = marker.fields["component"]
            found.pop(component, None)  # re-insert so order follows the authoritative marker
            found[component] = marker
        return found

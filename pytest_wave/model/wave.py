"""The typed model of a wave file: one :class:`Wave` with its :class:`Agent` sections.

Every model keeps ``line``: the 1-based source line it was read from (0 when built in code).
Lines are provenance, not meaning: :meth:`Wave.semantic_dump` drops them so a rendered and
re-parsed wave compares equal to the original.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pytest_wave.model.executor import ExecutorSpec

COMPLETION_LEVELS: tuple[str, ...] = ("contract", "integrated", "authoritative", "live")
DURABILITY_LEVELS: tuple[str, ...] = ("none", "ephemeral", "durable")
PROOF_LEVELS: tuple[str, ...] = ("unit", "integration", "live")
DOC_IMPACT_LEVELS: tuple[str, ...] = ("none", "owned", "shared-plan")
EXIT_CONTRACT_FIELDS: dict[str, tuple[str, ...]] = {
    "completion": COMPLETION_LEVELS,
    "durability": DURABILITY_LEVELS,
    "proof": PROOF_LEVELS,
    "doc_impact": DOC_IMPACT_LEVELS,
}

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Context7Settings(_Model):
    line: int = 0
    bundle: str | None = None
    query: str | None = None


class ExitContract(_Model):
    """Declared exit contract. Values are kept as written; validation checks them."""

    line: int = 0
    completion: str | None = None
    durability: str | None = None
    proof: str | None = None
    doc_impact: str | None = None

    def problems(self) -> list[str]:
        """Fields that are missing or outside their allowed levels, in the anchor's wording."""
        out: list[str] = []
        for name, levels in EXIT_CONTRACT_FIELDS.items():
            if getattr(self, name) not in levels:
                label = name.replace("_", "-")
                out.append(f"{label} must be one of {', '.join(levels)}")
        return out


class ComponentPromotion(_Model):
    line: int = 0
    component_id: str
    target_level: str


class DeployEnvironment(_Model):
    line: int = 0
    id: str
    kind: str
    is_default: bool = False
    notes: str | None = None


class EvalTarget(_Model):
    """A ``## Eval targets`` bullet (Node.js tool 0.6+): ``id: x | key: value | ...``."""

    line: int = 0
    id: str
    fields: dict[str, str] = Field(default_factory=dict)


class ProofArtifact(_Model):
    """A ``### Proof artifacts`` bullet (Node.js tool 0.7+): ``path: p | kind: k | required-for: level``."""

    line: int = 0
    path: str
    kind: str | None = None
    required_for: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class ValidationCommand(_Model):
    """A command the orchestrator runs itself to check an agent's work."""

    line: int = 0
    command: str
    source: str = "prompt"  # "prompt" (a ``Validation:`` block) or "section" (``### Validation``)


class PathEntry(_Model):
    line: int = 0
    path: str


class FreeSection(_Model):
    """A section the launcher does not interpret, kept so rendering loses nothing."""

    line: int = 0
    heading: str
    body: str


class Agent(_Model):
    line: int = 0
    id: str
    title: str
    slug: str
    role_prompts: list[PathEntry] = Field(default_factory=list)
    executor: ExecutorSpec | None = None
    context7: Context7Settings | None = None
    skills: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    deliverables: list[PathEntry] = Field(default_factory=list)
    proof_artifacts: list[ProofArtifact] = Field(default_factory=list)
    exit_contract: ExitContract | None = None
    validation: list[ValidationCommand] = Field(default_factory=list)
    prompt: str
    prompt_line: int = 0
    prompt_fence: str = "text"
    owned_paths: list[PathEntry] = Field(default_factory=list)
    extra_sections: list[FreeSection] = Field(default_factory=list)
    # Prose found between the bullets of a list section (heading -> text), kept for rendering.
    section_notes: dict[str, str] = Field(default_factory=dict)
    # Sub-section heading (as written) -> line of the ``###`` heading.
    section_lines: dict[str, int] = Field(default_factory=dict)

    @property
    def owned(self) -> list[str]:
        return [p.path for p in self.owned_paths]

    @property
    def deliverable_paths(self) -> list[str]:
        return [d.path for d in self.deliverables]

    @property
    def role_prompt_paths(self) -> list[str]:
        return [r.path for r in self.role_prompts]

    @property
    def executor_id(self) -> str | None:
        return self.executor.id if self.executor else None

    def owns(self, path: str) -> bool:
        """True when ``path`` equals an owned path or lies under an owned directory (``dir/``)."""
        return any(path == owned or (owned.endswith("/") and path.startswith(owned)) for owned in self.owned)


class Wave(_Model):
    path: str
    number: int | None = None
    heading: str | None = None
    heading_line: int = 0
    preamble: str = ""
    commit_message: str | None = None
    commit_message_line: int = 0
    component_promotions: list[ComponentPromotion] = Field(default_factory=list)
    context7_defaults: Context7Settings | None = None
    deploy_environments: list[DeployEnvironment] = Field(default_factory=list)
    eval_targets: list[EvalTarget] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    extra_sections: list[FreeSection] = Field(default_factory=list)
    # Top-level ``##`` heading (as written) -> line.
    section_lines: dict[str, int] = Field(default_factory=dict)

    def agent(self, agent_id: str) -> Agent | None:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        return None

    @property
    def promoted(self) -> dict[str, str]:
        return {p.component_id: p.target_level for p in self.component_promotions}

    def semantic_dump(self) -> dict[str, Any]:
        """The model without provenance (lines, path, free prose): what must survive a render round trip."""
        data = self.model_dump(mode="json")
        return _strip_provenance(data)  # type: ignore[no-any-return]


_PROVENANCE_KEYS = frozenset(
    {
        "line",
        "path_line",
        "prompt_line",
        "heading_line",
        "commit_message_line",
        "section_lines",
        "section_notes",
        "key_lines",
        "extra_sections",
        "preamble",
        "heading",
        "prompt_fence",
    }
)


def _strip_provenance(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_provenance(v) for k, v in value.items() if k not in _PROVENANCE_KEYS}
    if isinstance(value, list):
        return [_strip_provenance(v) for v in value]
    return value


_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int = 48) -> str:
    """Lowercase, runs outside ``[a-z0-9]`` become ``-``, trimmed, cut to ``limit`` (the anchor's rule)."""
    slug = _NON_SLUG.sub("-", text.lower()).strip("-")
    return slug[:limit]

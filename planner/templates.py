"""Per-template defaults of ``wave draft`` (implementation, qa, infra, release, migration)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateDefaults:
    title: str
    commit_message: str
    target_level: str
    role_kind: str
    owned_paths: tuple[str, ...]
    validation: str
    required_context: tuple[str, ...]


# Exit contract (completion, durability, proof, doc-impact) by worker role kind.
EXIT_BY_ROLE: dict[str, tuple[str, str, str, str]] = {
    "infra": ("live", "durable", "live", "owned"),
    "deploy": ("live", "durable", "live", "owned"),
    "qa": ("integrated", "none", "integration", "owned"),
}
DEFAULT_EXIT = ("contract", "none", "unit", "owned")
DEFAULT_REQUIREMENTS = ("Keep ownership explicit", "Leave exact proof and doc deltas in the final output")

TEMPLATES: dict[str, TemplateDefaults] = {
    "implementation": TemplateDefaults(
        "Implementation Slice",
        "Feat: land planned slice",
        "repo-landed",
        "implementation",
        ("README.md", "scripts/"),
        "python -m pytest -q",
        ("current-state",),
    ),
    "qa": TemplateDefaults(
        "QA Closure",
        "Test: validate planned slice",
        "qa-proved",
        "qa",
        ("README.md", "scripts/"),
        "python -m pytest -q",
        ("current-state", "master-plan"),
    ),
    "infra": TemplateDefaults(
        "Infra Planning Slice",
        "Feat: land planned slice",
        "baseline-proved",
        "infra",
        ("scripts/", "infra/"),
        "wave lint {wave_file}",
        ("current-state",),
    ),
    "release": TemplateDefaults(
        "Release Readiness",
        "Release: prepare next cut",
        "fleet-ready",
        "implementation",
        ("CHANGELOG.md", "README.md"),
        "python -m pytest -q",
        ("current-state",),
    ),
    "migration": TemplateDefaults(
        "Migration Slice",
        "Refactor: migrate planned slice",
        "cutover-ready",
        "implementation",
        ("README.md", "scripts/"),
        "python -m pytest -q",
        ("current-state", "migration"),
    ),
}

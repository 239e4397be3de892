"""The parser against the Node.js tool's own wave files (tests/data/conformance).

Every expected value below was read by hand from the markdown files, not produced by running the
parser. Files whose content differs only in a version string in free prose (the 16
``wave-example-live-proof.md`` copies, the 5 ``wave-example-design-handoff.md`` copies) share one
expectation; ``test_every_distinct_content_has_hand_written_facts`` keeps that honest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.model.executor import EXECUTOR_KEYS, ExecutorSpec, field_name
from pytest_wave.model.wave import Agent, Wave
from pytest_wave.parse.render import render_wave
from pytest_wave.parse.wave import parse_wave_file, parse_wave_text

DATA = Path(__file__).parents[1] / "data" / "conformance"
WAVES = DATA / "waves"
ANCHOR_WAVE = DATA / "anchor-repo-0.5.4" / "docs" / "plans" / "waves" / "wave-0.md"


def _conformance_files() -> list[Path]:
    return [*sorted(WAVES.glob("*/*.md")), ANCHOR_WAVE]


ALL_FILES = _conformance_files()


def _rel(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def _parse(rel: str) -> Wave:
    return parse_wave_file(DATA / rel)


# --------------------------------------------------------------------------------------------------
# Hand-written expectations
# --------------------------------------------------------------------------------------------------

SO = "scripts/wave-orchestrator/"
TO = "test/wave-orchestrator/"
PLANS = "docs/plans/"
MATRIX = [PLANS + "component-cutover-matrix.md", PLANS + "component-cutover-matrix.json"]
NONE_C7 = ("none", None)


def role(name: str) -> str:
    return f"docs/agents/wave-{name}-role.md"


def integration_paths(n: int) -> list[str]:
    return [f".tmp/main-wave-launcher/integration/wave-{n}.md", f".tmp/main-wave-launcher/integration/wave-{n}.json"]


@dataclass
class A:
    """What one agent section says, read by hand."""

    id: str
    title: str
    first: str  # first line of the prompt
    owned: list[str]
    roles: list[str] = field(default_factory=list)
    executor: dict[str, Any] | None = None  # markdown key -> typed value, in file order
    context7: tuple[str | None, str | None] | None = None
    skills: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    exit: tuple[str, str, str, str] | None = None
    deliverables: list[str] = field(default_factory=list)
    proofs: list[tuple[str, str, str]] = field(default_factory=list)  # path, kind, required-for
    notes: dict[str, str] = field(default_factory=dict)
    last: str | None = None  # last prompt line; every conformance prompt ends with its last owned path

    @property
    def last_line(self) -> str:
        return self.last if self.last is not None else f"- {self.owned[-1]}"


@dataclass
class W:
    """What one wave file says at the top level, read by hand."""

    number: int
    heading: str
    commit: str | None
    agents: list[A]
    promotions: list[tuple[str, str]] = field(default_factory=list)
    context7: tuple[str | None, str | None] | None = None
    deploy: list[tuple[str, str, bool, str | None]] = field(default_factory=list)
    evals: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    preamble_contains: str = ""


CODEX_REVIEW = {
    "id": "codex",
    "model": "gpt-5-codex",
    "codex.profile_name": "review",
    "codex.search": True,
    "codex.json": True,
}
CLAUDE_SONNET = {"id": "claude", "model": "claude-sonnet-4-6"}
IMPL_V072 = {
    "profile": "implement-fast",
    "model": "gpt-5-codex",
    "codex.add_dirs": ["scripts", "test"],
    "fallbacks": ["claude", "opencode"],
}
EXIT_UNIT_OWNED = ("contract", "none", "unit", "owned")
EXIT_UNIT_NONE = ("contract", "none", "unit", "none")
EXIT_INTEGRATED_OWNED = ("integrated", "durable", "integration", "owned")
IMPL_SKILLS = ["role-implementation", "runtime-codex", "repo-coding-rules"]

STARTER_PROMOTIONS = [
    ("wave-parser-and-launcher", "repo-landed"),
    ("starter-docs-and-adoption-guidance", "repo-landed"),
]
STARTER_C7 = ("node-typescript", "Node.js and TypeScript basics for orchestrator maintenance")
STARTER_A1_C7 = ("node-typescript", "Node.js module layout, process spawning, and vitest test execution")
STARTER_A1_OWNED = [
    "README.md",
    PLANS + "wave-orchestrator.md",
    SO + "wave-files.mjs",
    TO + "wave-files.test.ts",
]
STARTER_DOCS_OWNED = [PLANS + "current-state.md", PLANS + "master-plan.md", PLANS + "migration.md", *MATRIX]
STARTER_A9_FIRST = "Keep the starter shared plan docs aligned with the landed Wave 0 outcomes."
STARTER_A1_FIRST = "Review and tighten the starter runtime and test harness."
STARTER_HEADING = "Wave 0 - Starter Scaffold Validation"
STARTER_COMMIT = "Chore: validate starter wave scaffold"
STARTER_COMPONENTS = ["wave-parser-and-launcher", "starter-docs-and-adoption-guidance"]

V020 = W(
    number=0,
    heading=STARTER_HEADING,
    commit=STARTER_COMMIT,
    promotions=STARTER_PROMOTIONS,
    context7=STARTER_C7,
    agents=[
        A(
            "A0",
            "Running Evaluator",
            "Primary goal:",
            [PLANS + "waves/reviews/wave-0-evaluator.md"],
            roles=[role("evaluator")],
            context7=NONE_C7,
        ),
        A(
            "A9",
            "Documentation Steward",
            STARTER_A9_FIRST,
            STARTER_DOCS_OWNED,
            roles=[role("documentation")],
            context7=NONE_C7,
        ),
        A(
            "A1",
            "Starter Runtime and Docs Review",
            STARTER_A1_FIRST,
            STARTER_A1_OWNED,
            context7=STARTER_A1_C7,
            components=STARTER_COMPONENTS,
            exit=EXIT_UNIT_OWNED,
        ),
    ],
)


def _starter_v03(
    a0_title: str,
    a0_role: str,
    a0_report: str,
    a8_first: str,
    executors: dict[str, dict[str, Any]],
) -> W:
    return W(
        number=0,
        heading=STARTER_HEADING,
        commit=STARTER_COMMIT,
        promotions=STARTER_PROMOTIONS,
        context7=STARTER_C7,
        agents=[
            A(
                "A0",
                a0_title,
                "Primary goal:",
                [PLANS + f"waves/reviews/{a0_report}"],
                roles=[role(a0_role)],
                executor=executors["A0"],
                context7=NONE_C7,
            ),
            A(
                "A8",
                "Integration Steward",
                a8_first,
                integration_paths(0),
                roles=[role("integration")],
                executor=executors["A8"],
                context7=NONE_C7,
                capabilities=["integration", "docs-shared-plan"],
            ),
            A(
                "A9",
                "Documentation Steward",
                STARTER_A9_FIRST,
                STARTER_DOCS_OWNED,
                roles=[role("documentation")],
                executor=executors["A9"],
                context7=NONE_C7,
            ),
            A(
                "A1",
                "Starter Runtime and Docs Review",
                STARTER_A1_FIRST,
                STARTER_A1_OWNED,
                executor=executors["A1"],
                context7=STARTER_A1_C7,
                components=STARTER_COMPONENTS,
                capabilities=["schema-migration", "frontend-validation"],
                exit=EXIT_UNIT_OWNED,
            ),
        ],
    )


V030 = _starter_v03(
    "Running Evaluator",
    "evaluator",
    "wave-0-evaluator.md",
    "Synthesize the wave before documentation and evaluator closure.",
    {
        "A0": {"profile": "deep-review"},
        "A8": {"profile": "deep-review"},
        "A9": {"profile": "docs-pass"},
        "A1": {"profile": "implement-fast", "fallbacks": ["claude", "opencode"]},
    },
)

V040_EXECUTORS: dict[str, dict[str, Any]] = {
    "A0": CODEX_REVIEW,
    "A8": {
        "id": "claude",
        "model": "claude-sonnet-4-6",
        "claude.settings_json": {"permissions": {"allow": ["Read"]}},
        "claude.hooks_json": {"Stop": [{"command": "echo integration-stop"}]},
    },
    "A9": {
        "id": "opencode",
        "opencode.files": ["README.md", "docs/plans/current-state.md"],
        "opencode.config_json": {"instructions": ["Keep shared plan docs concise and factual."]},
    },
    "A1": {
        "profile": "implement-fast",
        "model": "gpt-5-codex",
        "codex.config": ["model_reasoning_effort=medium"],
        "codex.add_dirs": ["docs", "scripts"],
        "fallbacks": ["claude", "opencode"],
    },
}
V040 = _starter_v03(
    "Running Evaluator",
    "evaluator",
    "wave-0-evaluator.md",
    "Synthesize the wave before documentation and evaluator closure.",
    V040_EXECUTORS,
)
V060 = _starter_v03(
    "cont-QA",
    "cont-qa",
    "wave-0-cont-qa.md",
    "Synthesize the wave before documentation and cont-QA closure.",
    V040_EXECUTORS,
)

LP = ".tmp/wave-14-learning-proof/"
LIVE_PROOF = W(
    number=14,
    heading="Wave 14 - Example Full Modern Release Surface",
    commit="Docs: add full modern sample wave",
    promotions=[
        ("learning-memory-action-plane", "pilot-live"),
        ("executor-abstraction-and-prompt-transport", "baseline-proved"),
    ],
    deploy=[
        ("prod", "kubernetes", True, "primary production cluster"),
        ("staging", "custom-deploy", False, "manual preflight and recovery flow"),
    ],
    evals=[
        (
            "live-proof-fidelity",
            {
                "selection": "delegated",
                "benchmark-family": "blackboard-fidelity",
                "objective": "Preserve machine-visible live proof through summaries, inboxes, and integration closure",
                "threshold": "Critical live-proof facts remain visible through final closure",
            },
        ),
        (
            "contradiction-recovery",
            {
                "selection": "pinned",
                "benchmarks": "claim-conflict-detection,evidence-based-repair",
                "objective": "Surface and repair conflicting live claims before PASS",
                "threshold": "Material contradictions become explicit repair work before final closure",
            },
        ),
        (
            "silo-escape",
            {
                "selection": "delegated",
                "benchmark-family": "silo-escape",
                "objective": "Reconstruct the correct global state from distributed live and repo evidence",
                "threshold": "Integration closure reflects the full cross-agent state instead of partial local views",
            },
        ),
    ],
    context7=(
        "node-typescript",
        "Orchestration state machines, retry policy, summary fidelity, and durable validation for coding agents",
    ),
    agents=[
        A(
            "A0",
            "cont-QA",
            "Primary goal:",
            [PLANS + "waves/reviews/wave-14-cont-qa.md"],
            roles=[role("cont-qa")],
            executor={"id": "claude", "model": "claude-sonnet-4-6", "claude.allowed_tools": ["Read", "Glob"]},
            context7=NONE_C7,
        ),
        A(
            "E0",
            "cont-EVAL",
            "Primary goal:",
            [PLANS + "waves/reviews/wave-14-cont-eval.md"],
            roles=[role("cont-eval")],
            executor={
                "id": "claude",
                "model": "claude-sonnet-4-6",
                "claude.allowed_tools": ["Read", "Glob"],
                "claude.output_format": "json",
            },
            context7=NONE_C7,
            skills=["role-cont-eval"],
        ),
        A(
            "A8",
            "Integration Steward",
            "Primary goal:",
            integration_paths(14),
            roles=[role("integration")],
            executor=CLAUDE_SONNET,
            context7=NONE_C7,
            capabilities=["integration", "live-proof-reconciliation", "contradiction-recovery", "blackboard-fidelity"],
        ),
        A(
            "A9",
            "Documentation Steward",
            "Primary goal:",
            [PLANS + "current-state.md", PLANS + "master-plan.md", PLANS + "migration.md", "docs/evals/README.md"],
            roles=[role("documentation")],
            executor={"profile": "docs-pass"},
            context7=NONE_C7,
        ),
        A(
            "A1",
            "Runtime And Summary Hardening",
            "Primary goal:",
            [
                SO + "launcher.mjs",
                SO + "coordination-store.mjs",
                TO + "launcher.test.ts",
                TO + "coordination-store.test.ts",
            ],
            executor={
                "profile": "implement-fast",
                "model": "gpt-5-codex",
                "codex.config": ["model_reasoning_effort=high"],
                "codex.search": True,
                "codex.json": True,
                "codex.add_dirs": ["docs", "scripts", "test"],
                "fallbacks": ["claude", "opencode"],
                "budget.minutes": 45,
            },
            context7=(
                "node-typescript",
                "Retry orchestration, summary integrity, validation rules, and Vitest coverage for agent systems",
            ),
            skills=IMPL_SKILLS,
            components=["executor-abstraction-and-prompt-transport"],
            capabilities=["status-reconciliation", "benchmark-integration", "summary-fidelity"],
            exit=EXIT_INTEGRATED_OWNED,
            deliverables=[
                SO + "launcher.mjs",
                SO + "coordination-store.mjs",
                TO + "launcher.test.ts",
                TO + "coordination-store.test.ts",
            ],
        ),
        A(
            "A6",
            "Learning Plane Live Validation",
            "Primary goal:",
            [LP, PLANS + "waves/reviews/wave-14-live-proof.md"],
            executor={
                "id": "codex",
                "retry-policy": "sticky",
                "budget.minutes": 30,
                "codex.search": True,
                "codex.json": True,
            },
            context7=NONE_C7,
            skills=["role-infra", "provider-kubernetes", "provider-custom-deploy"],
            components=["learning-memory-action-plane"],
            capabilities=["live-proof", "restart-safety", "deploy-validation"],
            exit=("live", "durable", "live", "owned"),
            deliverables=[PLANS + "waves/reviews/wave-14-live-proof.md"],
            proofs=[
                (LP + "learning-dry-run-status.json", "live-status", "pilot-live"),
                (LP + "learning-plane-before-restart.json", "live-status", "pilot-live"),
                (LP + "learning-plane-after-restart.json", "restart-check", "pilot-live"),
                (LP + "learning-vector-manifest.json", "manifest", "pilot-live"),
            ],
        ),
        A(
            "A7",
            "Infra Proof Steward",
            "Primary goal:",
            [".tmp/main-wave-launcher/logs/wave-14-a7.log"],
            roles=[role("infra")],
            executor={"id": "opencode", "opencode.format": "json", "opencode.steps": 12},
            context7=NONE_C7,
            skills=["role-infra", "provider-kubernetes"],
        ),
        A(
            "D1",
            "Deploy Verifier",
            "Primary goal:",
            [".tmp/main-wave-launcher/logs/wave-14-d1.log"],
            roles=[role("deploy-verifier")],
            executor={"id": "opencode", "opencode.format": "json", "opencode.steps": 10},
            context7=NONE_C7,
            skills=["role-deploy", "provider-kubernetes", "provider-custom-deploy"],
        ),
    ],
)

BENCHMARK = W(
    number=99,
    heading="Wave 99 - Benchmark Improvement Loop",
    commit=None,
    evals=[
        (
            "hidden-profile-pooling",
            {
                "selection": "pinned",
                "benchmarks": "private-evidence-integration,premature-consensus-guard",
                "objective": "Improve distributed evidence pooling without allowing premature closure",
                "threshold": "Full-wave benchmark scores improve without regressing closure discipline",
            },
        ),
        (
            "routing-quality",
            {
                "selection": "pinned",
                "benchmarks": "expert-routing-preservation,lockstep-resolution",
                "objective": "Improve capability routing and simultaneous coordination",
                "threshold": "Routing benchmarks improve and no new deadlock-like regressions appear",
            },
        ),
    ],
    agents=[
        A("A0", "cont-QA", "Primary goal:", [PLANS + "waves/reviews/wave-99-cont-qa.md"]),
        A("E0", "cont-EVAL", "Primary goal:", [PLANS + "waves/reviews/wave-99-cont-eval.md"]),
        A("A8", "Integration Steward", "Primary goal:", [".tmp/main-wave-launcher/integration/wave-99.md"]),
        A(
            "A1",
            "Coordination Store Hardening",
            "Primary goal:",
            [SO + "coordination-store.mjs", TO + "coordination-store.test.ts"],
            deliverables=[SO + "coordination-store.mjs", TO + "coordination-store.test.ts"],
        ),
        A(
            "A2",
            "Routing And Closure Hardening",
            "Primary goal:",
            [SO + "routing-state.mjs", SO + "benchmark.mjs", TO + "routing-state.test.ts", TO + "benchmark.test.ts"],
            deliverables=[
                SO + "routing-state.mjs",
                SO + "benchmark.mjs",
                TO + "routing-state.test.ts",
                TO + "benchmark.test.ts",
            ],
        ),
    ],
)

ROLLOUT_REVIEW_EXEC = {
    "profile": "deep-review",
    "claude.permission_mode": "plan",
    "claude.settings": ".claude/settings.json",
    "claude.output_format": "text",
}
ROLLOUT_IMPL_EXEC = {
    "profile": "implement-fast",
    "model": "gpt-5.4",
    "codex.config": ["model_reasoning_effort=xhigh", "model_verbosity=low"],
}
ROLLOUT = W(
    number=9,
    heading="Wave 9 - Rollout Substrate + Desired-State Records",
    commit="Feat: land rollout substrate and desired-state records",
    promotions=[("rollout-cores-and-cluster-view", "repo-landed")],
    deploy=[("repo-local", "custom", True, "repo-local rollout substrate work; no live host mutation")],
    context7=(
        "go-services",
        "Desired state, reconcile loops, rollout metadata, and cluster-view surfaces for Go control-plane rollout work",
    ),
    agents=[
        A(
            "A0",
            "cont-QA",
            "Primary goal:",
            [PLANS + "waves/reviews/wave-9-cont-qa.md"],
            roles=[role("cont-qa")],
            executor=ROLLOUT_REVIEW_EXEC,
            context7=("none", "Repository docs remain canonical for cont-QA"),
        ),
        A(
            "A8",
            "Integration Steward",
            "Primary goal:",
            integration_paths(9),
            roles=[role("integration")],
            executor=ROLLOUT_REVIEW_EXEC,
            context7=("none", "Repository docs remain canonical for integration"),
        ),
        A(
            "A9",
            "Documentation Steward",
            "Primary goal:",
            [PLANS + "master-plan.md", PLANS + "current-state.md", PLANS + "migration.md", *MATRIX],
            roles=[role("documentation")],
            executor={
                "profile": "docs-pass",
                "claude.settings": ".claude/settings.json",
                "claude.output_format": "text",
            },
            context7=("none", "Shared-plan documentation only"),
        ),
        A(
            "A1",
            "Desired-State Records And Rollout Store",
            "Primary goal:",
            ["go/internal/rollout/desiredstate/", PLANS + "operations/wave-9-rollout-state-model.md"],
            executor=ROLLOUT_IMPL_EXEC,
            context7=("go-services", "Desired-state persistence, rollout records, and authoritative state transitions"),
            skills=IMPL_SKILLS,
            components=["rollout-cores-and-cluster-view"],
            capabilities=["rollout-authority", "desired-state"],
            exit=EXIT_INTEGRATED_OWNED,
            deliverables=[
                "go/internal/rollout/desiredstate/store.go",
                "go/internal/rollout/desiredstate/store_test.go",
                PLANS + "operations/wave-9-rollout-state-model.md",
            ],
        ),
        A(
            "A2",
            "Cluster View And Observed-State Projections",
            "Primary goal:",
            ["go/internal/cluster/view/", PLANS + "qa/wave-9-cluster-view-projections.md"],
            executor=ROLLOUT_IMPL_EXEC,
            context7=("go-services", "Cluster-view, observed-state projections, and rollout-facing status surfaces"),
            skills=IMPL_SKILLS,
            components=["rollout-cores-and-cluster-view"],
            capabilities=["cluster-view", "observed-state"],
            exit=EXIT_INTEGRATED_OWNED,
            deliverables=[
                "go/internal/cluster/view/status.go",
                "go/internal/cluster/view/status_test.go",
                PLANS + "qa/wave-9-cluster-view-projections.md",
            ],
        ),
        A(
            "A3",
            "Task Plane And Reconcile Loop Skeleton",
            "Primary goal:",
            ["go/internal/rollout/reconcile/", PLANS + "operations/wave-9-reconcile-loop.md"],
            executor=ROLLOUT_IMPL_EXEC,
            context7=("go-services", "Worker task planes, reconcile loops, and rollout-safe execution boundaries"),
            skills=IMPL_SKILLS,
            components=["rollout-cores-and-cluster-view"],
            capabilities=["reconcile-loop", "task-plane"],
            exit=EXIT_INTEGRATED_OWNED,
            deliverables=[
                "go/internal/rollout/reconcile/worker.go",
                "go/internal/rollout/reconcile/worker_test.go",
                PLANS + "operations/wave-9-reconcile-loop.md",
            ],
        ),
    ],
)


def _v072_closure(n: int, a8_first: str, a8_caps: list[str], a9_files: list[str], a9_first: str, a9_owned: list[str]):
    return [
        A(
            "A0",
            "cont-QA",
            "Primary goal:",
            [PLANS + f"waves/reviews/wave-{n}-cont-qa.md"],
            roles=[role("cont-qa")],
            executor=CODEX_REVIEW,
            context7=NONE_C7,
        ),
        A(
            "A8",
            "Integration Steward",
            a8_first,
            integration_paths(n),
            roles=[role("integration")],
            executor=CLAUDE_SONNET,
            context7=NONE_C7,
            capabilities=a8_caps,
        ),
        A(
            "A9",
            "Documentation Steward",
            a9_first,
            a9_owned,
            roles=[role("documentation")],
            executor={"id": "opencode", "opencode.files": a9_files},
            context7=NONE_C7,
        ),
    ]


END_STATE = PLANS + "end-state-architecture.md"
CORE_DOCS = [PLANS + "current-state.md", PLANS + "master-plan.md", PLANS + "migration.md"]
ORCH_DOC = PLANS + "wave-orchestrator.md"
NODE_C7 = ("node-typescript", None)

V072_WAVE1 = W(
    number=1,
    heading="Wave 1 - Phase Engine Extraction and Authority Model",
    commit="Arch: extract phase engines and establish canonical authority set",
    promotions=[
        ("wave-parser-and-launcher", "baseline-proved"),
        ("closure-sweep-and-role-gates", "baseline-proved"),
        ("state-artifacts-and-feedback", "repo-landed"),
    ],
    context7=("node-typescript", "Node.js module extraction, event sourcing patterns, and vitest test migration"),
    agents=[
        *_v072_closure(
            1,
            "Synthesize the phase engine extraction before documentation and cont-QA closure.",
            ["integration", "docs-shared-plan"],
            [END_STATE, PLANS + "current-state.md", ORCH_DOC],
            "Update shared plan docs to reflect the landed phase engine architecture.",
            [*CORE_DOCS, ORCH_DOC, *MATRIX],
        ),
        A(
            "A1",
            "Phase Engine Extraction \u2014 Gate Engine",
            "Complete the gate engine extraction from launcher.mjs.",
            [SO + "launcher-gates.mjs", TO + "launcher-gates.test.ts"],
            executor={
                "profile": "implement-fast",
                "model": "gpt-5-codex",
                "codex.config": ["model_reasoning_effort=medium"],
                "codex.add_dirs": ["scripts", "test"],
                "fallbacks": ["claude", "opencode"],
            },
            context7=(
                "node-typescript",
                "Node.js module extraction, ES module imports and re-exports, vitest test patterns",
            ),
            components=["closure-sweep-and-role-gates"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "launcher-gates.mjs", TO + "launcher-gates.test.ts"],
        ),
        A(
            "A2",
            "Phase Engine Extraction \u2014 Retry Engine",
            "Complete the retry engine extraction from launcher.mjs.",
            [SO + "launcher-retry.mjs", TO + "launcher-retry.test.ts"],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["wave-parser-and-launcher"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "launcher-retry.mjs", TO + "launcher-retry.test.ts"],
        ),
        A(
            "A3",
            "Phase Engine Extraction \u2014 Derived State and Supervisor",
            "Complete the derived-state engine and session supervisor extraction.",
            [
                SO + "launcher-derived-state.mjs",
                SO + "launcher-supervisor.mjs",
                TO + "launcher-derived-state.test.ts",
                TO + "launcher-supervisor.test.ts",
            ],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[
                SO + "launcher-derived-state.mjs",
                SO + "launcher-supervisor.mjs",
                TO + "launcher-derived-state.test.ts",
                TO + "launcher-supervisor.test.ts",
            ],
        ),
        A(
            "A4",
            "Thin Launcher Orchestrator",
            "Reduce launcher.mjs to a thin orchestrator that delegates all decisions to phase engines.",
            [SO + "launcher.mjs", TO + "launcher.test.ts"],
            executor={
                "id": "codex",
                "model": "gpt-5-codex",
                "codex.add_dirs": ["scripts", "test"],
                "fallbacks": ["claude"],
            },
            context7=NODE_C7,
            components=["wave-parser-and-launcher"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "launcher.mjs", TO + "launcher.test.ts"],
        ),
    ],
)

V072_WAVE2 = W(
    number=2,
    heading="Wave 2 - Task Graph and Two-Phase Proof Model",
    commit="Arch: add first-class task entities and two-phase proof separation",
    promotions=[("state-artifacts-and-feedback", "baseline-proved")],
    context7=("node-typescript", "Event sourcing, DAG task graphs, state machine design in Node.js"),
    agents=[
        *_v072_closure(
            2,
            "Synthesize the task graph and proof model changes before documentation and cont-QA closure.",
            ["integration", "docs-shared-plan"],
            [END_STATE, PLANS + "current-state.md"],
            "Update shared plan docs to reflect the task graph model and two-phase proof separation.",
            [*CORE_DOCS, *MATRIX],
        ),
        A(
            "A1",
            "Task Entity and Graph Builder",
            "Implement the first-class task entity model.",
            [
                SO + "task-entity.mjs",
                SO + "wave-control-schema.mjs",
                SO + "control-plane.mjs",
                TO + "task-entity.test.ts",
            ],
            executor=IMPL_V072,
            context7=("node-typescript", "DAG construction, topological sort, JSON schema validation in Node.js"),
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "task-entity.mjs", TO + "task-entity.test.ts"],
        ),
        A(
            "A2",
            "Two-Phase Proof Separation",
            "Implement the two-phase proof separation: owned_slice_proven and wave_closure_ready.",
            [SO + "launcher-gates.mjs", SO + "launcher-retry.mjs", TO + "proof-phases.test.ts"],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "launcher-gates.mjs", TO + "proof-phases.test.ts"],
        ),
    ],
)

V072_WAVE3 = W(
    number=3,
    heading="Wave 3 - Structured Result Envelopes and Retry Isolation",
    commit="Arch: add role-aware result envelopes and isolate retry subsystem",
    promotions=[
        ("executor-abstraction-and-prompt-transport", "baseline-proved"),
        ("closure-sweep-and-role-gates", "baseline-proved"),
    ],
    context7=(
        "node-typescript",
        "JSON schema validation, discriminated unions, and deterministic state machines in Node.js",
    ),
    agents=[
        *_v072_closure(
            3,
            "Synthesize the result envelope and retry isolation changes.",
            ["integration", "docs-shared-plan"],
            [END_STATE, PLANS + "current-state.md"],
            "Update shared plan docs to reflect result envelopes and retry isolation.",
            [*CORE_DOCS, ORCH_DOC, *MATRIX],
        ),
        A(
            "A1",
            "Role-Aware Result Envelope",
            "Implement role-aware structured result envelopes.",
            [
                SO + "result-envelope.mjs",
                SO + "agent-state.mjs",
                SO + "launcher-gates.mjs",
                TO + "result-envelope.test.ts",
            ],
            executor=IMPL_V072,
            context7=(
                "node-typescript",
                "TypeScript discriminated unions, JSON schema validation, zod or ajv schema patterns",
            ),
            components=["closure-sweep-and-role-gates", "executor-abstraction-and-prompt-transport"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "result-envelope.mjs", TO + "result-envelope.test.ts"],
        ),
        A(
            "A2",
            "Retry Engine Isolation",
            "Harden the retry engine into a fully deterministic subsystem.",
            [SO + "launcher-retry.mjs", SO + "retry-control.mjs", TO + "retry-determinism.test.ts"],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["closure-sweep-and-role-gates"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "launcher-retry.mjs", TO + "retry-determinism.test.ts"],
        ),
        A(
            "A3",
            "Executor Adapter Contract",
            "Refactor executor adapters to be capability-driven, not launcher-driven.",
            [SO + "executors.mjs", TO + "executors.test.ts"],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["executor-abstraction-and-prompt-transport"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "executors.mjs", TO + "executors.test.ts"],
        ),
    ],
)

SP4 = ".tmp/wave-4-state-proof/"
V072_WAVE4 = W(
    number=4,
    heading="Wave 4 - State Reducer, Contradiction Entities, and Evidence Lineage",
    commit="Arch: add wave state reducer, contradiction entities, and stable fact ids",
    promotions=[("state-artifacts-and-feedback", "pilot-live")],
    context7=(
        "node-typescript",
        "Event sourcing reducers, DAG traversal, content hashing, and deterministic replay in Node.js",
    ),
    agents=[
        *_v072_closure(
            4,
            "Synthesize the reducer, contradiction entities, and evidence lineage changes.",
            ["integration", "contradiction-recovery", "docs-shared-plan"],
            [END_STATE, PLANS + "current-state.md"],
            "Update shared plan docs to reflect the reducer, contradiction entities, and evidence lineage.",
            [*CORE_DOCS, ORCH_DOC, *MATRIX, "docs/reference/proof-metrics.md"],
        ),
        A(
            "A1",
            "Wave State Reducer",
            "Implement the wave state reducer as a pure function.",
            [SO + "wave-state-reducer.mjs", TO + "wave-state-reducer.test.ts", SP4],
            executor=IMPL_V072,
            context7=(
                "node-typescript",
                "Pure function reducers, event sourcing projection, deterministic state rebuild",
            ),
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "wave-state-reducer.mjs", TO + "wave-state-reducer.test.ts"],
            proofs=[(SP4 + "reducer-replay-summary.json", "replay-summary", "pilot-live")],
        ),
        A(
            "A2",
            "Contradiction Entity",
            "Implement the contradiction entity as a first-class control-plane type.",
            [
                SO + "contradiction-entity.mjs",
                SO + "wave-control-schema.mjs",
                SO + "control-plane.mjs",
                SO + "launcher-gates.mjs",
                TO + "contradiction-entity.test.ts",
                SP4,
            ],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "contradiction-entity.mjs", TO + "contradiction-entity.test.ts"],
            proofs=[(SP4 + "contradiction-lifecycle.json", "contradiction-log", "pilot-live")],
        ),
        A(
            "A3",
            "Stable Fact and Evidence Lineage",
            "Implement stable fact identifiers and evidence lineage.",
            [
                SO + "fact-entity.mjs",
                SO + "wave-control-schema.mjs",
                SO + "control-plane.mjs",
                TO + "fact-entity.test.ts",
                SP4,
            ],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "fact-entity.mjs", TO + "fact-entity.test.ts"],
            proofs=[(SP4 + "fact-lineage-report.json", "lineage-report", "pilot-live")],
        ),
    ],
)

SP5 = ".tmp/wave-5-state-proof/"
V072_WAVE5 = W(
    number=5,
    heading="Wave 5 - Schema Versioning, Artifact Hierarchy, and Human Input Workflow",
    commit="Arch: harden schema versioning, artifact classification, and human input workflow",
    promotions=[("state-artifacts-and-feedback", "qa-proved")],
    context7=(
        "node-typescript",
        "JSON schema migration, artifact metadata, workflow state machines, SLA tracking in Node.js",
    ),
    agents=[
        *_v072_closure(
            5,
            "Synthesize schema versioning, artifact hierarchy, and human input workflow changes.",
            ["integration", "docs-shared-plan"],
            [END_STATE, PLANS + "current-state.md"],
            "Update shared plan docs to reflect schema versioning, artifact classification, and human input workflow.",
            [*CORE_DOCS, ORCH_DOC, *MATRIX, "docs/reference/wave-control.md"],
        ),
        A(
            "A1",
            "Schema Versioning and Artifact Classification",
            "Add explicit schema versioning to all derived-state schemas and artifact class labels to all persisted "
            "artifacts.",
            [SO + "schema-versioning.mjs", SO + "artifact-schemas.mjs", TO + "schema-versioning.test.ts", SP5],
            executor=IMPL_V072,
            context7=("node-typescript", "JSON schema migration, semver, forward compatibility patterns"),
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "schema-versioning.mjs", TO + "schema-versioning.test.ts"],
            proofs=[(SP5 + "schema-migration-report.json", "migration-report", "pilot-live")],
        ),
        A(
            "A2",
            "Human Input Workflow Subsystem",
            "Implement the human input workflow subsystem.",
            [
                SO + "human-input-workflow.mjs",
                SO + "clarification-triage.mjs",
                TO + "human-input-workflow.test.ts",
                SP5,
            ],
            executor=IMPL_V072,
            context7=(
                "node-typescript",
                "Workflow state machines, SLA tracking, timeout policies in event-sourced systems",
            ),
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "human-input-workflow.mjs", TO + "human-input-workflow.test.ts"],
            proofs=[(SP5 + "human-input-sla-log.json", "workflow-log", "pilot-live")],
        ),
        A(
            "A3",
            "Projection Writer",
            "Implement the projection writer \u2014 the single module responsible for all non-canonical file writes.",
            [SO + "projection-writer.mjs", TO + "projection-writer.test.ts", SP5],
            executor=IMPL_V072,
            context7=NODE_C7,
            components=["state-artifacts-and-feedback"],
            exit=EXIT_UNIT_NONE,
            deliverables=[SO + "projection-writer.mjs", TO + "projection-writer.test.ts"],
            proofs=[(SP5 + "projection-artifact-manifest.json", "artifact-manifest", "pilot-live")],
        ),
    ],
)

SP6 = ".tmp/wave-6-proof/"
V072_WAVE6 = W(
    number=6,
    heading="Wave 6 - Proof Families, Workflow Backend, and Architecture Completion",
    commit="Arch: add proof families, workflow backend boundary, and complete architecture refactor",
    promotions=[
        ("wave-parser-and-launcher", "pilot-live"),
        ("closure-sweep-and-role-gates", "pilot-live"),
        ("executor-abstraction-and-prompt-transport", "pilot-live"),
    ],
    context7=(
        "node-typescript",
        "Workflow backend abstraction, deployment verification, proof family validation in Node.js",
    ),
    agents=[
        *_v072_closure(
            6,
            "Final integration synthesis for the architecture refactor.",
            ["integration", "docs-shared-plan", "contradiction-recovery"],
            [END_STATE, PLANS + "current-state.md"],
            "Final documentation update reflecting the completed architecture refactor.",
            [
                *CORE_DOCS,
                ORCH_DOC,
                END_STATE,
                *MATRIX,
                "docs/reference/proof-metrics.md",
                "docs/reference/wave-control.md",
            ],
        ),
        A(
            "A1",
            "Proof Family Split",
            "Implement the three proof families: code_proof, integration_proof, deploy_proof.",
            [
                SO + "proof-families.mjs",
                SO + "proof-registry.mjs",
                SO + "launcher-gates.mjs",
                TO + "proof-families.test.ts",
                SP6,
            ],
            executor=IMPL_V072,
            context7=("node-typescript", "Proof validation, deployment health checks, test runner integration"),
            components=["closure-sweep-and-role-gates"],
            exit=EXIT_UNIT_OWNED,
            deliverables=[SO + "proof-families.mjs", TO + "proof-families.test.ts"],
            proofs=[(SP6 + "proof-family-report.json", "proof-family-report", "pilot-live")],
        ),
        A(
            "A2",
            "Workflow Backend Boundary",
            "Introduce the workflow backend abstraction boundary.",
            [SO + "workflow-backend.mjs", SO + "workflow-backend-local.mjs", TO + "workflow-backend.test.ts", SP6],
            executor=IMPL_V072,
            context7=(
                "node-typescript",
                "Workflow engine abstraction, repository pattern, dependency injection in Node.js",
            ),
            components=["wave-parser-and-launcher", "executor-abstraction-and-prompt-transport"],
            exit=EXIT_UNIT_NONE,
            deliverables=[
                SO + "workflow-backend.mjs",
                SO + "workflow-backend-local.mjs",
                TO + "workflow-backend.test.ts",
            ],
            proofs=[(SP6 + "workflow-backend-trace.json", "backend-trace", "pilot-live")],
        ),
    ],
)

DESIGN_NOTE = (
    "Add `tui-design` here too when the design packet owns terminal UX, dashboards, or other operator-surface "
    "behavior. Omit it for generic API or migration design."
)
DESIGN_PACKET = PLANS + "waves/design/wave-12-D1.md"
DESIGN_EXIT = ("integrated", "durable", "integration", "none")
DESIGN = W(
    number=12,
    heading="Wave 12 - Optional Design Steward Handoff",
    commit="Feat: add design packet before implementation fan-out",
    promotions=[("api-boundary", "repo-landed"), ("runtime-integration", "repo-landed")],
    context7=(
        "node-typescript",
        "Interface boundaries, migration sequencing, and implementation handoff patterns for repository work",
    ),
    extra=["Why This Example Exists"],
    agents=[
        A(
            "A0",
            "cont-QA",
            "Primary goal:",
            [PLANS + "waves/reviews/wave-12-cont-qa.md"],
            roles=[role("cont-qa")],
            executor={"profile": "deep-review"},
            context7=NONE_C7,
        ),
        A(
            "A8",
            "Integration Steward",
            "Primary goal:",
            integration_paths(12),
            roles=[role("integration")],
            executor={"profile": "deep-review"},
            context7=NONE_C7,
        ),
        A(
            "A9",
            "Documentation Steward",
            "Primary goal:",
            [PLANS + "current-state.md", PLANS + "migration.md"],
            roles=[role("documentation")],
            executor={"profile": "docs-pass"},
            context7=NONE_C7,
        ),
        A(
            "D1",
            "Design Steward",
            "Primary goal:",
            [DESIGN_PACKET],
            roles=[role("design")],
            executor={"profile": "design-pass"},
            context7=NONE_C7,
            skills=["role-design"],
            capabilities=["design", "interface-handoff", "decision-lineage"],
            notes={"Skills": DESIGN_NOTE},
        ),
        A(
            "A1",
            "API Boundary Update",
            "Primary goal:",
            [SO + "api-boundary.mjs", TO + "api-boundary.test.ts"],
            executor={"profile": "implement-fast"},
            context7=("node-typescript", "API boundary refactors and compatibility-safe migration sequencing"),
            skills=IMPL_SKILLS,
            components=["api-boundary"],
            exit=DESIGN_EXIT,
            deliverables=[SO + "api-boundary.mjs", TO + "api-boundary.test.ts"],
        ),
        A(
            "A2",
            "Runtime Integration Update",
            "Primary goal:",
            [SO + "runtime-integration.mjs", TO + "runtime-integration.test.ts"],
            executor={"profile": "implement-fast"},
            context7=("node-typescript", "Runtime integration updates and handoff-safe staged migration"),
            skills=IMPL_SKILLS,
            components=["runtime-integration"],
            exit=DESIGN_EXIT,
            deliverables=[SO + "runtime-integration.mjs", TO + "runtime-integration.test.ts"],
        ),
    ],
)

LIVE_PROOF_VERSIONS = [
    "v0.6.0",
    "v0.6.1",
    "v0.7.0",
    "v0.7.1",
    "v0.7.2",
    "v0.7.3",
    "v0.8.0",
    "v0.8.1",
    "v0.8.2",
    "v0.8.3",
    "v0.8.4",
    "v0.8.5",
    "v0.8.6",
    "v0.8.7",
    "v0.8.8",
    "v0.8.9",
]
DESIGN_VERSIONS = ["v0.8.5", "v0.8.6", "v0.8.7", "v0.8.8", "v0.8.9"]


def _with_version(spec: W, text: str) -> W:
    return W(**{**spec.__dict__, "preamble_contains": text})


EXPECTED: dict[str, W] = {
    "waves/v0.2.0/wave-0.md": V020,
    "waves/v0.3.0/wave-0.md": V030,
    "waves/v0.4.0/wave-0.md": V040,
    "anchor-repo-0.5.4/docs/plans/waves/wave-0.md": V040,
    "waves/v0.6.0/wave-0.md": V060,
    "waves/v0.7.0/wave-benchmark-improvement.md": BENCHMARK,
    "waves/v0.7.0/wave-example-rollout-fidelity.md": ROLLOUT,
    "waves/v0.7.2/wave-1.md": V072_WAVE1,
    "waves/v0.7.2/wave-2.md": V072_WAVE2,
    "waves/v0.7.2/wave-3.md": V072_WAVE3,
    "waves/v0.7.2/wave-4.md": V072_WAVE4,
    "waves/v0.7.2/wave-5.md": V072_WAVE5,
    "waves/v0.7.2/wave-6.md": V072_WAVE6,
    **{
        f"waves/{v}/wave-example-live-proof.md": _with_version(
            LIVE_PROOF, f"the single reference example for the current `{v[1:]}` Wave surface"
        )
        for v in LIVE_PROOF_VERSIONS
    },
    **{
        f"waves/{v}/wave-example-design-handoff.md": _with_version(
            DESIGN, f"the shipped `design` worker role in `{v[1:]}`"
        )
        for v in DESIGN_VERSIONS
    },
}


def executor_settings(spec: ExecutorSpec) -> dict[str, Any]:
    """The typed value of every key the block set, keyed by markdown key, in file order."""
    out: dict[str, Any] = {}
    for key in spec.key_lines:
        key_spec = EXECUTOR_KEYS[key]
        holder: Any = spec if key_spec.group is None else getattr(spec, key_spec.group)
        out[key] = getattr(holder, field_name(key_spec))
    return out


# --------------------------------------------------------------------------------------------------
# Every file parses
# --------------------------------------------------------------------------------------------------


def test_conformance_data_is_present() -> None:
    assert len(ALL_FILES) == 34
    assert ANCHOR_WAVE.is_file()


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_every_conformance_file_parses(path: Path) -> None:
    wave = parse_wave_file(path)
    assert wave.agents
    assert wave.number is not None
    assert wave.path == str(path)


def test_every_distinct_content_has_hand_written_facts() -> None:
    by_hash: dict[str, list[str]] = {}
    for path in ALL_FILES:
        by_hash.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(_rel(path))
    uncovered = [files for files in by_hash.values() if not any(f in EXPECTED for f in files)]
    assert uncovered == []
    assert set(EXPECTED) == {_rel(p) for p in ALL_FILES}
    # The anchor repo's wave-0 is byte-identical to the v0.4.0 release copy; everything else differs.
    assert (DATA / "waves/v0.4.0/wave-0.md").read_bytes() == ANCHOR_WAVE.read_bytes()
    assert len(by_hash) == 33


# --------------------------------------------------------------------------------------------------
# Hand-read facts
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_wave_level_facts(rel: str) -> None:
    spec = EXPECTED[rel]
    wave = _parse(rel)
    assert wave.number == spec.number
    assert wave.heading == spec.heading
    assert wave.commit_message == spec.commit
    assert [(p.component_id, p.target_level) for p in wave.component_promotions] == spec.promotions
    assert wave.promoted == dict(spec.promotions)
    if spec.context7 is None:
        assert wave.context7_defaults is None
    else:
        assert wave.context7_defaults is not None
        assert (wave.context7_defaults.bundle, wave.context7_defaults.query) == spec.context7
    assert [(d.id, d.kind, d.is_default, d.notes) for d in wave.deploy_environments] == spec.deploy
    assert [(t.id, t.fields) for t in wave.eval_targets] == spec.evals
    assert [s.heading for s in wave.extra_sections] == spec.extra
    assert [(a.id, a.title) for a in wave.agents] == [(a.id, a.title) for a in spec.agents]
    assert spec.preamble_contains in wave.preamble
    assert "Commit message" not in wave.preamble


def _agent_cases() -> list[Any]:
    return [pytest.param(rel, a, id=f"{rel}::{a.id}") for rel, spec in sorted(EXPECTED.items()) for a in spec.agents]


@pytest.mark.parametrize(("rel", "expected"), _agent_cases())
def test_agent_facts(rel: str, expected: A) -> None:
    wave = _parse(rel)
    agent = wave.agent(expected.id)
    assert agent is not None
    assert agent.title == expected.title
    assert agent.slug == f"{EXPECTED[rel].number}-{expected.id.lower()}"
    assert agent.role_prompt_paths == expected.roles
    if expected.executor is None:
        assert agent.executor is None
    else:
        assert agent.executor is not None
        settings = executor_settings(agent.executor)
        assert settings == expected.executor
        assert list(settings) == list(expected.executor)  # file order is kept
    if expected.context7 is None:
        assert agent.context7 is None
    else:
        assert agent.context7 is not None
        assert (agent.context7.bundle, agent.context7.query) == expected.context7
    assert agent.skills == expected.skills
    assert agent.components == expected.components
    assert agent.capabilities == expected.capabilities
    if expected.exit is None:
        assert agent.exit_contract is None
    else:
        contract = agent.exit_contract
        assert contract is not None
        assert (contract.completion, contract.durability, contract.proof, contract.doc_impact) == expected.exit
        assert contract.problems() == []
    assert agent.deliverable_paths == expected.deliverables
    assert [(p.path, p.kind, p.required_for, p.fields) for p in agent.proof_artifacts] == [
        (*p, {}) for p in expected.proofs
    ]
    assert agent.owned == expected.owned
    assert all(agent.owns(d) for d in agent.deliverable_paths)
    assert agent.section_notes == expected.notes
    assert agent.extra_sections == []
    # No conformance prompt has a ``Validation:`` block or a ``### Validation`` section.
    assert agent.validation == []
    assert agent.prompt_fence == "text"


# The brief's table: (file, agent, first prompt line, last prompt line) for every agent.
PROMPT_EDGES = [
    (rel, a.id, a.first, a.last_line)
    for rel, spec in sorted(EXPECTED.items())
    if "wave-example-" not in rel or "v0.8.9" in rel
    for a in spec.agents
]


@pytest.mark.parametrize(("rel", "agent_id", "first", "last"), PROMPT_EDGES)
def test_prompt_first_and_last_line(rel: str, agent_id: str, first: str, last: str) -> None:
    agent = _parse(rel).agent(agent_id)
    assert agent is not None
    lines = agent.prompt.splitlines()
    assert lines[0] == first
    assert lines[-1] == last
    assert "```" not in agent.prompt


def test_prompt_edges_table_covers_enough_files() -> None:
    assert len({rel for rel, *_ in PROMPT_EDGES}) >= 6


# --------------------------------------------------------------------------------------------------
# Typed executor settings, spelled out
# --------------------------------------------------------------------------------------------------


def _agent(rel: str, agent_id: str) -> Agent:
    agent = _parse(rel).agent(agent_id)
    assert agent is not None
    return agent


def _exec(rel: str, agent_id: str) -> ExecutorSpec:
    spec = _agent(rel, agent_id).executor
    assert spec is not None
    return spec


def test_typed_codex_settings() -> None:
    spec = _exec("waves/v0.4.0/wave-0.md", "A0")
    assert spec.id == "codex"
    assert spec.model == "gpt-5-codex"
    assert spec.codex.profile_name == "review"
    assert spec.codex.search is True
    assert spec.codex.json_output is True
    assert spec.codex.ephemeral is None
    assert spec.vendor_groups_used() == {"codex"}


def test_typed_claude_json_settings() -> None:
    spec = _exec("anchor-repo-0.5.4/docs/plans/waves/wave-0.md", "A8")
    assert spec.id == "claude"
    assert spec.claude.settings_json == {"permissions": {"allow": ["Read"]}}
    assert spec.claude.hooks_json == {"Stop": [{"command": "echo integration-stop"}]}
    assert spec.vendor_groups_used() == {"claude"}


def test_typed_opencode_settings() -> None:
    a9 = _exec("waves/v0.6.0/wave-0.md", "A9")
    assert a9.opencode.files == ["README.md", "docs/plans/current-state.md"]
    assert a9.opencode.config_json == {"instructions": ["Keep shared plan docs concise and factual."]}
    a7 = _exec("waves/v0.8.9/wave-example-live-proof.md", "A7")
    d1 = _exec("waves/v0.8.9/wave-example-live-proof.md", "D1")
    assert (a7.id, a7.opencode.format, a7.opencode.steps) == ("opencode", "json", 12)
    assert (d1.id, d1.opencode.format, d1.opencode.steps) == ("opencode", "json", 10)


def test_typed_budget_retry_and_fallbacks() -> None:
    a1 = _exec("waves/v0.6.0/wave-example-live-proof.md", "A1")
    assert a1.budget.minutes == 45
    assert a1.budget.turns is None
    assert a1.fallbacks == ["claude", "opencode"]
    assert a1.profile == "implement-fast"
    assert a1.id is None
    a6 = _exec("waves/v0.6.0/wave-example-live-proof.md", "A6")
    assert a6.retry_policy == "sticky"
    assert a6.budget.minutes == 30
    a4 = _exec("waves/v0.7.2/wave-4.md", "A1")
    assert a4.fallbacks == ["claude", "opencode"]
    assert _exec("waves/v0.7.2/wave-1.md", "A4").fallbacks == ["claude"]


def test_typed_claude_enum_and_strings() -> None:
    e0 = _exec("waves/v0.7.0/wave-example-live-proof.md", "E0")
    assert e0.claude.output_format == "json"
    assert e0.claude.allowed_tools == ["Read", "Glob"]
    a0 = _exec("waves/v0.7.0/wave-example-rollout-fidelity.md", "A0")
    assert a0.profile == "deep-review"
    assert a0.claude.permission_mode == "plan"
    assert a0.claude.settings == ".claude/settings.json"
    assert a0.claude.output_format == "text"
    a1 = _exec("waves/v0.7.0/wave-example-rollout-fidelity.md", "A1")
    assert a1.codex.config == ["model_reasoning_effort=xhigh", "model_verbosity=low"]


def test_design_handoff_prose_between_bullets_is_a_note() -> None:
    d1 = _agent("waves/v0.8.9/wave-example-design-handoff.md", "D1")
    assert d1.skills == ["role-design"]
    assert d1.section_notes == {"Skills": DESIGN_NOTE}
    wave = _parse("waves/v0.8.9/wave-example-design-handoff.md")
    why = wave.extra_sections[0]
    assert why.body.startswith("This example demonstrates the intended boundary:")
    assert why.body.endswith("instead of hidden reasoning inside one agent transcript")
    # The trailing ``## Why ...`` section is not swallowed into Agent A2.
    assert _agent("waves/v0.8.9/wave-example-design-handoff.md", "A2").extra_sections == []


def test_example_waves_take_their_number_from_the_heading() -> None:
    assert _parse("waves/v0.7.0/wave-benchmark-improvement.md").number == 99
    assert _parse("waves/v0.7.0/wave-example-rollout-fidelity.md").number == 9
    assert _parse("waves/v0.8.9/wave-example-live-proof.md").number == 14
    assert _parse("waves/v0.8.9/wave-example-design-handoff.md").number == 12


def test_filename_number_wins_over_heading(tmp_path: Path) -> None:
    text = (DATA / "waves/v0.8.9/wave-example-design-handoff.md").read_text()
    target = tmp_path / "wave-3.md"
    target.write_text(text)
    wave = parse_wave_file(target)
    assert wave.number == 3
    assert wave.agents[0].slug == "3-a0"


# --------------------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_render_round_trip(path: Path) -> None:
    wave = parse_wave_file(path)
    rendered = render_wave(wave)
    again = parse_wave_text(rendered, path=str(path))
    assert again.semantic_dump() == wave.semantic_dump()
    # Rendering is a fixed point after one pass.
    assert render_wave(again) == rendered
    # Free prose the semantic dump ignores still survives rendering.
    assert again.heading == wave.heading
    assert again.preamble == wave.preamble
    assert [(s.heading, s.body) for s in again.extra_sections] == [(s.heading, s.body) for s in wave.extra_sections]
    assert [a.section_notes for a in again.agents] == [a.section_notes for a in wave.agents]


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_semantic_dump_drops_provenance(path: Path) -> None:
    dump = parse_wave_file(path).semantic_dump()

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    found = keys(dump)
    for provenance in ("line", "prompt_line", "section_lines", "section_notes", "key_lines", "preamble", "heading"):
        assert provenance not in found
    assert "prompt" in found and "agents" in found

"""Golden tests for the marker parser: every transport shape, every kind, every rejection."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_wave.engine.markers import MARKER_SPECS, parse_marker_line, scan_log, scan_markers
from pytest_wave.errors import WaveError
from pytest_wave.model.markers import MARKER_KINDS, Marker, MarkerScan, RejectedMarker

PROOF = "[wave-proof] completion=contract durability=none proof=unit state=met detail=ok"
PROOF_CANON = PROOF
GATE_PASS = "[wave-gate] architecture=pass integration=pass durability=pass live=pass docs=pass detail=ok"


def only(scan: MarkerScan) -> Marker:
    assert scan.rejected == [], scan.rejected
    assert len(scan.accepted) == 1, scan.accepted
    return scan.accepted[0]


def jl(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# --- transport shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(PROOF, id="plain"),
        pytest.param("   " + PROOF + "   ", id="indented"),
        pytest.param("- " + PROOF, id="dash-item"),
        pytest.param("* " + PROOF, id="star-item"),
        pytest.param("+ " + PROOF, id="plus-item"),
        pytest.param("1. " + PROOF, id="numbered-item"),
        pytest.param("12) " + PROOF, id="numbered-paren-item"),
        pytest.param(f"`{PROOF}`", id="backticks"),
        pytest.param(f"- `{PROOF}`", id="item-and-backticks"),
        pytest.param(PROOF + "\r", id="crlf"),
        pytest.param("[wave-proof] state=met detail=ok proof=unit durability=none completion=contract", id="reordered"),
        pytest.param("[wave-proof]completion=contract\tdurability=none  proof=unit state=met detail=ok", id="spacing"),
        pytest.param(
            "[wave-proof] completion=contract durability=none proof=unit state=complete detail=ok",
            id="complete-alias",
        ),
        pytest.param(
            "[wave-proof] completion=Contract durability=NONE proof=unit State=MET detail=ok", id="case-folded"
        ),
        pytest.param("[wave-PROOF] " + PROOF.split("] ", 1)[1], id="kind-case"),
        pytest.param(
            '[wave-proof] completion="contract" durability=none, proof=unit, state=met detail="ok"',
            id="quotes-and-commas",
        ),
    ],
)
def test_transport_shapes_give_the_same_marker(line: str) -> None:
    marker = only(scan_markers(f"some output\n{line}\nmore output\n"))
    assert marker.kind == "wave-proof"
    assert marker.canonical == PROOF_CANON
    assert marker.fields == {"completion": "contract", "durability": "none", "proof": "unit", "state": "met"}
    assert marker.line == 2
    assert marker.source == "text"
    assert marker.raw == line.strip()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"Finally emit `{PROOF}` as the last line.", id="prose-mention"),
        pytest.param(f"Final: {PROOF}", id="mid-line"),
        pytest.param("[WAVE-PROOF] " + PROOF.split("] ", 1)[1], id="upper-prefix"),
        pytest.param("`[wave-proof] completion=contract `x` state=met`", id="backtick-inside"),
        pytest.param(f"``{PROOF}``", id="double-backticks"),
        pytest.param(f"> {PROOF}", id="blockquote"),
        pytest.param(f"-{PROOF}", id="dash-without-space"),
        pytest.param("[wave-launcher] wave 0 started", id="tool-prefix"),
        pytest.param("[wave-local-executor] Unsafe deliverable path: /etc", id="local-executor-prefix"),
        pytest.param("[wave-proof completion=contract", id="unclosed-bracket"),
        pytest.param("", id="empty"),
    ],
)
def test_non_marker_lines_are_ignored(text: str) -> None:
    scan = scan_markers(text)
    assert scan.accepted == [] and scan.rejected == []
    assert scan.raw_count == 0


def test_detail_keeps_spaces_and_key_like_text() -> None:
    marker = only(
        scan_markers(
            "[wave-proof] completion=contract durability=none proof=unit state=met "
            "detail=raised timeout=30 for the retry path, see https://x.test/?a=b"
        )
    )
    assert marker.detail == "raised timeout=30 for the retry path, see https://x.test/?a=b"
    assert marker.extra == {}


def test_known_missing_key_after_detail_is_still_a_key() -> None:
    marker = only(
        scan_markers("[wave-proof] detail=all green completion=contract durability=none proof=unit state=met")
    )
    assert marker.detail == "all green"
    assert marker.fields["completion"] == "contract"


def test_unknown_keys_are_recorded_not_fatal() -> None:
    scan = scan_markers(
        "[wave-proof] completion=contract durability=none proof=unit state=met owner=A1 tests=42 detail=ok"
    )
    marker = only(scan)
    assert marker.extra == {"owner": "A1", "tests": "42"}
    assert marker.canonical == PROOF_CANON  # canonical form holds known keys only
    assert scan.unknown_keys == {"wave-proof": ["owner", "tests"]}


def test_trailing_words_after_last_value_become_the_detail() -> None:
    marker = only(scan_markers("[wave-proof] completion=contract durability=none proof=unit state=met (all green)"))
    assert marker.fields["state"] == "met"
    assert marker.detail == "(all green)"


def test_empty_detail_is_none() -> None:
    marker = only(scan_markers("[wave-doc-closure] state=closed detail="))
    assert marker.detail is None
    assert marker.canonical == "[wave-doc-closure] state=closed"


# --- every kind ----------------------------------------------------------------------------------

KIND_CASES: list[tuple[str, str, dict[str, str], str | None, str | None]] = [
    # line, kind, fields, positional value, detail
    (
        PROOF,
        "wave-proof",
        {"completion": "contract", "durability": "none", "proof": "unit", "state": "met"},
        None,
        "ok",
    ),
    (
        "[wave-proof] completion=live durability=durable proof=live state=gap detail=no live env",
        "wave-proof",
        {"completion": "live", "durability": "durable", "proof": "live", "state": "gap"},
        None,
        "no live env",
    ),
    (
        "[wave-doc-delta] state=shared-plan paths=docs/plans/current-state.md, docs/plans/migration.md detail=x",
        "wave-doc-delta",
        {"state": "shared-plan", "paths": "docs/plans/current-state.md,docs/plans/migration.md"},
        None,
        "x",
    ),
    ("[wave-doc-delta] state=none", "wave-doc-delta", {"state": "none"}, None, None),
    (
        "[wave-doc-closure] state=delta paths=docs/a.md detail=left open",
        "wave-doc-closure",
        {"state": "delta", "paths": "docs/a.md"},
        None,
        "left open",
    ),
    (
        "[wave-integration] state=needs-more-work claims=2 conflicts=1 blockers=0 detail=x",
        "wave-integration",
        {"state": "needs-more-work", "claims": "2", "conflicts": "1", "blockers": "0"},
        None,
        "x",
    ),
    (
        GATE_PASS,
        "wave-gate",
        dict.fromkeys(("architecture", "integration", "durability", "live", "docs"), "pass"),
        None,
        "ok",
    ),
    (
        "[wave-gate] architecture=pass integration=concerns durability=blocked live=gap docs=pass",
        "wave-gate",
        {"architecture": "pass", "integration": "concerns", "durability": "blocked", "live": "gap", "docs": "pass"},
        None,
        None,
    ),
    ("[wave-gap] kind=ops detail=no runbook", "wave-gap", {"kind": "ops"}, None, "no runbook"),
    (
        "[wave-component] component=Wave-Parser level=repo-landed state=complete detail=x",
        "wave-component",
        {"component": "Wave-Parser", "level": "repo-landed", "state": "met"},
        None,
        "x",
    ),
    ("[wave-verdict] pass detail=all closed", "wave-verdict", {}, "pass", "all closed"),
    ("[wave-verdict] HOLD", "wave-verdict", {}, "hold", None),
    ("[wave-verdict] fail detail=x", "wave-verdict", {}, "blocked", "x"),
    ("[wave-verdict] verdict=concerns detail=x", "wave-verdict", {}, "concerns", "x"),
    ("[wave-verdict] PASS - docs closed", "wave-verdict", {}, "pass", "docs closed"),
    ("[wave-phase] Validating", "wave-phase", {}, "validating", None),
    ("[wave-phase] custom_phase-2", "wave-phase", {}, "custom_phase-2", None),
    (
        "[deploy-status] service=api.v2:web state=healthy detail=200 OK",
        "deploy-status",
        {"service": "api.v2:web", "state": "healthy"},
        None,
        "200 OK",
    ),
    (
        "[deploy-status] state=rolled-back service=api",
        "deploy-status",
        {"service": "api", "state": "rolledover"},
        None,
        None,
    ),
    (
        "[infra-status] kind=dependency target=node@22/lts state=Drift detail=v20 found",
        "infra-status",
        {"kind": "dependency", "target": "node@22/lts", "state": "drift"},
        None,
        "v20 found",
    ),
    (
        "[wave-eval] state=satisfied targets=2 benchmarks=2 regressions=0 target_ids=a,b benchmark_ids=b1 detail=x",
        "wave-eval",
        {
            "state": "satisfied",
            "targets": "2",
            "benchmarks": "2",
            "regressions": "0",
            "target_ids": "a,b",
            "benchmark_ids": "b1",
        },
        None,
        "x",
    ),
    (
        "[wave-security] state=concerns findings=2 approvals=1 detail=needs-human-review",
        "wave-security",
        {"state": "concerns", "findings": "2", "approvals": "1"},
        None,
        "needs-human-review",
    ),
    (
        "[wave-design] state=ready-for-implementation detail=packet written",
        "wave-design",
        {"state": "ready-for-implementation"},
        None,
        "packet written",
    ),
]


@pytest.mark.parametrize(("line", "kind", "fields", "value", "detail"), KIND_CASES, ids=[c[0][:40] for c in KIND_CASES])
def test_every_kind(line: str, kind: str, fields: dict[str, str], value: str | None, detail: str | None) -> None:
    marker = only(scan_markers(line))
    assert (marker.kind, marker.fields, marker.value, marker.detail) == (kind, fields, value, detail)
    # the canonical line parses back to the same marker
    again = parse_marker_line(marker.canonical)
    assert isinstance(again, Marker)
    assert (again.kind, again.fields, again.value, again.detail) == (kind, fields, value, detail)
    assert again.canonical == marker.canonical


def test_kind_cases_cover_every_kind() -> None:
    assert {c[1] for c in KIND_CASES} == set(MARKER_KINDS) == set(MARKER_SPECS)


def test_marker_helpers() -> None:
    scan = scan_markers(
        "[wave-integration] state=ready-for-doc-closure claims=3 conflicts=0 blockers=1\n"
        "[wave-doc-closure] state=closed paths= a.md ,, b.md detail=x\n"
    )
    integration = scan.last("wave-integration")
    assert integration is not None
    assert integration.int_field("claims") == 3
    assert integration.int_field("missing") is None
    assert integration.state == "ready-for-doc-closure"
    closure = scan.last("wave-doc-closure")
    assert closure is not None and closure.paths == ["a.md", "b.md"]
    assert closure.get("paths") == "a.md,b.md"
    assert scan.has("wave-gate") is False


# --- rejections: malformed is not absent ----------------------------------------------------------

REJECTIONS: list[tuple[str, str, str]] = [
    # line, reason, text the message must contain
    ("[wave-proof] completion=contract state=met", "invalid-wave-proof-format", "missing durability, proof"),
    ("[wave-proof]", "invalid-wave-proof-format", "missing completion"),
    (
        "[wave-proof] completion=contract durability=none proof=unit state=done",
        "invalid-wave-proof-format",
        "state=done",
    ),
    ("[wave-proof] completion=contract durability=none proof=e2e state=met", "invalid-wave-proof-format", "proof=e2e"),
    (
        "[wave-proof] completion=contract durability=none proof=unit status=met",
        "invalid-wave-proof-format",
        "unknown keys: status",
    ),
    (
        "[wave-proof] completion=contract durability=none proof=unit state=met state=gap",
        "invalid-wave-proof-format",
        "given twice",
    ),
    (
        "[wave-proof] final completion=contract durability=none proof=unit state=met",
        "invalid-wave-proof-format",
        "unexpected text",
    ),
    (
        "[wave-proof] completion=contract durability=none proof=unit state=met oops detail=x",
        "invalid-wave-proof-format",
        "unexpected text 'oops'",
    ),
    (
        "[wave-proof] completion=<contract|live> durability=none proof=unit state=met",
        "invalid-wave-proof-format",
        "completion",
    ),
    (
        "[wave-gate] architecture=pass integration=pass durability=pass live=hold docs=pass",
        "invalid-wave-gate-format",
        "live=hold",
    ),
    (
        "[wave-gate] architecture=pass integration=pass live=pass docs=pass",
        "invalid-wave-gate-format",
        "missing durability",
    ),
    (
        "[wave-integration] state=ready-for-doc-closure claims=some conflicts=0 blockers=0",
        "invalid-wave-integration-format",
        "claims=some is not a count",
    ),
    ("[wave-component] component=a/b level=x state=met", "invalid-wave-component-format", "component=a/b"),
    ("[wave-component] component=a level=x state=", "invalid-wave-component-format", "state is empty"),
    ("[wave-verdict] detail=x", "invalid-wave-verdict-format", "missing verdict"),
    ("[wave-verdict] maybe", "invalid-wave-verdict-format", "verdict=maybe"),
    ("[wave-verdict] pass verdict=blocked", "invalid-wave-verdict-format", "verdict given twice"),
    ("[wave-phase]", "invalid-wave-phase-format", "missing phase"),
    ("[wave-phase] 9lives", "invalid-wave-phase-format", "phase=9lives"),
    ("[wave-gap] kind=security", "invalid-wave-gap-format", "kind=security"),
    ("[wave-doc-delta] state=partial", "invalid-wave-doc-delta-format", "state=partial"),
    ("[wave-doc-closure] paths=a.md", "invalid-wave-doc-closure-format", "missing state"),
    ("[deploy-status] service=api state=up", "invalid-deploy-status-format", "state=up"),
    ("[infra-status] kind=dependency state=conformant", "invalid-infra-status-format", "missing target"),
    ("[wave-eval] state=satisfied targets=2", "invalid-wave-eval-format", "missing benchmarks, regressions"),
    ("[wave-security] state=clear", "invalid-wave-security-format", "missing findings, approvals"),
    ("[wave-design] state=done", "invalid-wave-design-format", "state=done"),
    ("[wave-proff] completion=contract", "unknown-marker-kind", "not a marker kind"),
]


@pytest.mark.parametrize(("line", "reason", "needle"), REJECTIONS, ids=[r[0][:48] for r in REJECTIONS])
def test_rejections(line: str, reason: str, needle: str) -> None:
    scan = scan_markers(f"noise\n- {line}\n")
    assert scan.accepted == []
    assert len(scan.rejected) == 1
    rejected = scan.rejected[0]
    assert rejected.reason == reason
    assert needle in rejected.message
    assert rejected.line == 2
    assert rejected.raw == f"- {line}"
    assert (scan.raw_count, scan.accepted_count, scan.rejected_count) == (1, 0, 1)


def test_malformed_never_counts_as_present() -> None:
    scan = scan_markers("[wave-proof] completion=contract state=met\n")
    assert scan.last("wave-proof") is None
    assert not scan.has("wave-proof")
    assert [r.reason for r in scan.rejected_for("wave-proof")] == ["invalid-wave-proof-format"]
    absent = scan_markers("nothing here\n")
    assert absent.rejected_for("wave-proof") == [] and absent.last("wave-proof") is None


def test_counts() -> None:
    scan = scan_markers("\n".join([PROOF, "[wave-proof] state=met", PROOF, GATE_PASS, "[wave-x] y"]))
    assert scan.raw_count == 5
    assert scan.accepted_count == 2
    assert scan.rejected_count == 2
    assert scan.duplicate_count == 1
    dumped = scan.model_dump()
    assert dumped["accepted_count"] == 2 and dumped["rejected_count"] == 2


def test_scan_dump_round_trips() -> None:
    scan = scan_markers(CODEX_JSONL + "\n" + LOCAL_IMPL)
    dumped = scan.model_dump_json()
    assert MarkerScan.model_validate_json(dumped) == scan
    assert json.loads(dumped)["accepted_count"] == scan.accepted_count


# --- which marker is authoritative ---------------------------------------------------------------


def test_last_valid_marker_of_a_kind_wins() -> None:
    scan = scan_markers(
        "[wave-gate] architecture=pass integration=pass durability=pass live=blocked docs=pass\n"
        f"{GATE_PASS}\n"
        "[wave-gate] architecture=pass integration=pass\n"  # a later malformed one does not hide it
    )
    gate = scan.last("wave-gate")
    assert gate is not None and gate.fields["live"] == "pass"
    assert len(scan.all("wave-gate")) == 2
    assert len(scan.rejected_for("wave-gate")) == 1


def test_verdict_is_last_match_in_the_scanned_attempt() -> None:
    scan = scan_markers("[wave-verdict] blocked detail=first pass\n[wave-verdict] pass detail=after fixes\n")
    verdict = scan.last("wave-verdict")
    assert verdict is not None and verdict.value == "pass"


def test_components_last_per_component() -> None:
    scan = scan_markers(
        "[wave-component] component=a level=repo-landed state=gap\n"
        "[wave-component] component=b level=repo-landed state=met\n"
        "[wave-component] component=a level=repo-landed state=met\n"
    )
    components = scan.components()
    assert list(components) == ["b", "a"]
    assert components["a"].state == "met"


def test_gaps_are_all_collected() -> None:
    scan = scan_markers(
        "[wave-gap] kind=docs detail=one\n[wave-gap] kind=ops detail=two\n[wave-gap] kind=docs detail=one\n"
    )
    assert [m.fields["kind"] for m in scan.all("wave-gap")] == ["ops", "docs"]


def test_dedupe_keeps_the_last_position() -> None:
    x = "[wave-gate] architecture=pass integration=pass durability=pass live=pass docs=pass"
    y = "[wave-gate] architecture=pass integration=pass durability=pass live=blocked docs=pass"
    scan = scan_markers("\n".join([x, y, x]))
    gate = scan.last("wave-gate")
    assert gate is not None and gate.fields["live"] == "pass" and gate.line == 3
    assert scan.duplicate_count == 1
    assert [m.line for m in scan.accepted] == [2, 3]


def test_markers_differing_in_unknown_keys_are_not_merged() -> None:
    scan = scan_markers(f"{PROOF}\n{PROOF} run=2\n")
    assert scan.duplicate_count == 0 and len(scan.accepted) == 2


# --- fences ----------------------------------------------------------------------------------


def test_prose_fence_with_an_example_marker_does_not_count() -> None:
    text = f"The prompt wants this format:\n```\nEmit a line like this one:\n{PROOF}\n```\nWork in progress.\n"
    scan = scan_markers(text)
    assert scan.accepted == [] and scan.rejected == []
    assert scan.fenced_dropped == 1
    assert scan.raw_count == 0


def test_marker_only_fence_counts() -> None:
    text = f"Final markers:\n```text\n{PROOF}\n\n- [wave-doc-delta] state=owned detail=ok\n```\ndone\n"
    scan = scan_markers(text)
    assert [(m.kind, m.line) for m in scan.accepted] == [("wave-proof", 3), ("wave-doc-delta", 5)]
    assert scan.fenced_dropped == 0


def test_empty_fence_and_tilde_fence() -> None:
    assert scan_markers("```\n\n```\n").accepted == []
    scan = scan_markers(f"~~~\nexample:\n{PROOF}\n~~~\n{GATE_PASS}\n")
    assert [m.kind for m in scan.accepted] == ["wave-gate"]
    assert scan.fenced_dropped == 1


def test_fence_needs_a_matching_close() -> None:
    # a ```python line inside a ```` fence does not close it, and the shorter ``` does not either
    text = f"````\n```python\n{PROOF}\n```\n````\n{GATE_PASS}\n"
    scan = scan_markers(text)
    assert [m.kind for m in scan.accepted] == ["wave-gate"]


def test_inline_triple_backticks_are_not_a_fence() -> None:
    scan = scan_markers(f"see ```code``` here\n```x```\n{PROOF}\n")
    assert [m.kind for m in scan.accepted] == ["wave-proof"]


def test_unterminated_fence_at_eof_falls_back_to_lines() -> None:
    text = f"work done\n```\n{PROOF}\nsome prose the agent left\n{GATE_PASS}"
    scan = scan_markers(text)
    assert [(m.kind, m.line) for m in scan.accepted] == [("wave-proof", 3), ("wave-gate", 5)]


def test_fence_then_markers_after_it() -> None:
    text = f"```bash\npytest -q\n[wave-proof] completion=live\n```\n{PROOF}\n"
    scan = scan_markers(text)
    assert [m.line for m in scan.accepted] == [5]
    assert scan.rejected == []  # the fenced malformed example is dropped, not rejected


# --- the local executor (executors.md 8.5) ---------------------------------------------------------

LOCAL_IMPL = """\
[local-executor] prompt=.tmp/main-wave-launcher/prompts/wave-0-a1.prompt.md
[local-executor] deliverables=README.md, docs/plans/wave-orchestrator.md
[local-executor] exists: README.md
[local-executor] created: docs/plans/wave-orchestrator.md
[wave-proof] completion=contract durability=none proof=unit state=met detail=local-executor-smoke
[wave-doc-delta] state=owned detail=local-executor-smoke
[wave-component] component=wave-parser-and-launcher level=repo-landed state=met detail=local-executor-smoke
[wave-component] component=starter-docs-and-adoption-guidance level=repo-landed state=met detail=local-executor-smoke
[local-executor] completed.
"""


def test_local_executor_implementation_agent() -> None:
    scan = scan_markers(LOCAL_IMPL)
    assert scan.rejected == []
    assert [m.kind for m in scan.accepted] == ["wave-proof", "wave-doc-delta", "wave-component", "wave-component"]
    assert all(m.detail == "local-executor-smoke" for m in scan.accepted)
    assert all(m.canonical == m.raw for m in scan.accepted)  # the local executor already prints canonical lines
    assert list(scan.components()) == ["wave-parser-and-launcher", "starter-docs-and-adoption-guidance"]
    proof = scan.last("wave-proof")
    assert proof is not None and proof.line == 5


@pytest.mark.parametrize(
    ("output", "kinds"),
    [
        pytest.param(
            "[local-executor] prompt=p.md\n[local-executor] deliverables=docs/reviews/wave-0-review.md\n"
            "[local-executor] created: docs/reviews/wave-0-review.md\n"
            "[wave-gate] architecture=pass integration=pass durability=pass live=pass docs=pass "
            "detail=local-executor-smoke\n"
            "[wave-verdict] pass detail=local-executor-smoke\n[local-executor] completed.\n",
            ["wave-gate", "wave-verdict"],
            id="evaluator",
        ),
        pytest.param(
            "[local-executor] no deliverables detected; nothing to do.\n"
            "[wave-integration] state=ready-for-doc-closure claims=0 conflicts=0 blockers=0 "
            "detail=local-executor-no-deliverables\n",
            ["wave-integration"],
            id="integration",
        ),
        pytest.param(
            "[local-executor] no deliverables detected; nothing to do.\n"
            "[wave-doc-closure] state=no-change detail=local-executor-no-deliverables\n",
            ["wave-doc-closure"],
            id="documentation",
        ),
        pytest.param(
            "[local-executor] no deliverables detected; nothing to do.\n"
            "[wave-proof] completion=contract durability=none proof=unit state=met "
            "detail=local-executor-no-deliverables\n"
            "[wave-doc-delta] state=none detail=local-executor-no-deliverables\n",
            ["wave-proof", "wave-doc-delta"],
            id="no-deliverables",
        ),
        pytest.param("[wave-local-executor] Deliverable escapes repo root: ../x\n", [], id="error"),
    ],
)
def test_local_executor_roles(output: str, kinds: list[str]) -> None:
    scan = scan_markers(output)
    assert scan.rejected == []
    assert [m.kind for m in scan.accepted] == kinds
    assert all(m.canonical == m.raw for m in scan.accepted)


def test_codex_plain_transcript_echoing_the_prompt() -> None:
    # codex without --json echoes the prompt (stderr, merged into the log by the wrapper); the
    # assigned prompt sits in a bare fence with prose, so its example markers never count.
    text = (
        "OpenAI Codex v0.169.0\n--------\nworkdir: /repo\nmodel: gpt-6.1-sol\n--------\nuser\n"
        "Assigned implementation prompt:\n```\nImplement the parser.\nFinish with lines like:\n"
        f"{PROOF}\n"
        "- `[wave-doc-delta] state=<none|owned|shared-plan> detail=<short-note>`\n```\n"
        "codex\nDone.\n"
        "[wave-proof] completion=integrated durability=none proof=integration state=met detail=real\n"
        "tokens used: 4,211\n"
    )
    scan = scan_markers(text)
    proof = only(scan)
    assert (proof.fields["completion"], proof.line) == ("integrated", 16)
    assert scan.fenced_dropped == 2


# --- markers inside JSON event lines -------------------------------------------------------------

CODEX_FINAL = (
    "Review complete: all exit contracts hold.\n\n"
    "[wave-gate] architecture=pass integration=pass durability=pass live=gap docs=pass detail=no live env\n"
    "[wave-verdict] pass detail=docs closed"
)
CODEX_JSONL = "\n".join(
    [
        "Reading prompt from stdin...",
        jl({"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"}),
        jl({"type": "turn.started"}),
        jl(
            {
                "type": "item.completed",
                "item": {
                    "id": "item_0",
                    "type": "reasoning",
                    "text": "**Reading the role prompt**\n\nIt wants a `[wave-gate]` line and a verdict.",
                },
            }
        ),
        jl(
            {
                "type": "item.started",
                "item": {
                    "id": "item_1",
                    "type": "command_execution",
                    "command": "bash -lc 'cat docs/agents/wave-evaluator-role.md'",
                    "aggregated_output": "",
                    "exit_code": None,
                    "status": "in_progress",
                },
            }
        ),
        jl(
            {
                "type": "item.completed",
                "item": {
                    "id": "item_1",
                    "type": "command_execution",
                    "command": "bash -lc 'cat docs/agents/wave-evaluator-role.md'",
                    "aggregated_output": "Verdict contract:\n  `[wave-gate] architecture=<pass|concerns|blocked> "
                    "integration=<pass|concerns|blocked> durability=<pass|concerns|blocked> "
                    "live=<pass|concerns|blocked> docs=<pass|concerns|blocked> detail=<short-note>`\n",
                    "exit_code": 0,
                    "status": "completed",
                },
            }
        ),
        jl({"type": "item.completed", "item": {"id": "item_2", "type": "agent_message", "text": CODEX_FINAL}}),
        jl(
            {
                "type": "turn.completed",
                "usage": {"input_tokens": 24763, "cached_input_tokens": 24448, "output_tokens": 122},
            }
        ),
    ]
)


def test_codex_json_markers_in_item_text() -> None:
    scan = scan_markers(CODEX_JSONL)
    gate, verdict = scan.accepted
    assert (gate.kind, gate.line, gate.source) == ("wave-gate", 7, "item.text")
    assert gate.fields["live"] == "gap"
    assert (verdict.kind, verdict.value, verdict.detail) == ("wave-verdict", "pass", "docs closed")
    # the role doc's template line was read by a command: marker-shaped, but not a claim
    (template,) = scan.rejected
    assert template.source == "item.aggregated_output" and template.line == 6
    assert template.reason == "invalid-wave-gate-format"


def test_codex_command_output_markers_count() -> None:
    # e.g. the agent ran a helper that prints the canonical marker (`wave signal proof ...`)
    event = {
        "type": "item.completed",
        "item": {"type": "command_execution", "command": "wave signal proof", "aggregated_output": PROOF + "\n"},
    }
    marker = only(scan_markers(jl(event)))
    assert marker.source == "item.aggregated_output"


CLAUDE_FINAL = (
    "Implemented the parser and its tests.\n\n```text\n"
    f"{PROOF}\n"
    "[wave-doc-delta] state=owned paths=docs/markers.md detail=ok\n"
    "[wave-component] component=marker-parser level=repo-landed state=met detail=ok\n```"
)
CLAUDE_STREAM = "\n".join(
    [
        jl(
            {
                "type": "system",
                "subtype": "init",
                "cwd": "/repo",
                "session_id": "9b0e3c1a",
                "tools": ["Bash", "Edit", "Read", "Write"],
                "model": "claude-opus-4-8",
                "permissionMode": "acceptEdits",
            }
        ),
        jl(
            {
                "type": "assistant",
                "message": {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_01",
                            "name": "Write",
                            "input": {
                                "file_path": "/repo/docs/markers.md",
                                "content": "# Markers\n\n[wave-proof] completion=live durability=durable "
                                "proof=live state=met detail=example\n",
                            },
                        }
                    ],
                },
                "session_id": "9b0e3c1a",
            }
        ),
        jl(
            {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "tool_use_id": "toolu_01",
                            "type": "tool_result",
                            "content": "File created successfully at: /repo/docs/markers.md",
                        }
                    ],
                },
            }
        ),
        jl(
            {
                "type": "stream_event",
                "event": {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "```text\n[wave-proof] completion=contract durab"},
                },
            }
        ),
        jl(
            {
                "type": "assistant",
                "message": {
                    "id": "msg_02",
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": CLAUDE_FINAL}],
                },
            }
        ),
        jl(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "duration_ms": 5210,
                "num_turns": 2,
                "result": CLAUDE_FINAL,
                "session_id": "9b0e3c1a",
                "total_cost_usd": 0.0123,
            }
        ),
    ]
)


def test_claude_stream_json_dedupes_the_result_echo() -> None:
    scan = scan_markers(CLAUDE_STREAM)
    assert scan.rejected == []  # the half-line streaming delta is skipped
    assert [m.kind for m in scan.accepted] == ["wave-proof", "wave-doc-delta", "wave-component"]
    assert all(m.line == 6 and m.source == "result" for m in scan.accepted)  # last position kept
    assert scan.duplicate_count == 3
    proof = scan.last("wave-proof")
    # the example proof written into docs/markers.md (a tool input) is not a claim
    assert proof is not None and proof.fields["completion"] == "contract"


def test_claude_stream_json_without_result_still_has_markers() -> None:
    lines = CLAUDE_STREAM.splitlines()[:-1]  # killed before the result event
    scan = scan_markers("\n".join(lines))
    assert [m.source for m in scan.accepted] == ["message.content[0].text"] * 3


def test_claude_json_single_result() -> None:
    line = jl({"type": "result", "subtype": "success", "is_error": False, "result": "Closed.\n" + GATE_PASS})
    marker = only(scan_markers(line))
    assert (marker.kind, marker.source) == ("wave-gate", "result")


def test_claude_json_verbose_array() -> None:
    line = jl([{"type": "system", "subtype": "init"}, {"type": "result", "result": "[wave-verdict] pass"}])
    marker = only(scan_markers(line))
    assert marker.source == "[1].result"


def test_claude_max_turns_result_has_no_markers() -> None:
    line = jl({"type": "result", "subtype": "error_max_turns", "is_error": True, "num_turns": 1})
    assert scan_markers(line + "\nError: Reached max turns (1)\n").raw_count == 0


OPENCODE_JSONL = "\n".join(
    [
        jl({"type": "step_start", "timestamp": 1763940000000, "sessionID": "ses_1", "part": {"type": "step-start"}}),
        jl(
            {
                "type": "tool_use",
                "timestamp": 1763940001000,
                "sessionID": "ses_1",
                "part": {
                    "type": "tool",
                    "tool": "write",
                    "state": {
                        "status": "completed",
                        "input": {"filePath": "/repo/x.md", "content": "[wave-doc-closure] state=delta\n"},
                        "output": "Wrote file successfully.",
                    },
                },
            }
        ),
        jl({"type": "step_finish", "sessionID": "ses_1", "part": {"type": "step-finish", "reason": "tool-calls"}}),
        jl(
            {
                "type": "text",
                "timestamp": 1763940002000,
                "sessionID": "ses_1",
                "part": {
                    "type": "text",
                    "text": "Docs are current.\n[wave-doc-closure] state=no-change detail=mock-llm",
                },
            }
        ),
        jl({"type": "step_finish", "sessionID": "ses_1", "part": {"type": "step-finish", "reason": "stop"}}),
    ]
)


def test_opencode_json_text_part() -> None:
    marker = only(scan_markers(OPENCODE_JSONL))
    assert (marker.kind, marker.state, marker.line, marker.source) == ("wave-doc-closure", "no-change", 4, "part.text")


def test_json_string_with_prose_fence_is_filtered() -> None:
    text = "Example of the format:\n```\nlike this:\n" + PROOF + "\n```\nstill working"
    scan = scan_markers(jl({"type": "item.completed", "item": {"type": "agent_message", "text": text}}))
    assert scan.accepted == [] and scan.fenced_dropped == 1


def test_torn_and_non_object_json_lines_do_not_raise() -> None:
    torn = '{"type":"item.completed","item":{"type":"agent_message","text":"[wave-proof] completion=contr'
    scan = scan_markers("\n".join([torn, '{"not json [wave-proof]}', '"[wave-proof] x"', "[1, 2]", "{}"]))
    assert scan.accepted == [] and scan.rejected == []


def test_nested_json_inside_a_json_string() -> None:
    inner = jl({"type": "item.completed", "item": {"type": "agent_message", "text": PROOF}})
    outer = jl({"type": "user", "message": {"content": [{"type": "tool_result", "content": "log tail:\n" + inner}]}})
    marker = only(scan_markers(outer))
    assert marker.source == "message.content[0].content:item.text"


def test_plain_and_json_lines_mixed() -> None:
    text = "\n".join([PROOF, jl({"result": PROOF}), GATE_PASS])
    scan = scan_markers(text)
    assert [(m.kind, m.line) for m in scan.accepted] == [("wave-proof", 2), ("wave-gate", 3)]


# --- files and attempt scoping ---------------------------------------------------------------------


def test_scan_log_from_an_attempt_offset(tmp_path: Path) -> None:
    log = tmp_path / "wave-0-a0.log"
    first = "[wave-verdict] blocked detail=attempt 1\n"
    second = "attempt 2 output\n[wave-verdict] pass detail=attempt 2\n"
    log.write_text(first + second, encoding="utf-8")
    whole = scan_log(log)
    assert [m.value for m in whole.all("wave-verdict")] == ["blocked", "pass"]
    scoped = scan_log(log, offset=len(first.encode()))
    verdict = only(scoped)
    assert (verdict.value, verdict.line) == ("pass", 3)  # file-absolute line number


def test_scan_log_bad_bytes_and_missing_file(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"\xff\xfe garbage\n" + PROOF.encode() + b"\n\xc3")
    assert only(scan_log(log)).line == 2
    with pytest.raises(WaveError) as info:
        scan_log(tmp_path / "missing.log")
    assert "missing.log" in str(info.value)


def test_parse_marker_line() -> None:
    assert parse_marker_line("hello") is None
    assert isinstance(parse_marker_line("[wave-proof] state=met"), RejectedMarker)
    marker = parse_marker_line(f"- `{PROOF}`", line_no=9)
    assert isinstance(marker, Marker) and marker.line == 9


def test_five_megabyte_log_is_fast() -> None:
    filler = "2026-11-25T03:00:00Z exec bash -lc 'pytest -q' succeeded in 1.2s: 120 passed, ```ok\n"
    event = jl({"type": "item.completed", "item": {"type": "agent_message", "text": "progress\n[wave-phase] coding"}})
    chunk = filler * 40 + event + "\n"
    text = chunk * (5_000_000 // len(chunk)) + CODEX_JSONL
    assert len(text) > 4_900_000
    start = time.perf_counter()
    scan = scan_markers(text)
    elapsed = time.perf_counter() - start
    assert scan.last("wave-gate") is not None
    assert elapsed < 1.0, elapsed


# --- properties --------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "[wave-proof] ",
        "[wave-gate]",
        "[wave-verdict] pass",
        "[deploy-status] ",
        "[infra-status]",
        "[wave-",
        "completion=contract ",
        "state=",
        "met",
        " detail=",
        "=",
        "`",
        "```",
        "~~~",
        "\n",
        "- ",
        "1. ",
        "{",
        "}",
        '{"text":"',
        '"}',
        "\\n",
        "[",
        "]",
        " ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join))
def test_random_text_never_raises(text: str) -> None:
    scan = scan_markers(text)
    assert scan.raw_count == scan.accepted_count + scan.rejected_count + scan.duplicate_count
    for marker in scan.accepted:
        again = parse_marker_line(marker.canonical)
        assert isinstance(again, Marker) and again.canonical == marker.canonical


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    scan_markers(text)
    scan_markers("[wave-proof] " + text)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .,-_/:", min_size=1, max_size=20).filter(
    lambda s: s.strip() != "" and "=" not in s
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(MARKER_SPECS)),
    st.permutations(range(6)),
    st.one_of(st.none(), WORD),
    st.booleans(),
)
def test_valid_markers_round_trip_in_any_key_order(
    kind: str, order: list[int], detail: str | None, fence: bool
) -> None:
    example = next(c for c in KIND_CASES if c[1] == kind)
    fields, value = example[2], example[3]
    pairs = [f"{k}={v}" for k, v in fields.items()]
    pairs = [pairs[i] for i in order if i < len(pairs)]
    line = " ".join([f"[{kind}]", *([value] if value else []), *pairs, *([f"detail={detail}"] if detail else [])])
    text = f"```\n{line}\n```" if fence else f"prose\n{line}\n"
    marker = only(scan_markers(text))
    assert marker.fields == fields and marker.value == value
    assert marker.detail == (detail.strip() if detail else None)

"""Every wave attempt leaves a hermetic trace bundle with a versioned, hashed manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tracekit import STATE, load_json

from pytest_wave.traces.bundle import TRACE_VERSION, Bundle, TraceManifest, verify_files

pytestmark = pytest.mark.slow

AGENTS = ["A1", "A2", "A8", "A9", "A0"]


def bundle_of(repo: Path, attempt: int = 1) -> Path:
    return repo / STATE / "traces" / "wave-1" / f"attempt-{attempt}"


def test_bundle_of_a_closed_run_holds_what_the_issue_lists(recorded: Path) -> None:
    folder = bundle_of(recorded)
    manifest = TraceManifest.model_validate(load_json(folder / "run-metadata.json"))
    assert load_json(folder / "run-metadata.json")["traceVersion"] == TRACE_VERSION == 2
    assert manifest.replay_mode == "hermetic"
    assert manifest.verdict.closed and manifest.verdict.final
    assert [agent.agent_id for agent in manifest.agents] == AGENTS
    # Wave file and its hash; every file hashed, nothing missing or extra.
    wave_bytes = (recorded / "waves" / "wave-1.md").read_bytes()
    assert (folder / manifest.wave_copy).read_bytes() == wave_bytes
    assert manifest.wave_sha256 == hashlib.sha256(wave_bytes).hexdigest()
    assert verify_files(Bundle.load(folder)) == []
    assert all(entry.sha256 for entry in manifest.files if entry.present)
    # Per agent: prompt + fingerprint, log, status, task, inbox, result - copies, not links.
    run = load_json(folder / "wave.json")
    for agent in manifest.agents:
        assert agent.launched_in_attempt and agent.status == "passed"
        assert agent.prompt_fingerprint == run["agents"][agent.agent_id]["prompt_hash"]
        for rel in (agent.prompt, agent.log, agent.status_file, agent.task, agent.inbox, agent.result):
            assert rel is not None and (folder / rel).is_file() and not (folder / rel).is_symlink(), rel
    a1 = manifest.agent("A1")
    assert a1 is not None and len(a1.validation_logs) == 1
    for rel in (
        "coordination.raw.jsonl",
        "coordination.materialized.json",
        "ledger.json",
        "docs-queue.json",
        "integration.json",
        "dependency-snapshot.json",
        "shared-summary.md",
        "tree/out/a1/part.py",
        "tree/out/reviews/wave-1-evaluator.md",
        "tree/docs/agents/wave-evaluator-role.md",
        "tree-changes/A8.json",
        "tree-changes/A0.json",
    ):
        assert (folder / rel).is_file(), rel
    # Markers as the logs yield them, exit-contract outcomes, closure verdicts and the recorded verdict.
    found = load_json(folder / "markers.json")
    assert found["A1"]["accepted"] == run["agents"]["A1"]["markers"]
    assert any(m.startswith("[wave-gate]") for m in found["A0"]["accepted"])
    closure = load_json(folder / "closure.json")
    assert closure["integration"]["recommendation"] == "ready-for-doc-closure"
    assert closure["documentation"]["marker"].startswith("[wave-doc-closure]")
    assert closure["evaluator"]["verdict"] == "pass"
    outcome = load_json(folder / "outcome.json")
    assert outcome["closed"] is True and outcome["final"] is True
    assert outcome["agents"] == dict.fromkeys(AGENTS, "passed")
    assert {check["name"] for check in outcome["barrier"]} >= {"coordination: open blocking records"}
    # Concurrency timeline, spend, quality.
    timeline = load_json(folder / "timeline.json")
    assert {row["agentId"] for row in timeline["agents"]} == set(AGENTS)
    assert all(row["finishedAt"] >= row["startedAt"] > 0 for row in timeline["agents"])
    assert timeline["maxConcurrency"] >= 1
    budgets = load_json(folder / "budgets.json")
    assert set(budgets["agents"]) == set(AGENTS)
    assert budgets["agents"]["A1"]["executor"]["id"] == "local"
    assert budgets["agents"]["A1"]["retries"] == 0
    assert budgets["options"]["maxRetries"] == 1
    quality = load_json(folder / "quality.json")
    assert quality == outcome["quality"]
    assert quality["proofCompletenessRatio"] == 1.0
    assert quality["finalRecommendation"] == "ready-for-doc-closure"


def test_every_attempt_gets_a_bundle(retried: Path) -> None:
    first = TraceManifest.model_validate(load_json(bundle_of(retried, 1) / "run-metadata.json"))
    second = TraceManifest.model_validate(load_json(bundle_of(retried, 2) / "run-metadata.json"))
    assert (first.verdict.closed, first.verdict.final) == (False, False)
    assert first.verdict.reason and first.verdict.reason.startswith("A1: validation")
    assert (second.verdict.closed, second.verdict.final) == (True, True)
    assert not (bundle_of(retried, 1) / "wave.json").exists()
    assert (bundle_of(retried, 2) / "wave.json").is_file()
    a1 = second.agent("A1")
    a2 = second.agent("A2")
    assert a1 is not None and a1.launched_in_attempt and a1.latest_attempt == 2
    assert a2 is not None and not a2.launched_in_attempt and a2.latest_attempt == 1
    quality = load_json(bundle_of(retried, 2) / "quality.json")
    assert quality["relaunchCountByRole"] == {"implementation": 1}
    budgets = load_json(bundle_of(retried, 2) / "budgets.json")
    assert budgets["agents"]["A1"]["retries"] == 1

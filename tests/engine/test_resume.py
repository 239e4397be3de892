"""Resume in the engine, without pytest's runner: real wave runs of the local executor, on disk."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2ekit import write_repo

from pytest_wave.coordination import engine as coordination_engine
from pytest_wave.engine import resume
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.wave_run import WaveRun


def _agent(agent_id: str, title: str, deliverable: str, owned: str, role_prompt: str | None = None) -> str:
    roles = f"### Role prompts\n\n- {role_prompt}\n\n" if role_prompt else ""
    contract = (
        ""
        if role_prompt
        else "### Exit contract\n\n- completion: contract\n- durability: none\n- proof: unit\n- doc-impact: owned\n\n"
    )
    return (
        f"## Agent {agent_id}: {title}\n\n{roles}### Executor\n\n- id: local\n\n### Deliverables\n\n- {deliverable}\n\n"
        f"{contract}### Prompt\n\n```text\nDo {title}.\n\nFile ownership (only touch these paths):\n- {owned}\n```\n"
    )


WAVE = "\n".join(
    [
        "# Wave 1 - Resume\n\n**Commit message**: `Resume`\n",
        _agent("A1", "Part 1", "out/a1/part.py", "out/a1/"),
        _agent("A2", "Part 2", "out/a2/part.py", "out/a2/"),
        _agent("A8", "Integration", "out/integration.md", "out/integration.md", "docs/agents/wave-integration-role.md"),
        _agent("A9", "Documentation", "out/STATUS.md", "out/STATUS.md", "docs/agents/wave-documentation-role.md"),
        _agent(
            "A0",
            "Evaluator",
            "out/reviews/wave-1-evaluator.md",
            "out/reviews/wave-1-evaluator.md",
            "docs/agents/wave-evaluator-role.md",
        ),
    ]
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", {1: WAVE})


def _ctx(repo: Path, **options: object) -> WaveContext:
    return WaveContext.load(repo / "waves" / "wave-1.md", RunOptions(**options))  # type: ignore[arg-type]


def _statuses(run: WaveRun) -> dict[str, str]:
    return {agent: result.status for agent, result in run.results().items()}


def test_a_closed_run_is_reused_whole_and_a_changed_file_reruns_its_owner(repo: Path) -> None:
    first = WaveRun(_ctx(repo), "20260101T000000-aaaaaa")
    assert first.run().closed
    a1 = first.results()["A1"]
    assert a1.proof_hashes is not None and set(a1.proof_hashes) == {"out/a1/part.py"}
    assert first.results()["A8"].inputs_digest

    second = WaveRun(_ctx(repo), "20260101T000001-bbbbbb")
    outcome = second.run()
    assert outcome.closed
    assert set(_statuses(second).values()) == {"reused"}
    reused = second.results()["A1"]
    assert reused.reused_from is not None and reused.reused_from.run_id == first.run_id
    assert reused.usage is None and reused.log_path == a1.log_path
    start = resume.read_start(_ctx(repo), second.run_id)
    assert start is not None and start.baseline_from is None  # the earlier run closed: a fresh snapshot

    (repo / "out" / "a2" / "part.py").write_text("# changed by hand\n")
    third = WaveRun(_ctx(repo), "20260101T000002-cccccc")
    assert third.run().closed
    assert _statuses(third) == {"A1": "reused", "A2": "passed", "A8": "passed", "A9": "passed", "A0": "passed"}


def test_fresh_reuses_nothing(repo: Path) -> None:
    assert WaveRun(_ctx(repo), "20260101T000000-aaaaaa").run().closed
    fresh = WaveRun(_ctx(repo, fresh=True), "20260101T000001-bbbbbb")
    assert fresh.run().closed
    assert set(_statuses(fresh).values()) == {"passed"}
    start = resume.read_start(_ctx(repo), fresh.run_id)
    assert start is not None and start.fresh


def test_an_unfinished_run_lends_its_baseline_and_torn_results_prove_nothing(repo: Path) -> None:
    killed = WaveRun(_ctx(repo), "20260101T000000-aaaaaa")
    killed.take_baseline()
    result = killed.run_agent(_ctx(repo).wave.agents[0], 1)
    assert result.status == "passed"
    # The kill tore A2's result mid-write, and A1's file was edited afterwards outside any agent.
    torn = killed.ctx.paths.attempt_dir(1, killed.run_id, 1) / "A2.json"
    torn.write_text('{"schema_version": 1, "wave": 1, "agent_id": "A2", "sta')
    (repo / "stray.txt").write_text("not owned by anyone\n")
    # ...and the kill came between A1's result file and its coordination record.
    log = killed.ctx.paths.state_dir / "coordination" / "wave-1.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(line for line in lines if '"wave-1-result-A1-' not in line))
    coordination_engine._CACHE.clear()  # the resumed run is a new process: no blackboard in memory

    resumed = WaveRun(_ctx(repo), "20260101T000001-bbbbbb")
    outcome = resumed.run()
    start = resume.read_start(_ctx(repo), resumed.run_id)
    assert start is not None and start.baseline_from == killed.run_id
    assert _statuses(resumed)["A1"] == "reused" and _statuses(resumed)["A2"] == "passed"
    ids = [json.loads(line)["id"] for line in log.read_text().splitlines()]
    assert ids.count("wave-1-result-A1-attempt-1") == 1, "the lost record is written once, on reuse"
    # The kept baseline predates the stray file: closure still sees it.
    assert not outcome.closed
    assert "stray.txt" in json.dumps(outcome.model_dump())


def test_a_baseline_is_not_kept_once_a_later_wave_ran_past_the_unfinished_run(repo: Path) -> None:
    """Wave 1 was killed; reconcile (or an operator) let wave 2 run on; now wave 1 runs again. The
    killed run's baseline predates wave 2's work, which this run must not take for its own."""
    killed = WaveRun(_ctx(repo), "20260101T000000-aaaaaa")
    killed.take_baseline()
    assert killed.run_agent(_ctx(repo).wave.agents[0], 1).status == "passed"
    wave2 = WAVE.replace("# Wave 1 - Resume", "# Wave 2 - Later").replace("out/", "later/")
    wave2 = wave2.replace("wave-1-evaluator", "wave-2-evaluator")
    (repo / "waves" / "wave-2.md").write_text(wave2)
    coordination_engine._CACHE.clear()
    later = WaveRun(WaveContext.load(repo / "waves" / "wave-2.md", RunOptions()), "20260101T000005-dddddd")
    assert later.run().closed
    assert (repo / "later" / "a1" / "part.py").exists()
    coordination_engine._CACHE.clear()

    rerun = WaveRun(_ctx(repo), "20260101T000009-eeeeee")
    outcome = rerun.run()
    start = resume.read_start(_ctx(repo), rerun.run_id)
    assert start is not None and start.baseline_from is None
    assert start.baseline_dropped == f"{killed.run_id}: wave-2 (run {later.run_id}) ran since"
    assert outcome.closed, json.dumps(outcome.model_dump())[:2000]
    assert "later/" not in json.dumps(outcome.model_dump())
    # A1's earlier proof is still reused: only the baseline was renewed.
    assert _statuses(rerun)["A1"] == "reused"


def test_the_logs_of_a_dead_run_are_redacted_once_at_the_next_start(repo: Path) -> None:
    """A run killed with its agents never redacted their logs (that happens when an agent exits)."""
    killed = WaveRun(_ctx(repo), "20260101T000000-aaaaaa")
    killed.take_baseline()
    assert killed.run_agent(_ctx(repo).wave.agents[0], 1).status == "passed"
    key = "sk-proj-" + "L0g" * 10
    echoed = killed.ctx.paths.attempt_dir(1, killed.run_id, 1) / "A2.log"
    echoed.write_text(f"starting with key {key}\n")  # the CLI echoed it, then the kill came
    coordination_engine._CACHE.clear()

    resumed = WaveRun(_ctx(repo), "20260101T000001-bbbbbb")
    resumed.take_baseline()
    start = resume.read_start(_ctx(repo), resumed.run_id)
    assert start is not None
    assert start.logs_redacted == [str(echoed.relative_to(killed.ctx.paths.state_dir))]
    assert echoed.read_text() == "starting with key [redacted:openai-key]\n"
    assert (echoed.parents[1] / resume.LOGS_REDACTED).exists()
    # Handled once: a later start does not read the dead run's logs again.
    echoed.write_text(f"planted later {key}\n")
    later = WaveRun(_ctx(repo), "20260101T000002-cccccc")
    later.take_baseline()
    again = resume.read_start(_ctx(repo), later.run_id)
    assert again is not None and again.logs_redacted == []


def test_proof_hashes_name_missing_and_escaping_paths(repo: Path, tmp_path: Path) -> None:
    ctx = _ctx(repo)
    a1 = ctx.wave.agent("A1")
    assert a1 is not None
    assert resume.proof_hashes(ctx, a1) == {"out/a1/part.py": "missing"}
    (repo / "out" / "a1").mkdir(parents=True)
    (repo / "out" / "a1" / "part.py").write_text("x = 1\n")
    (repo / "out" / "a1" / "helper.py").write_text("y = 2\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("outside\n")
    (repo / "out" / "a1" / "link.txt").symlink_to(outside)
    hashes = resume.proof_hashes(ctx, a1)
    assert set(hashes) == {"out/a1/part.py", "out/a1/helper.py", "out/a1/link.txt"}
    assert hashes["out/a1/link.txt"] == "outside"
    assert len(hashes["out/a1/part.py"]) == 64

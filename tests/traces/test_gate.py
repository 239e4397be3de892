"""``--wave-gate``: exit 0 only when the wave's recorded closure still holds on the current tree."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from tracekit import WAVE, assert_no_traceback, assert_no_workers, copy_recorded, make_repo, output

pytestmark = pytest.mark.slow


def gate(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--wave-gate", WAVE, "-p", "no:cacheprovider", *args, timeout=120)


def test_gate_passes_on_a_closed_wave(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    before = sorted(p.name for p in (repo / ".tmp/main-wave-launcher/results/wave-1").iterdir())
    result = gate(pytester, "-n", "2", "-v")
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=6)  # evidence, then A1 A2 A8 A9 A0 on the current tree
    result.stdout.fnmatch_lines(["*wave-1.md::evidence PASSED*", "*wave-1.md::A0 PASSED*"])
    assert_no_workers(result)
    # No agent started: no new run, no new result.
    assert sorted(p.name for p in (repo / ".tmp/main-wave-launcher/results/wave-1").iterdir()) == before


def test_gate_fails_after_a_deliverable_is_deleted(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    (repo / "out/a2/part.py").unlink()
    result = gate(pytester)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "A2 (implementation): 1 check(s) fail on the current tree",
            "*deliverable out/a2/part.py | file exists | missing*",
        ]
    )


def test_gate_runs_the_validation_commands_on_the_current_tree(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    (repo / "out/a1/part.py").write_text("")  # still there, but `test -s` fails now
    result = gate(pytester)
    assert result.ret == 1, output(result)
    result.stdout.fnmatch_lines(["*validation `test -s out/a1/part.py` | exit 0 * | exit status 1 *"])


def test_gate_fails_when_the_wave_changed_since_it_closed(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    wave = repo / "waves/wave-1.md"
    wave.write_text(wave.read_text().replace("Write part 2.", "Write part 2, faster."))
    result = gate(pytester)
    assert result.ret == 1, output(result)
    result.stdout.fnmatch_lines(
        [
            "wave 1: the recorded closure (run *) does not match the current wave file",
            "*A2 prompt fingerprint*",
        ]
    )


def test_prose_outside_the_prompts_does_not_reopen_the_wave(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    wave = repo / "waves/wave-1.md"
    wave.write_text(wave.read_text().replace("`E2E wave 1`", "`E2E: wave 1`"))
    result = gate(pytester, "-rA")
    assert result.ret == 0, output(result)
    result.stdout.fnmatch_lines(["*the wave file changed since run *, but no agent's prompt fingerprint did*"])


def test_gate_fails_without_a_closed_run(pytester: pytest.Pytester) -> None:
    make_repo(pytester.path / "repo")
    result = gate(pytester)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(["wave 1 has no closed run recorded under *results"])
    assert not (pytester.path / "repo/out").exists()  # and it started nothing to get one


def test_committed_evidence_alone_is_enough(pytester: pytest.Pytester, recorded: Path) -> None:
    # What CI sees: the repository plus the closing run's wave.json, nothing else of the lane state.
    repo = copy_recorded(recorded, pytester)
    evidence = next((repo / ".tmp/main-wave-launcher/results/wave-1").glob("*/wave.json"))
    kept = evidence.read_bytes()
    shutil.rmtree(repo / ".tmp")
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(kept)
    result = gate(pytester)
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=6)


def test_the_documented_ci_job_runs_the_gate() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ci-gating.md").read_text()
    job = yaml.safe_load(re.search(r"```yaml\n(.*?)```", doc, re.DOTALL).group(1))  # type: ignore[union-attr]
    steps = job["jobs"]["wave-gate"]["steps"]
    assert any("--wave-gate" in step.get("run", "") for step in steps)
    triggers = job.get("on", job.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "pull_request" in triggers

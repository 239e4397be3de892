"""Every gate can fail a wave: a non-zero exit, and the item says which check failed and why."""

from __future__ import annotations

import time

import pytest
from e2ekit import (
    WaveState,
    assert_no_traceback,
    make_repo,
    process_gone,
    processes_mentioning,
    run_wave,
    wave_text,
)

pytestmark = pytest.mark.slow

WAVE = "waves/wave-1.md"
NO_RETRY = ("--wave-max-retries", "0")


def run_faulty(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, faults: str, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", faults)
    result = run_wave(pytester, WAVE, *args)
    assert result.ret == 1, result.stdout.str()
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(["*wave waves/wave-1.md: NOT CLOSED*"])
    return result


# Fault on the implementation agent A1 -> the check its item names (headline "A1 (...): <check>: ...").
IMPLEMENTATION_FAULTS = {
    "no-markers": "[wave-proof] marker: expected a [wave-proof] line meeting the exit contract, found absent",
    "wrong-markers": "proof state: expected state=met, found state=gap",
    "exit-nonzero": "exit status: expected exit 0 before the deadline, found exit status 3",
    "missing-deliverable": "deliverable out/a1/part.py: expected file exists, found missing",
    "lie": "deliverable out/a1/part.py: expected file exists, found missing",
}
# (The crash fault is an error, not a failed gate: tests/e2e/test_e2e_resume.py.)


@pytest.mark.parametrize("fault", sorted(IMPLEMENTATION_FAULTS))
def test_implementation_fault_fails_the_wave(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_faulty(pytester, monkeypatch, f"A1={fault}", *NO_RETRY)
    reason = IMPLEMENTATION_FAULTS[fault]
    result.stdout.fnmatch_lines([f"A1 (implementation, local, attempt 1): {reason}"])
    result.assert_outcomes(passed=1, failed=1, skipped=3)  # plan passes; closure is skipped, with the reason
    outcome = WaveState(repo).outcome()
    assert outcome["closed"] is False
    assert outcome["reason"].startswith(f"A1: {reason}")
    assert "not run: A8, A9, A0" in outcome["reason"]


def test_write_outside_fails_the_writer(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # A1 did its work, but the orchestrator's own look at the tree shows a stray file written while
    # A1 alone was running: A1's item fails naming it (engine/ownership.py), before closure.
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_faulty(pytester, monkeypatch, "A1=write-outside", *NO_RETRY)
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 1): writes inside ownership: expected changes only inside owned "
            "paths (out/a1/), found wrote outside ownership: outside-ownership-A1.txt"
        ]
    )
    assert (repo / "outside-ownership-A1.txt").is_file()
    assert WaveState(repo).results()["A1"]["status"] == "failed"


CLOSURE_FAULTS = {
    "A8": "A8 (integration, local, attempt 1): integration recommendation: expected ready-for-doc-closure, "
    "found needs-more-work*",
    "A9": "A9 (documentation, local, attempt 1): documentation closure: expected closed or no-change, found delta",
    "A0": "A0 (evaluator, local, attempt 1): gate architecture: expected pass, found blocked",
}


@pytest.mark.parametrize("agent", sorted(CLOSURE_FAULTS))
def test_closure_stage_says_no(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, agent: str) -> None:
    # Every implementation agent passes; the closure stage's own verdict keeps the wave open.
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_faulty(pytester, monkeypatch, f"{agent}=wrong-markers", *NO_RETRY)
    result.stdout.fnmatch_lines([CLOSURE_FAULTS[agent]])
    results = WaveState(repo).results()
    assert results["A1"]["status"] == "passed"
    assert results[agent]["status"] == "failed"
    later = {"A8": ["A9", "A0"], "A9": ["A0"], "A0": []}[agent]
    assert not set(later) & set(results), "a stage after a failed one must not run"
    if agent == "A0":
        result.stdout.fnmatch_lines(["*evaluator verdict*pass*blocked*"])  # both the gate and the verdict


def test_failing_validation_command(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, validation={1: ["test -f out/a1/missing.txt"]})})
    result = run_faulty(pytester, monkeypatch, "", *NO_RETRY)
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 1): validation `test -f out/a1/missing.txt`: expected exit 0, "
            "found exit status 1"
        ]
    )
    checks = WaveState(repo).results()["A1"]["checks"]
    assert [c["code"] for c in checks if c["name"].startswith("validation")] == ["validation-failed"]


def test_hanging_validation_is_killed_with_its_process_group(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = pytester.path / "validation-child.pid"  # outside the repository: not an unowned change
    command = f"sleep 300 & echo $! > {pid_file}; wait"
    make_repo(pytester, monkeypatch, {1: wave_text(1, validation={1: [command]})})
    started = time.monotonic()
    result = run_faulty(pytester, monkeypatch, "", *NO_RETRY, "--wave-validation-timeout", "1")
    assert time.monotonic() - started < 30
    result.stdout.fnmatch_lines(
        [f"A1 (implementation, local, attempt 1): validation `{command}`: expected exit 0, found timed out after *"]
    )
    # The shell's background child (same process group, not the direct child) is gone too.
    child = int(pid_file.read_text())
    assert process_gone(child), f"validation grandchild {child} survived the timeout"


def test_hanging_agent_is_killed_at_the_agent_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    started = time.monotonic()
    result = run_faulty(pytester, monkeypatch, "A1=hang", *NO_RETRY, "--wave-agent-timeout", "1")
    assert time.monotonic() - started < 30
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 1): exit status: expected exit 0 before the deadline, "
            "found timed out after * and was killed"
        ]
    )
    a1 = WaveState(repo).results()["A1"]
    assert a1["timed_out"] is True
    assert a1["exit_code"] is None and a1["signal"] is not None  # killed, not "exit 0"
    assert not processes_mentioning(str(repo)), "the hung agent outlived its timeout"


def test_persistent_fault_is_retried_then_fails(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_faulty(pytester, monkeypatch, "A1=exit-nonzero", "--wave-max-retries", "1", "-rA")
    outcomes = result.parseoutcomes()
    assert outcomes.get("rerun") == 1, outcomes
    result.assert_outcomes(passed=1, failed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "A1 (implementation, local, attempt 2): exit status: expected exit 0 before the deadline, "
            "found exit status 3",
            "FAILED waves/wave-1.md::A1[attempt-2]",  # exact line: [..] would be a glob class
        ]
    )
    outcome = WaveState(repo).outcome()
    assert outcome["attempts"] == 2
    assert outcome["agents"]["A1"]["attempt"] == 2


def test_transient_failure_closes_after_retry(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The validation command fails the first time it runs and passes from then on (a flag file in A1's
    # own folder remembers), so attempt 1 fails, attempt 2 passes, and the wave closes on attempt 2.
    flaky = "test -f out/a1/flag || (touch out/a1/flag; exit 1)"
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, validation={1: [flaky]})})
    result = run_wave(pytester, WAVE, "--wave-max-retries", "1", "-rA")
    assert result.ret == 0, result.stdout.str()
    assert_no_traceback(result)
    assert result.parseoutcomes().get("rerun") == 1
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*wave waves/wave-1.md: CLOSED*",
            "A1 * implementation * local * 2 * passed*",
            "attempts: 2; run: *",
        ]
    )
    result.stdout.fnmatch_lines(["PASSED waves/wave-1.md::A1[attempt-2]"])
    state = WaveState(repo)
    assert state.results(attempt=1)["A1"]["status"] == "failed"
    assert state.results(attempt=2)["A1"]["status"] == "passed"
    assert state.outcome()["closed"] is True

"""``--wave-replay``: a bundle alone reproduces its recorded verdict, and any tampering is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tracekit import (
    BUNDLE,
    assert_no_traceback,
    assert_no_workers,
    copy_recorded,
    load_json,
    output,
    rehash,
)

pytestmark = pytest.mark.slow

LOG_A1 = "logs/wave-1-1-a1.log"


def replay(pytester: pytest.Pytester, *paths: str, extra: tuple[str, ...] = ()) -> pytest.RunResult:
    args = [arg for path in paths for arg in ("--wave-replay", path)]
    return pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider", *extra, timeout=120)


def test_replay_of_a_passing_run_reproduces_its_verdict(pytester: pytest.Pytester, recorded: Path) -> None:
    copy_recorded(recorded, pytester)
    result = replay(pytester, BUNDLE, extra=("-n", "2", "-v"))  # xdist is forced off: nothing to parallelize
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=7)  # integrity, A1 A2 A8 A9 A0, verdict
    result.stdout.fnmatch_lines(["*attempt-1::integrity PASSED*", "*attempt-1::verdict PASSED*"])
    result.stdout.fnmatch_lines([f"replay {BUNDLE}: recorded CLOSED reproduces"])
    assert_no_workers(result)


def test_replay_is_hermetic(pytester: pytest.Pytester, recorded: Path) -> None:
    # Move the bundle away, then delete the repository it came from: replay needs nothing else.
    repo = copy_recorded(recorded, pytester)
    shutil.copytree(repo / BUNDLE.removeprefix("repo/"), pytester.path / "moved")
    shutil.rmtree(repo)
    result = replay(pytester, "moved")
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=7)


def test_replay_of_a_retried_run_reproduces_each_attempt(pytester: pytest.Pytester, retried: Path) -> None:
    copy_recorded(retried, pytester)
    result = replay(pytester, "repo/.tmp/main-wave-launcher/traces")
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=14)
    result.stdout.fnmatch_lines(
        [
            "replay */attempt-1: recorded NOT CLOSED reproduces",
            "replay */attempt-2: recorded CLOSED reproduces",
        ]
    )


def test_tampering_with_a_recorded_file_fails_replay_and_names_it(pytester: pytest.Pytester, recorded: Path) -> None:
    repo = copy_recorded(recorded, pytester)
    log = repo / BUNDLE.removeprefix("repo/") / LOG_A1
    log.write_text(log.read_text().replace("state=met", "state=gap"))
    result = replay(pytester, BUNDLE)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines(
        [
            f"  {LOG_A1}: modified after capture: sha256 *, recorded *",
            f'  {LOG_A1}: A1 "proof state": recorded ok (state=met), replayed FAILED (state=gap)',
            "  outcome.json: verdict: recorded CLOSED, replayed NOT CLOSED",
        ]
    )
    result.stdout.fnmatch_lines([f"replay {BUNDLE}: recorded CLOSED does NOT reproduce (*)"])


def test_a_forged_hash_does_not_hide_a_changed_file(pytester: pytest.Pytester, recorded: Path) -> None:
    # The manifest is updated to match the edit: integrity passes, recomputing the gates still fails.
    repo = copy_recorded(recorded, pytester)
    bundle = repo / BUNDLE.removeprefix("repo/")
    report = bundle / "tree/out/reviews/wave-1-evaluator.md"
    log = bundle / "logs/wave-1-1-a0.log"
    log.write_text("\n".join(line for line in log.read_text().splitlines() if "[wave-verdict]" not in line) + "\n")
    report.write_text("# Review\n\nVerdict: BLOCKED\n")
    rehash(bundle, "logs/wave-1-1-a0.log")
    rehash(bundle, "tree/out/reviews/wave-1-evaluator.md")
    result = replay(pytester, BUNDLE, extra=("-rA",))
    assert result.ret == 1, output(result)
    result.stdout.fnmatch_lines(["PASSED */attempt-1::integrity"])
    result.stdout.fnmatch_lines(
        ['  tree/out/reviews/wave-1-evaluator.md: A0 "evaluator verdict": * replayed FAILED (blocked)']
    )


BAD_BUNDLES = {
    "unknown version": "unknown trace version 7: this pytest-wave replays traceVersion 2",
    "truncated manifest": "run-metadata.json is not valid JSON (truncated bundle?)*",
    "no manifest": "not a trace bundle: run-metadata.json is missing (truncated bundle?)*",
    "missing file": f"  {LOG_A1}: missing from the bundle",
    "truncated file": "  results/attempt-1/A2.json: modified after capture*",
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bad_bundles_fail_with_one_clear_line(pytester: pytest.Pytester, recorded: Path, case: str) -> None:
    repo = copy_recorded(recorded, pytester)
    bundle = repo / BUNDLE.removeprefix("repo/")
    manifest = bundle / "run-metadata.json"
    if case == "unknown version":
        data = load_json(manifest)
        data["traceVersion"] = 7
        manifest.write_text(json.dumps(data))
    elif case == "truncated manifest":
        text = manifest.read_text()
        manifest.write_text(text[: len(text) // 2])
    elif case == "no manifest":
        manifest.unlink()
    elif case == "missing file":
        (bundle / LOG_A1).unlink()
    else:
        result_file = bundle / "results/attempt-1/A2.json"
        result_file.write_text(result_file.read_text()[:100])
    result = replay(pytester, BUNDLE)
    assert result.ret == 1, output(result)
    assert_no_traceback(result)
    result.stdout.fnmatch_lines([f"*{BAD_BUNDLES[case]}"])


def test_no_such_bundle_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = replay(pytester, "does/not/exist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_no_traceback(result)
    result.stderr.fnmatch_lines(["ERROR: --wave-replay does/not/exist: no such trace bundle*"])

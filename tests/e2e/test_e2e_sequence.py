"""Many waves in one session: wave-number order, stop at the first wave that does not close, run state
(reuse, --wave-fresh, --wave-start/--wave-end/--wave-auto-next, --wave-reconcile) and bad numbering."""

from __future__ import annotations

import json
import re

import pytest
from e2ekit import WaveState, assert_no_traceback, make_repo, output, run_wave, wave_text

pytestmark = pytest.mark.slow

THREE = {0: wave_text(0), 1: wave_text(1), 2: wave_text(2)}


def _started(state: WaveState, wave: int) -> list[float]:
    files = state.state_dir.glob(f"results/wave-{wave}/*/attempt-*/*.json")
    return [json.loads(p.read_text())["started_at"] for p in files]


def _finished(state: WaveState, wave: int) -> list[float]:
    files = state.state_dir.glob(f"results/wave-{wave}/*/attempt-*/*.json")
    return [json.loads(p.read_text())["finished_at"] for p in files]


def _section(result: pytest.RunResult, title: str) -> list[str]:
    """The lines of the terminal-summary section ``title``, up to the next separator line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if title in line) + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"^[=-]{3,}", lines[i])), len(lines))
    return lines[start:end]


def test_waves_run_in_order_stop_at_the_first_open_one_and_resume(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, THREE)
    state = WaveState(repo)
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", "wave-1:A0=no-markers")
    first = run_wave(pytester, "waves", "--wave-max-retries", "0", "-rA")
    assert first.ret == 1, output(first)
    assert_no_traceback(first)
    first.stdout.fnmatch_lines(["*wave waves/wave-0.md: CLOSED*"])
    first.stdout.fnmatch_lines(["*wave waves/wave-1.md: NOT CLOSED*"])
    first.stdout.fnmatch_lines(["*wave waves/wave-2.md: NOT CLOSED*", "*reason: not run: wave 1 did not close"])
    # No agent of wave 2 ran: its section is the reason alone (no empty agent table, no "attempts: 1").
    assert _section(first, "wave waves/wave-2.md: NOT CLOSED") == ["reason: not run: wave 1 did not close"]
    first.stdout.fnmatch_lines(["SKIPPED*not run: wave 1 did not close*"])
    assert not _started(state, 2), "wave 2 started although wave 1 did not close"
    # Wave 1 started only after wave 0 closed (its evaluator had finished).
    assert min(_started(state, 1)) >= max(_finished(state, 0))
    recorded = state.run_state()
    assert recorded["completedWaves"] == [0]
    assert recorded["closures"]["0"]["waveFile"] == "waves/wave-0.md"
    assert "out/a1/part.py" in recorded["closures"]["0"]["deliverables"]

    monkeypatch.delenv("WAVE_LOCAL_FAULTS")  # wave 1 fixed
    second = run_wave(pytester, "waves", "-rA", "-n", "2")  # under xdist: reused and later waves on the controller
    assert second.ret == 0, output(second)
    # Wave 0 is not run again: every item re-verifies and reuses its proof. Wave 1 reruns only its
    # evaluator (the stage that failed); the proof its other agents left still holds.
    second.stdout.fnmatch_lines(
        [
            "*wave waves/wave-0.md: CLOSED*",
            "*wave waves/wave-1.md: CLOSED*",
            "*wave waves/wave-2.md: CLOSED*",
            "*resume waves/wave-0.md*",
            "reused 4 of 4 agent result(s), proof re-verified: A1, A8, A9, A0 from run*",
            "*resume waves/wave-1.md*",
            "*reused 3 of 4 agent result(s), proof re-verified: A1, A8, A9 from run*",
        ]
    )
    assert "resume waves/wave-2.md" not in second.stdout.str()
    assert state.run_state()["completedWaves"] == [0, 1, 2]
    assert min(_started(state, 2)) >= max(_finished(state, 1))

    # A changed deliverable invalidates the reuse (later waves are outside --wave-end); --wave-fresh reruns.
    (repo / "out" / "reviews" / "wave-0-evaluator.md").write_text("edited by hand\n")
    third = run_wave(pytester, "waves", "--wave-end", "0")
    assert third.ret == 0, output(third)
    third.stdout.fnmatch_lines(
        ["*wave waves/wave-0.md: CLOSED*", "reused 3 of 4 agent result(s), proof re-verified: A1, A8, A9 from run*"]
    )  # the evaluator, whose report changed, ran again
    assert "wave-1.md" not in third.stdout.str()
    fresh = run_wave(pytester, "waves", "--wave-fresh", "--wave-start", "2")
    assert fresh.ret == 0, output(fresh)
    fresh.stdout.fnmatch_lines(["*wave waves/wave-2.md: CLOSED*", "--wave-fresh: earlier results were not reused"])
    assert "reused" not in fresh.stdout.lines[-1]


def test_auto_next_and_reconcile(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {0: wave_text(0), 1: wave_text(1)})
    state = WaveState(repo)
    assert run_wave(pytester, "waves/wave-0.md").ret == 0
    auto = run_wave(pytester, "waves", "--wave-auto-next")
    assert auto.ret == 0, output(auto)
    auto.stdout.fnmatch_lines(["[[]auto-next[]] last completed wave: 0; starting from wave 1."])
    assert "wave-0.md: REUSED" not in auto.stdout.str()  # below the start: not part of the session
    done = run_wave(pytester, "waves", "--wave-auto-next")
    assert done.ret == 0, output(done)
    assert "[auto-next] All known waves are already marked complete" in output(done)

    # Corrupt run state: reported with the fix, never overwritten; reconcile keeps it aside and rebuilds.
    path = state.state_dir / "run-state.json"
    path.write_text("{not json")
    blocked = run_wave(pytester, "waves")
    assert blocked.ret == 4, output(blocked)
    assert "run-state.json: error: run state is corrupt" in output(blocked)
    assert "--wave-reconcile" in output(blocked)
    assert path.read_text() == "{not json"
    rebuilt = run_wave(pytester, "waves", "--wave-reconcile")
    assert rebuilt.ret == 0, output(rebuilt)
    text = output(rebuilt)
    assert "[reconcile] added from results: 0, 1" in text
    assert "[reconcile] completed waves now: 0, 1" in text
    assert "was corrupt" in text
    kept = list(state.state_dir.glob("run-state.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    assert state.run_state()["completedWaves"] == [0, 1]
    assert not state.logs() or all("wave-1" not in p.name or p.exists() for p in state.logs())
    again = run_wave(pytester, "waves", "--wave-reconcile")
    assert "[reconcile] added from results: none" in output(again)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"wave-0.md": wave_text(0), "wave-2.md": wave_text(2)},
            "*wave numbering has a gap: waves/wave-0.md (wave 0)*waves/wave-2.md (wave 2); missing: wave 1*",
        ),
        (
            {"wave-1.md": wave_text(1), "wave-2.md": wave_text(3)},
            "*waves/wave-2.md:1: the file name says wave 2 but the heading says wave 3*",
        ),
        (
            {"wave-1.md": wave_text(1), "wave-example-b.md": wave_text(1)},
            "*waves/wave-1.md and waves/wave-example-b.md are all wave 1*",
        ),
    ],
    ids=["gap", "name-vs-heading", "duplicate"],
)
def test_bad_numbering_names_the_files(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], message: str
) -> None:
    repo = make_repo(pytester, monkeypatch, {})
    for name, text in files.items():
        (repo / "waves" / name).write_text(text)
    result = run_wave(pytester, "waves", "-p", "no:xdist")
    assert result.ret == 4, output(result)
    assert_no_traceback(result)
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert not (repo / "out").exists(), "an agent started"


def test_a_wave_whose_closure_is_deselected_blocks_the_next(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(pytester, monkeypatch, {0: wave_text(0), 1: wave_text(1)})
    result = run_wave(pytester, "waves", "-k", "A1 or plan", "-rA")
    assert result.ret == 1, output(result)
    result.stdout.fnmatch_lines(["PASSED waves/wave-0.md::A1"])
    result.stdout.fnmatch_lines(["SKIPPED*waves/wave-1.md: not run: wave 0 did not close"])

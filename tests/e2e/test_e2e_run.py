"""A wave closes when run as a pytest session, whatever the process model; selection works like pytest's."""

from __future__ import annotations

import itertools
import os

import pytest
from e2ekit import WaveState, assert_no_traceback, copy_anchor, impl_ids, make_repo, run_wave, wave_text

pytestmark = pytest.mark.slow

WAVE0 = "docs/plans/waves/wave-0.md"


@pytest.mark.parametrize(
    "mode",
    [(), ("-n", "2"), ("-n", "0"), ("-p", "no:xdist")],
    ids=["default", "n2", "n0", "no-xdist"],
)
def test_anchor_wave_closes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: tuple[str, ...]) -> None:
    repo = copy_anchor(pytester, monkeypatch)
    result = run_wave(pytester, WAVE0, "--wave-executor", "local", *mode)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=5)  # plan, A1, then A8, A9, A0 on the controller
    result.stdout.fnmatch_lines(["*wave docs/plans/waves/wave-0.md: CLOSED*"])
    assert_no_traceback(result)
    state = WaveState(repo)
    assert state.run_state()["completedWaves"] == [0]
    outcome = state.outcome()
    assert outcome["closed"] is True
    assert list(outcome["agents"]) == ["A1", "A8", "A9", "A0"]
    # The agents' PATH started with this folder: their `wave` is ours (engine/cli_shim.py).
    shim = state.state_dir / "bin" / "wave"
    assert "-m pytest_wave.cli" in shim.read_text() and os.access(shim, os.X_OK)


def test_collect_only_lists_closure_last_in_order(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The file declares A0, A8, A9 before A1; closure is listed after the agents, as A8 -> A9 -> A0.
    repo = copy_anchor(pytester, monkeypatch)
    result = run_wave(pytester, WAVE0, "--wave-executor", "local", "--collect-only", "-q")
    assert result.ret == 0
    ids = [line.split("::")[-1] for line in result.stdout.lines if "wave-0.md::" in line]
    assert ids == ["plan", "A1", "A8", "A9", "A0"]
    assert not (repo / ".tmp").exists(), "--collect-only must not start anything"


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        (("-k", "A1"), ["A1"]),
        (("-m", "implementation"), ["A1"]),
        (("-m", "local"), ["A1", "A8", "A9", "A0"]),
    ],
    ids=["k-A1", "m-implementation", "m-local"],
)
def test_selection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, select: tuple[str, ...], expected: list[str]
) -> None:
    repo = copy_anchor(pytester, monkeypatch)
    result = run_wave(pytester, WAVE0, "--wave-executor", "local", "-rA", *select)
    assert result.ret == 0, result.stdout.str()
    passed = [line.split("::")[-1] for line in result.stdout.lines if line.startswith("PASSED ")]
    assert passed == expected
    result.assert_outcomes(passed=len(expected))
    assert sorted(WaveState(repo).results()) == sorted(expected)
    if "A0" not in expected:
        # No closure item selected: no wave verdict, and the session's exit is the items' exit.
        assert "CLOSED" not in result.stdout.str()


def test_eight_agents_overlap_under_xdist(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=8)})
    # Only the implementation agents are slow: that is where parallelism matters.
    agents = [f"A{i}" for i in impl_ids(8)]
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", ",".join(f"{agent}=slow=1" for agent in agents))
    result = run_wave(pytester, "waves/wave-1.md", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=12)  # plan + 8 agents + 3 closure stages
    result.stdout.fnmatch_lines(["*wave waves/wave-1.md: CLOSED*"])
    results = WaveState(repo).results()
    spans = [(results[agent]["started_at"], results[agent]["finished_at"]) for agent in agents]
    assert all(end - start >= 1.0 for start, end in spans)
    overlapping = [(a, b) for a, b in itertools.combinations(spans, 2) if max(a[0], b[0]) < min(a[1], b[1])]
    assert overlapping, f"no two agents ran at the same time: {spans}"
    # Two workers: never more than two agents at once.
    for start, _ in spans:
        running = sum(1 for s, e in spans if s <= start < e)
        assert running <= 2
    closure_start = min(results[a]["started_at"] for a in ("A8", "A9", "A0"))
    assert closure_start >= max(end for _, end in spans), "closure started before every agent finished"


def test_directory_run_skips_norecursedirs(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``pytest waves`` runs the waves pytest collects: not the archived one under a norecursedirs path, which
    # must not size the xdist pool either (1 agent -> no workers; the archived wave has 3).
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    (repo / "waves" / "archive").mkdir()
    (repo / "waves" / "archive" / "wave-7.md").write_text(wave_text(7, agents=3))
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.pytest.ini_options]\nnorecursedirs = ["waves/archive"]\n')
    result = run_wave(pytester, "waves")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=5)
    assert "workers" not in result.stdout.str()
    assert [o["wave"] for o in WaveState(repo).outcomes()] == [1]

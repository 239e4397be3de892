"""The README's first command: the project's own sample waves close on the local executor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sample_repo(pytester: pytest.Pytester) -> Path:
    # A sub-folder: pytester writes its own stdout/stderr files into its cwd, which the wave would
    # (rightly) report as changes nobody owns.
    repo = pytester.path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(ROOT / "docs" / "agents", repo / "docs" / "agents")
    shutil.copytree(ROOT / "waves", repo / "waves")
    return repo


@pytest.mark.slow
@pytest.mark.parametrize(("wave", "args", "agents"), [("wave-1.md", [], 4), ("wave-2.md", ["-n", "2"], 9)])
def test_sample_wave_closes(
    pytester: pytest.Pytester, sample_repo: Path, wave: str, args: list[str], agents: int
) -> None:
    result = pytester.runpytest_subprocess(f"repo/waves/{wave}", "-p", "no:cacheprovider", *args)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines([f"*wave waves/{wave}: CLOSED*"])
    result.assert_outcomes(passed=agents + 1)  # the plan item plus one item per agent
    number = int(wave.split("-")[1].split(".")[0])
    state = json.loads((sample_repo / ".tmp/main-wave-launcher/run-state.json").read_text())
    assert state["completedWaves"] == [number]
    # Everything the sample writes stays under build/wave-demo/ (and our own state dir).
    written = {p.relative_to(sample_repo).parts[0] for p in sample_repo.rglob("*") if p.is_file()}
    assert written <= {"pyproject.toml", "docs", "waves", "build", ".tmp"}, written


@pytest.mark.slow
def test_sample_wave_without_xdist_still_closes(pytester: pytest.Pytester, sample_repo: Path) -> None:
    result = pytester.runpytest_subprocess("repo/waves/wave-2.md", "-p", "no:xdist", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=10)


@pytest.mark.slow
def test_lane_option_isolates_state(pytester: pytest.Pytester, sample_repo: Path) -> None:
    result = pytester.runpytest_subprocess("repo/waves/wave-1.md", "--wave-lane", "Feature X", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    # Lane names are sanitized as in wave.config.json; each lane keeps its own state folder.
    # (wave-orchestrator/ is the cross-lane board, shared by every lane.)
    assert sorted(p.name for p in (sample_repo / ".tmp").iterdir()) == ["feature-x-wave-launcher", "wave-orchestrator"]
    state = json.loads((sample_repo / ".tmp/feature-x-wave-launcher/run-state.json").read_text())
    assert state["completedWaves"] == [1]

"""``pytest --wave-lint``: one lint item per wave file, findings as the failure text, no agent started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(pytester: pytest.Pytester) -> Path:
    repo = pytester.path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(ROOT / "docs" / "agents", repo / "docs" / "agents")
    shutil.copytree(ROOT / "waves", repo / "waves")
    return repo


def test_clean_waves_pass_and_start_nothing(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest_subprocess("--wave-lint", "repo/waves", "-p", "no:cacheprovider", "-v")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*waves/wave-1.md::lint PASSED*", "*waves/wave-2.md::lint PASSED*"])
    assert not (repo / ".tmp").exists()
    assert not (repo / "build").exists()


def test_broken_and_invalid_waves_fail_their_items_only(pytester: pytest.Pytester, repo: Path) -> None:
    (repo / "waves" / "wave-3.md").write_text("# Wave 3\n\n## Agent A1: x\n\n### Prompt\n\n```text\nunclosed\n")
    wave1 = (repo / "waves" / "wave-1.md").read_text()
    (repo / "waves" / "wave-4.md").write_text(wave1.replace("## Agent A0: Evaluator", "## Agent A5: Evaluator"))
    result = pytester.runpytest_subprocess("--wave-lint", "repo/waves", "-p", "no:cacheprovider", "-v")
    assert result.ret == 1
    out = result.stdout.str()
    assert "Traceback" not in out
    result.stdout.fnmatch_lines(
        [
            "*waves/wave-1.md::lint PASSED*",
            "*waves/wave-2.md::lint PASSED*",
            "*waves/wave-3.md::lint FAILED*",
            "*waves/wave-4.md::lint FAILED*",
        ]
    )
    assert "unterminated code fence opened at line 7" in out
    assert "missing-evaluator" in out
    assert "errors during collection" not in out

"""``wave init`` / ``wave upgrade``: seed a repository without overwriting anything, adopt a Node.js-tool
layout, refresh only what nobody edited. Runs the CLI in-process (``pytest_wave.cli.main``)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_wave.cli import main

ANCHOR = Path(__file__).resolve().parent / "data" / "conformance" / "anchor-repo-0.5.4"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _wave(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_twice_changes_nothing_and_keeps_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "docs" / "plans").mkdir(parents=True)
    (tmp_path / "docs" / "plans" / "master-plan.md").write_text("my own plan\n")
    code, out, err = _wave(capsys, "init", "--repo-root", str(tmp_path))
    assert code == 0, err
    assert "[wave:init] wrote waves/wave-0.md" in out
    assert "[wave:init] kept docs/plans/master-plan.md (already there; not overwritten)" in out
    assert (tmp_path / "docs" / "plans" / "master-plan.md").read_text() == "my own plan\n"
    pyproject = (tmp_path / "pyproject.toml").read_text()
    assert pyproject.startswith('[project]\nname = "demo"\n') and "[tool.wave]" in pyproject
    state = json.loads((tmp_path / ".wave" / "install-state.json").read_text())
    assert state["initMode"] == "fresh" and "waves/wave-0.md" in state["starterFiles"]
    assert "docs/plans/master-plan.md" not in state["starterFiles"]
    before = _files(tmp_path)
    code, out, _ = _wave(capsys, "init", "--repo-root", str(tmp_path))
    assert code == 0
    assert "nothing to do" in out
    assert _files(tmp_path) == before


def test_init_json_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _wave(capsys, "init", "--repo-root", str(tmp_path), "--config-format", "json")
    assert code == 0, err
    config = json.loads((tmp_path / "wave.config.json").read_text())
    assert config["executors"]["default"] == "local"
    assert not (tmp_path / "pyproject.toml").exists()


def test_adopt_reads_a_node_layout_and_writes_only_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ANCHOR, repo, ignore=shutil.ignore_patterns(".tmp"))
    (repo / "docs" / "plans" / "migration.md").unlink()
    (repo / "docs" / "agents" / "wave-integration-role.md").unlink()
    before = _files(repo)
    code, _, err = _wave(capsys, "init", "--repo-root", str(repo))
    assert code == 1
    assert "an existing wave layout is here (wave.config.json" in err and "wave init --adopt" in err
    assert _files(repo) == before
    code, out, err = _wave(capsys, "init", "--repo-root", str(repo), "--adopt")
    assert code == 0, err
    after = _files(repo)
    added = sorted(set(after) - set(before))
    assert added == [
        ".gitignore",
        ".wave/install-state.json",
        "docs/agents/wave-integration-role.md",
        "docs/plans/migration.md",
    ]
    assert all(after[path] == content for path, content in before.items()), "an existing file changed"
    assert "kept wave.config.json" in out and "kept docs/plans/waves/wave-0.md" in out
    state = json.loads((repo / ".wave" / "install-state.json").read_text())
    assert state["initMode"] == "adopt-existing"
    assert "docs/agents/wave-evaluator-role.md" in state["adoptedFiles"]


def test_upgrade_refreshes_unedited_files_and_lists_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _wave(capsys, "init", "--repo-root", str(tmp_path))[0] == 0
    state_path = tmp_path / ".wave" / "install-state.json"
    state = json.loads(state_path.read_text())
    # An older release wrote a different evaluator prompt, which nobody edited since.
    old = "# an older evaluator prompt\n"
    evaluator = tmp_path / "docs" / "agents" / "wave-evaluator-role.md"
    current = evaluator.read_text()
    evaluator.write_text(old)
    state["starterFiles"]["docs/agents/wave-evaluator-role.md"]["sha256"] = hashlib.sha256(old.encode()).hexdigest()
    state_path.write_text(json.dumps(state))
    edited = tmp_path / "docs" / "agents" / "wave-integration-role.md"
    edited.write_text(edited.read_text() + "\nOur own rule.\n")
    (tmp_path / "docs" / "plans" / "migration.md").unlink()
    code, out, err = _wave(capsys, "upgrade", "--repo-root", str(tmp_path))
    assert code == 0, err
    assert "[wave:upgrade] refreshed docs/agents/wave-evaluator-role.md" in out
    assert "[wave:upgrade] left alone docs/agents/wave-integration-role.md (edited since init)" in out
    assert "[wave:upgrade] left alone docs/plans/migration.md (deleted since init)" in out
    assert evaluator.read_text() == current
    assert edited.read_text().endswith("Our own rule.\n")
    assert not (tmp_path / "docs" / "plans" / "migration.md").exists()
    history = json.loads(state_path.read_text())["history"]
    assert [event["action"] for event in history] == ["init-fresh", "upgrade"]


def test_upgrade_without_init_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _wave(capsys, "upgrade", "--repo-root", str(tmp_path))
    assert code == 1
    assert "was not set up by `wave init`" in err and "(fix: run `wave init`)" in err


@pytest.mark.slow
def test_init_in_an_empty_git_repo_then_pytest_closes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = shutil.which("git")
    assert git, "git is needed for this test"
    repo = pytester.path / "repo"  # pytester writes its capture files into pytester.path
    repo.mkdir()
    subprocess.run([git, "init", "-q"], cwd=repo, check=True)
    seeded = subprocess.run(
        [sys.executable, "-m", "pytest_wave.cli", "init"], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert seeded.returncode == 0, seeded.stderr
    monkeypatch.chdir(repo)
    result = pytester.runpytest_subprocess("waves/", "-p", "no:cacheprovider", timeout=120)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*wave waves/wave-0.md: CLOSED*"])
    assert json.loads((repo / ".tmp/main-wave-launcher/run-state.json").read_text())["completedWaves"] == [0]
    status = subprocess.run([git, "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True)
    assert ".tmp" not in status.stdout and ".wave" not in status.stdout  # the seeded .gitignore works

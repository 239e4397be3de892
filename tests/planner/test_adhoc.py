"""Ad-hoc runs in a fresh repository (default validation config): plan, run on local, close; planner fallbacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make_fresh(root: Path, config: dict[str, Any] | None = None) -> Path:
    """A repository with only role prompts and a config that keeps every validation default
    (``requireComponentPromotionsFromWave = 0``: promotions and agent components are required)."""
    shutil.copytree(ROOT / "docs" / "agents", root / "docs" / "agents")
    (root / "wave.config.json").write_text(json.dumps(config or {"projectName": "fresh"}, indent=2))
    return root


def wave(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_wave.cli", *args], cwd=repo, capture_output=True, text=True, timeout=120
    )


def test_adhoc_plan_is_valid_under_the_default_config(tmp_path: Path) -> None:
    repo = make_fresh(tmp_path / "repo")
    result = wave(repo, "adhoc", "plan", "--task", "fix the login bug", "--run-id", "fresh-1")
    assert result.returncode == 0, result.stderr
    assert "planned by the template: no planner runtime configured" in result.stderr
    run = repo / ".wave/adhoc/runs/fresh-1"
    record = json.loads((run / "run.json").read_text())
    assert record["planner"] == "template" and record["plannerRuntime"] is None
    # Validation wants promotions for an unnumbered wave under the defaults: the plan promotes `adhoc`,
    # the matrix gains it, and the documentation steward owns the matrix.
    spec = json.loads((run / "spec.json").read_text())
    assert spec["wave"] is None and spec["componentPromotions"] == [
        {"componentId": "adhoc", "targetLevel": "repo-landed"}
    ]
    a1 = next(a for a in spec["agents"] if a["agentId"] == "A1")
    assert a1["components"] == ["adhoc"] and a1["deliverables"] == [".wave/adhoc/runs/fresh-1/A1-report.md"]
    a9 = next(a for a in spec["agents"] if a["agentId"] == "A9")
    assert "docs/plans/component-cutover-matrix.json" in a9["ownedPaths"]
    matrix = json.loads((repo / "docs/plans/component-cutover-matrix.json").read_text())
    assert matrix["components"]["adhoc"]["currentLevel"] == "inventoried"
    lint = wave(repo, "lint", ".wave/adhoc/runs/fresh-1/wave-adhoc.md")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    shown = wave(repo, "adhoc", "show", "fresh-1").stdout
    assert "\n- planner: template (no planner runtime configured" in shown and "\n- wave: .wave/adhoc/runs/" in shown
    assert "\n- planner: template\n- planner note: no planner runtime" in (run / "request.md").read_text()
    again = wave(repo, "adhoc", "plan", "--task", "another", "--run-id", "fresh-1")
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.slow
def test_adhoc_run_on_local_closes_in_a_fresh_repo(pytester: pytest.Pytester) -> None:
    repo = make_fresh(pytester.path / "repo", {"projectName": "fresh", "executors": {"default": "local"}})
    args = ["-p", "no:cacheprovider", "--rootdir", str(repo)]
    for request, level_before in (("fix the login bug", None), ("tidy the README", "repo-landed")):
        matrix_path = repo / "docs/plans/component-cutover-matrix.json"
        if level_before is not None:
            assert json.loads(matrix_path.read_text())["components"]["adhoc"]["currentLevel"] == level_before
        result = pytester.runpytest_subprocess(*args, "--wave-adhoc", request)
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(["*planned by the template: no planner runtime configured*", "*: CLOSED*"])
        # The documentation steward (local) recorded the promotion in the matrix.
        assert json.loads(matrix_path.read_text())["components"]["adhoc"]["currentLevel"] == "repo-landed"
    runs = sorted((repo / ".wave/adhoc/runs").iterdir())
    assert [json.loads((r / "run.json").read_text())["status"] for r in runs] == ["closed", "closed"]


def test_missing_planner_binary_falls_back_to_the_template(tmp_path: Path) -> None:
    config = {
        "projectName": "fresh",
        "executors": {
            "claude": {"command": str(tmp_path / "no-such-claude")},
            "profiles": {"planner": {"id": "claude"}},
        },
    }
    repo = make_fresh(tmp_path / "repo", config)
    result = wave(repo, "adhoc", "plan", "--task", "fix the login bug", "--run-id", "nobin")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("planned by the template") == 1
    assert f"needs '{tmp_path / 'no-such-claude'}', which is not on PATH" in result.stderr
    record = json.loads((repo / ".wave/adhoc/runs/nobin/run.json").read_text())
    assert record["planner"] == "template" and record["plannerRuntime"] == "claude"
    assert "not on PATH" in record["plannerNote"]
    assert "planner: template (claude)" in (repo / ".wave/adhoc/runs/nobin/request.md").read_text()


def test_planner_profile_on_local_means_the_template(tmp_path: Path) -> None:
    repo = make_fresh(tmp_path / "repo", {"executors": {"profiles": {"planner": {"id": "local"}}}})
    result = wave(repo, "adhoc", "plan", "--task", "x", "--run-id", "loc")
    assert result.returncode == 0, result.stderr
    assert "planner profile names the local runtime, which has no model" in result.stderr


@pytest.mark.parametrize("run_id", ["../escape", "a b", ""])
def test_bad_run_id_is_refused_and_nothing_written(tmp_path: Path, run_id: str) -> None:
    repo = make_fresh(tmp_path / "repo")
    result = wave(repo, "adhoc", "plan", "--task", "x", "--run-id", run_id)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "invalid ad-hoc run id" in result.stderr
    assert not (repo / ".wave").exists() and not (repo / "docs/plans").exists()


def test_empty_request_from_the_cli_writes_nothing(tmp_path: Path) -> None:
    repo = make_fresh(tmp_path / "repo")
    result = wave(repo, "adhoc", "plan", "--task", "   ")
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "ad-hoc request is empty" in result.stderr
    assert not (repo / ".wave").exists() and not (repo / "docs/plans").exists()

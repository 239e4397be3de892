"""An agent's work as a branch (on a host) and its proof carried back (to the controller), with real git."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port

from pytest_wave.distributed import carry, gitops
from pytest_wave.engine.paths import LanePaths
from pytest_wave.engine.worktree import merge_agent_branches
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, Check

IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def make_repo(root: Path) -> tuple[Path, str]:
    root.mkdir(parents=True)
    (root / "README.md").write_text("base\n")
    (root / "shared.md").write_text("base\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root, git(root, "rev-parse", "HEAD").strip()


def test_an_agents_work_becomes_a_branch_without_touching_the_clone(tmp_path: Path) -> None:
    controller, base = make_repo(tmp_path / "controller")
    host = tmp_path / "host"
    git(tmp_path, "clone", "-q", str(controller), str(host))
    (host / "out" / "a1").mkdir(parents=True)
    (host / "out" / "a1" / "part.py").write_text("mine\n")
    (host / "out" / "a2").mkdir(parents=True)
    (host / "out" / "a2" / "part.py").write_text("another agent's\n")
    (host / "stray.txt").write_text("nobody owns this\n")
    (host / ".tmp").mkdir()
    (host / ".tmp" / "state.json").write_text("{}\n")
    (host / "README.md").unlink()  # a deletion travels too

    def select(path: str) -> bool:
        if path.startswith(".tmp/"):
            return False
        return path.startswith("out/a1/") or not path.startswith("out/a2/")

    status_before = git(host, "status", "--porcelain")
    commit = gitops.commit_agent_work(host, base, select, "wave 1: A1")
    assert commit is not None
    assert git(host, "status", "--porcelain") == status_before  # index and HEAD untouched
    files = set(git(host, "ls-tree", "-r", "--name-only", commit).split())
    assert files == {"out/a1/part.py", "stray.txt", "shared.md"}
    gitops.push(host, str(controller), commit, "refs/heads/wave/r1/A1")
    assert git(controller, "rev-parse", "wave/r1/A1").strip() == commit
    assert gitops.commit_agent_work(host, base, lambda p: p.startswith("nothing/"), "empty") is None


def test_a_branch_that_conflicts_fails_the_agent_so_closure_reruns_it(tmp_path: Path) -> None:
    controller, base = make_repo(tmp_path / "controller")
    host = tmp_path / "host"
    git(tmp_path, "clone", "-q", str(controller), str(host))
    (host / "shared.md").write_text("from the host\n")
    commit = gitops.commit_agent_work(host, base, lambda p: True, "wave 1: A1")
    assert commit is not None
    gitops.push(host, str(controller), commit, "refs/heads/wave/r1/A1")
    (controller / "shared.md").write_text("meanwhile on the controller\n")
    git(controller, "commit", "-qam", "conflicting change")
    report = merge_agent_branches(controller, ["wave/r1/A1"])
    assert not report.ok
    why = report.conflicted[0].describe()
    assert "shared.md" in why
    paths = LanePaths(controller, controller / ".tmp" / "main-wave-launcher")
    failed = carry.fail_merge(_result(), paths, "wave/r1/A1", why)
    assert not failed.ok and failed.checks[-1].code == "remote-merge-conflict"
    on_disk = AgentResult.model_validate_json((paths.attempt_dir(1, "r1", 1) / "A1.json").read_text())
    assert on_disk.status == "failed" and "did not merge" in (on_disk.reason or "")
    assert git(controller, "status", "--porcelain", "--", "shared.md").strip() == ""  # merge aborted: tree clean


def _result(**extra: object) -> AgentResult:
    fields: dict[str, object] = {
        "wave": 1,
        "wave_path": "/host/clone/waves/wave-1.md",
        "lane": "main",
        "run_id": "r1",
        "attempt": 1,
        "agent_id": "A1",
        "title": "Part 1",
        "role": "implementation",
        "executor_id": "local",
        "status": "passed",
        "checks": [Check(name="deliverable", ok=True, expected="exists", found="exists")],
        **extra,
    }
    return AgentResult.model_validate(fields)


def test_a_remote_result_lands_in_the_controllers_run_folder(tmp_path: Path) -> None:
    host_log = tmp_path / "host" / "wave-1-1-a1.log"
    host_log.parent.mkdir()
    host_log.write_text("line\n" * 3)
    payload = carry.build(
        _result(log_path=str(host_log)),
        host="hostA",
        host_root=tmp_path / "host",
        branch="wave/r1/A1",
        commit="abc",
        push_error=None,
    )
    paths = LanePaths(tmp_path / "controller", tmp_path / "controller" / ".tmp" / "main-wave-launcher")
    wave_path = tmp_path / "controller" / "waves" / "wave-1.md"
    attempt = carry.parse(payload)
    assert attempt is not None
    landed = carry.land(attempt, paths, wave_path)
    folder = paths.attempt_dir(1, "r1", 1)
    assert landed.ok and landed.wave_path == str(wave_path)
    assert Path(landed.log_path or "") == folder / "wave-1-1-a1.log"
    assert (folder / "wave-1-1-a1.log").read_text() == "line\n" * 3
    assert AgentResult.model_validate_json((folder / "A1.json").read_text()) == landed

    unpushed = carry.parse(
        carry.build(_result(), host="hostB", host_root=tmp_path, branch="wave/r1/A1", commit="abc", push_error="denied")
    )
    assert unpushed is not None
    failed = carry.land(unpushed, paths, wave_path)
    assert not failed.ok and "did not reach the controller: denied" in (failed.reason or "")
    assert carry.parse("not json") is None


def test_a_local_wave_with_an_unreachable_redis_stops_with_one_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "waves").mkdir(parents=True)
    url = f"redis://127.0.0.1:{free_port()}/0"
    (repo / "pyproject.toml").write_text(
        f'[tool.wave.coordination]\nbackend = "redis"\nurl = "{url}"\nconnectTimeout = 2\n'
    )
    (repo / "waves" / "wave-1.md").write_text("# Wave 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", "-n", "0"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("ERROR: ")]
    assert errors == [
        f"ERROR: cannot reach the coordination server {url}: "
        + errors[0].split(": ", 2)[2].split(";")[0]
        + f"; start it or fix [tool.wave.coordination] url in {repo / 'pyproject.toml'}"
    ], out


@pytest.mark.parametrize("value", ["", "../x", "a//b/"])
def test_bad_branch_prefixes_are_refused(value: str) -> None:
    from pytest_wave.model.config import DistributedConfig

    with pytest.raises(ValueError, match="branch name prefix"):
        DistributedConfig.model_validate({"branchPrefix": value})


@pytest.mark.parametrize("field", ["agent_id", "run_id"])
def test_a_remote_result_whose_ids_climb_out_is_refused(tmp_path: Path, field: str) -> None:
    """A host's payload names files on the controller: ids that are not plain names never reach the disk."""
    payload = carry.build(
        _result(**{field: "../../escape"}), host="hostA", host_root=tmp_path, branch="b", commit="c", push_error=None
    )
    attempt = carry.parse(payload)
    assert attempt is not None
    paths = LanePaths(tmp_path / "controller", tmp_path / "controller" / ".tmp" / "main-wave-launcher")
    with pytest.raises(WaveError, match="refused a result from hostA"):
        carry.land(attempt, paths, tmp_path / "controller" / "waves" / "wave-1.md")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "controller").exists()

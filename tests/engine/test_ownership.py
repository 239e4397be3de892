"""Ownership attribution (the shared-tree window rule) and the git worktree plumbing, with real git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_wave.engine import isolation, ownership, worktree
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.ownership import Window
from pytest_wave.errors import WaveError


def owner_of(*prefixes: str) -> ownership.Owns:
    return lambda path: any(path.startswith(prefix) for prefix in prefixes)


OWNERS = {"A1": owner_of("a1/"), "A2": owner_of("a2/"), "A8": owner_of("integration.md")}


def window(agent: str, start: int, end: int | None) -> Window:
    return Window(agent_id=agent, attempt=1, start_ns=start, end_ns=end)


# --------------------------------------------------------------------------- the shared-tree rule


def test_write_while_alone_is_blamed_on_the_writer() -> None:
    me = window("A1", 100, 200)
    found = ownership.attribute("A1", me, [("a1/x.py", 150), ("a2/y.py", 150), ("stray.txt", 150)], [me], OWNERS)
    assert found.outside == ["a2/y.py", "stray.txt"]
    assert found.ambiguous == {}


def test_write_into_a_running_owners_file_is_the_owners() -> None:
    me, other = window("A1", 100, 200), window("A2", 120, None)
    found = ownership.attribute("A1", me, [("a2/y.py", 150)], [me, other], OWNERS)
    assert found.outside == [] and found.ambiguous == {}


def test_write_into_an_idle_owners_file_is_blamed() -> None:
    # A8 owns the file but was not running: only A1 could have written it.
    me, steward = window("A1", 100, 200), window("A8", 300, 400)
    found = ownership.attribute("A1", me, [("integration.md", 150)], [me, steward], OWNERS)
    assert found.outside == ["integration.md"]


def test_unowned_write_while_others_ran_is_ambiguous_not_blamed() -> None:
    me, other = window("A1", 100, 200), window("A2", 90, 210)
    found = ownership.attribute("A1", me, [("stray.txt", 150)], [me, other], OWNERS)
    assert found.outside == []
    assert found.ambiguous == {"stray.txt": ["A1", "A2"]}
    assert "stray.txt (while A1, A2 ran)" in ownership.ambiguity_note(found.ambiguous)


def test_write_outside_the_window_is_someone_elses() -> None:
    me, other = window("A1", 100, 200), window("A2", 50, 400)
    found = ownership.attribute("A1", me, [("stray.txt", 250), ("late.txt", 99)], [me, other], OWNERS)
    assert found.outside == [] and found.ambiguous == {}


def test_deletion_uses_overlapping_windows() -> None:
    me = window("A1", 100, 200)
    assert ownership.attribute("A1", me, [("gone.txt", None)], [me], OWNERS).outside == ["gone.txt"]
    other = window("A2", 190, 300)
    assert ownership.attribute("A1", me, [("gone.txt", None)], [me, other], OWNERS).ambiguous == {
        "gone.txt": ["A1", "A2"]
    }


def test_ledger_round_trip_and_filesystem_clock(tmp_path: Path) -> None:
    ledger = ownership.WindowLedger(tmp_path / "windows")
    path, opened = ledger.open("A1", 1)
    (tmp_path / "written.txt").write_text("x")
    written = (tmp_path / "written.txt").stat().st_mtime_ns
    closed = ledger.close(path, opened)
    assert opened.start_ns <= written <= (closed.end_ns or 0)
    assert ledger.windows() == [closed]
    (tmp_path / "windows" / "torn.json").write_text("{")
    assert ledger.windows() == [closed]  # a torn window file proves nothing and breaks nothing


def test_tree_snapshot_leaves_out_the_state_folder(tmp_path: Path) -> None:
    (tmp_path / "state" / "results").mkdir(parents=True)
    (tmp_path / "state" / "results" / "r.json").write_text("{}")
    (tmp_path / "src.py").write_text("x")
    (tmp_path / "orch").mkdir()
    (tmp_path / "orch" / "board.md").write_text("x")
    assert set(ownership.tree_snapshot(tmp_path, tmp_path / "state", tmp_path / "orch")) == {"src.py"}
    assert set(ownership.tree_snapshot(tmp_path, tmp_path.parent / "elsewhere")) == {
        "src.py",
        "orch/board.md",
        "state/results/r.json",
    }


def test_unowned_paths_are_described_with_who_ran() -> None:
    after = {"a.txt": (150, 1), "b.txt": (500, 1), "c.txt": (999, 1)}
    windows = [window("A1", 100, 200), window("A2", 400, 600), window("A3", 450, 600)]
    assert ownership.describe_unowned(["a.txt", "b.txt", "c.txt", "gone.txt"], after, windows) == [
        "a.txt (by A1)",
        "b.txt (ambiguous: A2, A3 were running)",
        "c.txt",
        "gone.txt",
    ]


# --------------------------------------------------------------------------- git plumbing


def git(repo: Path, *args: str) -> str:
    exe = shutil.which("git")
    assert exe is not None, "these tests need the git executable on PATH"
    return subprocess.run([exe, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "T")
    git(root, "config", "user.email", "t@example.invalid")
    (root / ".gitignore").write_text(".state/\n")
    (root / "shared.txt").write_text("base\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def agent_branch(repo: Path, name: str, files: dict[str, str]) -> Path:
    """A worktree on ``name`` from HEAD, with ``files`` written and committed by the orchestrator."""
    top = worktree.require_repo(repo)
    path = repo / ".state" / "worktrees" / name.replace("/", "-")
    assert worktree.ensure_worktree(top, path, name, worktree.head_commit(top)) is True
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    assert worktree.commit_all(path, f"work on {name}") is not None
    return path


def test_branch_names_are_ref_safe() -> None:
    assert worktree.branch_name("main", 3, "A1") == "wave/main/wave-3/A1"
    assert worktree.branch_name("my lane", None, "../x..y") == "wave/my-lane/wave-x/x-y"
    assert worktree.branch_name("main", 1, "a.lock") == "wave/main/wave-1/a.lock-"
    for hostile in ("..", "~^:?*[\\", "@{x}", " a b ", "-lead", "x" * 200):
        name = worktree.branch_name(hostile, 1, hostile)
        git_check = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"], check=False)
        assert git_check.returncode == 0, name


def test_worktree_changes_and_reuse(repo: Path) -> None:
    top = worktree.require_repo(repo)
    base = worktree.head_commit(top)
    path = agent_branch(repo, "wave/main/wave-1/A1", {"a1/x.py": "x\n"})
    (path / "shared.txt").write_text("changed, not committed\n")
    (path / "new.txt").write_text("untracked\n")
    assert worktree.changed_files(path, base) == ["a1/x.py", "new.txt", "shared.txt"]
    assert worktree.current_branch(path) == "wave/main/wave-1/A1"
    assert worktree.ensure_worktree(top, path, "wave/main/wave-1/A1", base) is False  # reused as it is
    with pytest.raises(WaveError, match="not wave/main/wave-1/A2"):
        worktree.ensure_worktree(top, path, "wave/main/wave-1/A2", base)


def test_commit_all_skips_caches_and_reports_nothing_to_commit(repo: Path) -> None:
    path = agent_branch(repo, "wave/main/wave-1/A1", {"a1/x.py": "x\n"})
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert worktree.commit_all(path, "again", exclude=["__pycache__"]) is None


def test_merge_in_order_reports_conflicts_and_keeps_branches(repo: Path) -> None:
    agent_branch(repo, "wave/main/wave-1/A1", {"a1/x.py": "one\n", "shared.txt": "from A1\n"})
    agent_branch(repo, "wave/main/wave-1/A2", {"a2/y.py": "two\n"})
    a3 = agent_branch(repo, "wave/main/wave-1/A3", {"shared.txt": "from A3\n"})
    tip3 = git(repo, "rev-parse", "wave/main/wave-1/A3")
    branches = [f"wave/main/wave-1/{agent}" for agent in ("A1", "A2", "A3", "A9")]
    report = worktree.merge_agent_branches(repo, branches)
    assert [(e.branch[-2:], e.status) for e in report.entries] == [
        ("A1", "merged"),
        ("A2", "merged"),
        ("A3", "conflicted"),
        ("A9", "missing"),
    ]
    assert report.entries[2].files == ["shared.txt"] and not report.ok
    assert [e.branch for e in report.conflicted] == branches[2:]
    assert (repo / "shared.txt").read_text() == "from A1\n"  # the tree is as the last clean merge left it
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(repo, "rev-parse", "wave/main/wave-1/A3") == tip3  # the conflicted branch is untouched
    assert (a3 / "shared.txt").read_text() == "from A3\n"
    # Merging again is idempotent: merged branches are up to date, the conflict is still reported.
    again = worktree.merge_agent_branches(repo, branches[:3])
    assert [e.status for e in again.entries] == ["up-to-date", "up-to-date", "conflicted"]
    assert again.head_before == again.head_after == report.head_after


def test_merge_blocked_by_local_changes_names_the_files(repo: Path) -> None:
    agent_branch(repo, "wave/main/wave-1/A1", {"shared.txt": "from A1\n"})
    (repo / "shared.txt").write_text("a human's uncommitted edit\n")
    report = worktree.merge_agent_branches(repo, ["wave/main/wave-1/A1"])
    entry = report.entries[0]
    assert entry.status == "blocked" and entry.files == ["shared.txt"]
    assert (repo / "shared.txt").read_text() == "a human's uncommitted edit\n"  # nothing overwritten


def test_merge_refuses_to_touch_a_humans_unfinished_merge(repo: Path) -> None:
    agent_branch(repo, "wave/main/wave-1/A1", {"shared.txt": "from A1\n"})
    agent_branch(repo, "wave/main/wave-1/A2", {"shared.txt": "from A2\n"})
    subprocess.run(["git", "merge", "-q", "wave/main/wave-1/A1"], cwd=repo, check=True)
    subprocess.run(["git", "merge", "-q", "--no-ff", "wave/main/wave-1/A2"], cwd=repo, capture_output=True)
    conflicted = (repo / "shared.txt").read_text()
    with pytest.raises(WaveError, match="a merge is already in progress"):
        worktree.merge_agent_branches(repo, ["wave/main/wave-1/A2"])
    assert (repo / "shared.txt").read_text() == conflicted  # their half-resolved merge is untouched
    assert (repo / ".git" / "MERGE_HEAD").is_file()


def test_merged_branch_restarts_from_the_new_base(repo: Path) -> None:
    top = worktree.require_repo(repo)
    path = agent_branch(repo, "wave/main/wave-1/A1", {"a1/x.py": "x\n"})
    worktree.merge_agent_branches(repo, ["wave/main/wave-1/A1"])
    worktree.remove_worktree(top, path)
    (repo / "later.txt").write_text("main moved on\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "later")
    base = worktree.head_commit(top)
    worktree.ensure_worktree(top, path, "wave/main/wave-1/A1", base)
    assert (path / "later.txt").is_file()  # the agent sees today's tree, and its old work is in it
    assert worktree.changed_files(path, base) == []
    assert worktree.delete_merged_branch(top, "wave/main/wave-1/A2") is False


def test_not_a_repository_is_one_line_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(WaveError) as info:
        worktree.require_repo(tmp_path)
    assert "needs a git repository" in info.value.one_line() and "(fix: run `git init" in info.value.one_line()
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(WaveError, match="has none"):
        worktree.require_repo(empty)


# --------------------------------------------------------------------------- which mode


def lane_repo(tmp_path: Path, lane_setting: str) -> Path:
    root = tmp_path / "lanes"
    (root / "waves").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[tool.wave]\nprojectName = "x"\n\n[tool.wave.lanes.main]\n{lane_setting}\n')
    (root / "waves" / "wave-1.md").write_text("# Wave 1\n\n## Agent A1: One\n\n### Prompt\n\n```text\nDo.\n```\n")
    return root


@pytest.mark.parametrize(
    ("lane_setting", "option", "expected"),
    [
        ('waveIsolation = "worktree"', "", "worktree"),
        ('waveIsolation = "worktree"', "shared", "shared"),  # the flag / ini wins over the lane
        ('docsDir = "docs"', "", "shared"),
        ('docsDir = "docs"', "worktree", "worktree"),
    ],
)
def test_isolation_mode_flag_then_lane_then_shared(
    tmp_path: Path, lane_setting: str, option: str, expected: str
) -> None:
    root = lane_repo(tmp_path, lane_setting)
    ctx = WaveContext.load(root / "waves" / "wave-1.md", RunOptions(isolation=option), repo_root=root)
    assert isolation.mode(ctx) == expected


def test_bad_lane_isolation_is_a_one_line_config_error(tmp_path: Path) -> None:
    root = lane_repo(tmp_path, 'waveIsolation = "sandbox"')
    with pytest.raises(WaveError) as info:
        WaveContext.load(root / "waves" / "wave-1.md", RunOptions(), repo_root=root)
    assert "waveIsolation" in info.value.one_line() and "\n" not in info.value.one_line()

"""``wave coord|feedback|dep``: the environment an agent runs in, one-line errors, nothing appended on error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from coordkit import run

ANCHOR = Path(__file__).resolve().parents[1] / "data" / "conformance" / "anchor-repo-0.5.4"


@pytest.fixture
def agent_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the launcher sets for every agent."""
    repo = tmp_path / "repo"
    shutil.copytree(ANCHOR, repo, ignore=shutil.ignore_patterns(".tmp"))
    state = repo / ".tmp" / "main-wave-launcher"
    for name, value in {
        "WAVE_LANE": "main",
        "WAVE_NUMBER": "0",
        "WAVE_AGENT_ID": "A1",
        "WAVE_REPO_ROOT": str(repo),
        "WAVE_STATE_DIR": str(state),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return state


def _log(state: Path) -> Path:
    return state / "coordination" / "wave-0.jsonl"


def test_post_reads_everything_from_the_environment(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["coord", "post", "--kind", "request", "--summary", "need a fixture", "--target", "capability:db"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["lane"], record["wave"], record["agentId"], record["source"]) == ("main", 0, "A1", "agent")
    assert json.loads(_log(agent_env).read_text()) == record


def test_a_posted_secret_is_redacted(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "ghp_" + "k" * 36
    assert run(["coord", "post", "--kind", "evidence", "--summary", f"pushed with {key}"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"] == "pushed with [redacted:github-token]"
    assert key not in _log(agent_env).read_text()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--summary", "x"], "kind: missing"),
        (["--kind", "request"], "summary: missing"),
        (["--kind", "gossip", "--summary", "x"], "Coordination kind must be one of"),
        (["--kind", "request", "--summary", "x", "--status", "maybe"], "Coordination status must be one of"),
        (["--kind", "request", "--summary", "x", "--priority", "asap"], "Coordination priority must be one of"),
        (["--kind", "request", "--summary", "x", "--wave", "two"], "wave: must be a non-negative integer"),
    ],
)
def test_bad_post_is_one_line_naming_the_field_and_appends_nothing(
    agent_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], field: str
) -> None:
    assert run(["coord", "post", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err
    assert not _log(agent_env).exists()


def test_missing_agent_without_environment(agent_env: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.delenv("WAVE_AGENT_ID")
    assert run(["coord", "post", "--kind", "claim", "--summary", "x"]) == 1
    assert "agent: missing" in capsys.readouterr().err


def test_post_with_id_updates_only_the_given_fields(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["coord", "post", "--id", "q1", "--kind", "request", "--summary", "index it", "--target", "agent:A1"])
    assert run(["coord", "post", "--id", "q1", "--status", "resolved"]) == 0
    capsys.readouterr()
    assert run(["coord", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    [record] = shown["latestRecords"]
    assert (record["status"], record["summary"], record["targets"]) == ("resolved", "index it", ["agent:A1"])
    assert shown["openRecords"] == []


def test_render_and_inbox_write_the_derived_files(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["coord", "post", "--kind", "blocker", "--summary", "docs lag", "--target", "agent:A9"])
    capsys.readouterr()
    assert run(["coord", "render"]) == 0
    board = Path(capsys.readouterr().out.strip())
    assert board.is_file() and "docs lag" in board.read_text()
    assert run(["coord", "inbox", "--agent", "A9"]) == 0
    shared, inbox, paths = (Path(p) for p in capsys.readouterr().out.split())
    assert "docs lag" in inbox.read_text() and "docs lag" in shared.read_text()
    assert json.loads(paths.read_text()) == {"sharedPath": str(shared), "inboxPath": str(inbox)}
    for name in ("ledger", "assignments", "docs-queue", "integration"):
        assert (agent_env / name / "wave-0.json").is_file()
    assert run(["coord", "inbox", "--agent", "Z9"]) == 1


def test_feedback_ask_list_respond_show(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["feedback", "ask", "--question", "drop v1?", "--context", "no callers"]) == 0
    rid = json.loads(capsys.readouterr().out)["id"]
    assert run(["feedback", "list", "--pending"]) == 0
    assert rid in capsys.readouterr().out
    assert run(["feedback", "respond", "--id", rid, "--response", "yes", "--operator", "ana"]) == 0
    assert run(["feedback", "respond", "--id", rid, "--response", "no"]) == 1
    assert "already answered" in capsys.readouterr().err
    assert run(["feedback", "watch", "--id", rid, "--timeout-seconds", "0"]) == 0
    assert run(["feedback", "show", "--id", rid]) == 0
    shown = capsys.readouterr().out
    assert '"status": "answered"' in shown.split(rid, 1)[1]
    assert run(["feedback", "show", "--id", "nope"]) == 1
    log = [json.loads(line) for line in _log(agent_env).read_text().splitlines()]
    assert [(r["id"], r["kind"], r["status"]) for r in log] == [
        (rid, "human-feedback", "open"),
        (rid, "human-feedback", "resolved"),
    ]


def test_dep_post_show_resolve_render(agent_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["dep", "post", "--owner-lane", "main", "--owner-wave", "0", "--requester-lane", "web",
                "--requester-wave", "2", "--summary", "expose the parser api", "--required", "--id", "dep-1",
                "--target", "agent:A1"]) == 0  # fmt: skip
    assert run(["dep", "show", "--wave", "0"]) == 0
    snapshot = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert snapshot["requiredInbound"] == ["dep-1"]
    assert run(["dep", "resolve", "--id", "dep-1", "--agent", "A1"]) == 0
    assert run(["dep", "resolve", "--id", "dep-404", "--agent", "A1"]) == 1
    assert "Dependency dep-404 not found for lane main" in capsys.readouterr().err
    assert run(["dep", "render", "--wave", "0"]) == 0
    json_path = Path(capsys.readouterr().out.split()[0])
    rendered = json.loads(json_path.read_text())
    assert rendered["requiredInbound"] == [] and rendered["inbound"][0]["status"] == "resolved"
    assert run(["dep", "post", "--owner-wave", "0", "--requester-wave", "1"]) == 1  # no summary

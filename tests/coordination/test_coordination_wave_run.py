"""A real wave run (local executor) with the blackboard wired in: inboxes reach the prompts, a
blocking record stops closure with a named check, an open human question stops retries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from coordkit import run

ANCHOR = Path(__file__).resolve().parents[1] / "data" / "conformance" / "anchor-repo-0.5.4"
STATE = "repo/.tmp/main-wave-launcher"
WAVE_ENV = ("WAVE_LANE", "WAVE_NUMBER", "WAVE_AGENT_ID", "WAVE_STATE_DIR", "WAVE_REPO_ROOT", "WAVE_RUN_ID")

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The repo is a sub-folder: pytester writes its own stdout/stderr files into its cwd.
    target = pytester.path / "repo"
    shutil.copytree(ANCHOR, target, ignore=shutil.ignore_patterns(".tmp"))
    for name in WAVE_ENV:
        monkeypatch.delenv(name, raising=False)
    return target


def _post(repo: Path, *args: str) -> None:
    code = run(["coord", "post", "--repo-root", str(repo), "--lane", "main", "--wave", "0", *args])
    assert code == 0


def _records(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    latest: dict[str, dict[str, object]] = {}
    for line in (pytester.path / STATE / "coordination" / "wave-0.jsonl").read_text().splitlines():
        record = json.loads(line)
        latest[record["id"]] = {**latest.get(record["id"], {}), **record}
    return latest


def test_clean_wave_closes_and_every_seed_closes(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest_subprocess("repo/docs/plans/waves/wave-0.md", "--wave-executor", "local",
                                           "-p", "no:cacheprovider")  # fmt: skip
    result.stdout.fnmatch_lines(["*wave-0.md: CLOSED*"])
    assert result.ret == 0
    records = _records(pytester)
    assert records["wave-0-agent-A1-request"]["status"] == "resolved"
    assert all(r["status"] not in ("open", "in_progress") for r in records.values())
    ledger = json.loads((pytester.path / STATE / "ledger" / "wave-0.json").read_text())
    assert ledger["phase"] == "completed"
    prompt = (pytester.path / STATE / "prompts" / "wave-0-0-a1.prompt.md").read_text()
    assert "# Wave 0 inbox for A1" in prompt and "# Wave 0 shared summary (lane main)" in prompt


def test_blocking_record_stops_closure_and_reaches_the_inbox(pytester: pytest.Pytester, repo: Path) -> None:
    _post(repo, "--agent", "A8", "--kind", "blocker", "--summary", "parser drops trailing fences",
          "--target", "agent:A1", "--id", "blk-fences")  # fmt: skip
    result = pytester.runpytest_subprocess("repo/docs/plans/waves/wave-0.md", "--wave-executor", "local",
                                           "-p", "no:cacheprovider", "--wave-max-retries", "0")  # fmt: skip
    result.stdout.fnmatch_lines(["*coordination: open blocking records*", "*wave-0.md: NOT CLOSED*"])
    assert result.ret != 0
    prompt = (pytester.path / STATE / "prompts" / "wave-0-0-a1.prompt.md").read_text()
    inbox = prompt.split("## Targeted open coordination", 1)[1].split("##", 1)[0]
    assert "parser drops trailing fences (blk-fences)" in inbox

    # Resolving it (as the agent would, by id) lets the next run close.
    _post(repo, "--agent", "A1", "--id", "blk-fences", "--status", "resolved")
    result = pytester.runpytest_subprocess("repo/docs/plans/waves/wave-0.md", "--wave-executor", "local",
                                           "-p", "no:cacheprovider")  # fmt: skip
    result.stdout.fnmatch_lines(["*wave-0.md: CLOSED*"])


def test_open_human_question_stops_the_wave_instead_of_retrying(pytester: pytest.Pytester, repo: Path) -> None:
    code = run(["feedback", "ask", "--repo-root", str(repo), "--lane", "main", "--wave", "0", "--agent", "A1",
                "--question", "may the parser drop legacy fences?"])  # fmt: skip
    assert code == 0
    result = pytester.runpytest_subprocess("repo/docs/plans/waves/wave-0.md", "--wave-executor", "local",
                                           "-p", "no:cacheprovider", "--wave-max-retries", "2")  # fmt: skip
    result.stdout.fnmatch_lines(["*wave-0.md: NOT CLOSED*", "*waiting on human*"])
    assert "attempt-2" not in result.stdout.str()  # no retry loop
    assert not list((pytester.path / STATE / "results" / "wave-0").glob("*/attempt-2"))

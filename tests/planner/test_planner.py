"""Planner: project profile, drafts and their round trip, replanning, ad-hoc runs, skills, Context7."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from plannerkit import sample_repo

from pytest_wave import context7

TEMPLATES = ("implementation", "qa", "infra", "release", "migration")


@pytest.fixture
def repo(pytester: pytest.Pytester) -> Path:
    return sample_repo(pytester.path / "repo")


def wave(repo: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_wave.cli", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files(repo: Path) -> set[str]:
    return {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}


def test_setup_flags_write_the_profile(repo: Path) -> None:
    result = wave(
        repo,
        "project",
        "setup",
        "--yes",
        "--new-project",
        "--oversight-mode",
        "dark-factory",
        "--terminal-surface",
        "tmux",
        "--default-template",
        "qa",
        "--deploy-env",
        "prod:railway-cli:default:name=Prod",
    )
    assert result.returncode == 0, result.stderr
    profile = json.loads((repo / ".wave/project-profile.json").read_text())
    assert profile["schemaVersion"] == 1 and profile["newProject"] is True
    assert profile["defaultOversightMode"] == "dark-factory" and profile["defaultTerminalSurface"] == "tmux"
    assert profile["plannerDefaults"] == {"template": "qa", "lane": "main"}
    assert profile["deployEnvironments"][0] == {
        "id": "prod",
        "name": "Prod",
        "kind": "railway-cli",
        "isDefault": True,
        "notes": None,
    }
    shown = wave(repo, "project", "show")
    assert "prod (railway-cli, default): Prod" in shown.stdout


def test_setup_prompts_read_stdin_and_reprompt(repo: Path) -> None:
    answers = "y\nbogus\ndark-factory\n\nrelease\n\n0\n"
    result = wave(repo, "project", "setup", stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "Expected one of: oversight, dark-factory" in result.stderr
    profile = json.loads((repo / ".wave/project-profile.json").read_text())
    assert profile["newProject"] is True and profile["defaultOversightMode"] == "dark-factory"
    assert profile["plannerDefaults"]["template"] == "release"


def test_setup_through_a_real_terminal(repo: Path) -> None:
    try:
        import pexpect  # a test extra: missing means a broken install, not a reason to skip
    except ImportError:
        pytest.fail("pexpect is not installed (it comes with the [test] extra)")
    child = pexpect.spawn(
        sys.executable, ["-m", "pytest_wave.cli", "project", "setup"], cwd=str(repo), encoding="utf-8", timeout=30
    )
    for question, answer in [
        ("new project", "n"),
        ("posture", "nope"),
        ("Expected one of", None),
        ("posture", "oversight"),
        ("terminal surface", "tmux"),
        ("draft template", ""),
        ("draft lane", ""),
        ("deploy environments", "1"),
        ("id", "staging"),
        ("name", "Staging"),
        ("provider", "docker-compose"),
        ("default", "y"),
        ("notes", ""),
    ]:
        child.expect(question)
        if answer is not None:
            child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    profile = json.loads((repo / ".wave/project-profile.json").read_text())
    assert profile["defaultTerminalSurface"] == "tmux"
    assert profile["deployEnvironments"][0]["kind"] == "docker-compose"


def test_draft_through_a_real_terminal(repo: Path) -> None:
    import pexpect

    assert wave(repo, "project", "setup", "--yes", "--default-template", "qa").returncode == 0
    child = pexpect.spawn(
        sys.executable, ["-m", "pytest_wave.cli", "draft", "--wave", "3"], cwd=str(repo), encoding="utf-8", timeout=30
    )
    answers = {
        r"Wave title \[QA Closure\]: ": "Login QA",
        r"How many component promotions belong in this wave\? \[1\]: ": "1",
        r"Component id \[new-component\]: ": "login",
        r"How many worker agents belong in this wave\? \[1\]: ": "2",
        r"Agent A2 primary goal[^\n]*: ": "Prove the login flow end to end",
    }
    patterns = [*answers, r"[^\n]+: ", pexpect.EOF]
    asked = 0
    while (index := child.expect(patterns)) != len(patterns) - 1:
        answer = list(answers.values())[index] if index < len(answers) else ""  # the rest: take the default
        child.sendline(answer)
        asked += 1
    child.close()
    assert child.exitstatus == 0, child.before
    assert asked > 20  # every question was really asked on the terminal
    spec = json.loads((repo / "docs/plans/waves/specs/wave-3.json").read_text())
    assert spec["title"] == "Login QA" and spec["template"] == "qa"
    # qa's default target (qa-proved) is not a level of this repo's matrix: its highest level is the default.
    assert spec["componentPromotions"] == [{"componentId": "login", "targetLevel": "pilot-live"}]
    workers = [a for a in spec["agents"] if a["agentId"] in ("A1", "A2")]
    assert [a["primaryGoal"] for a in workers][1] == "Prove the login flow end to end"
    assert all(a["components"] == ["login"] for a in workers)
    assert wave(repo, "lint", "docs/plans/waves/wave-3.md").returncode == 0


@pytest.mark.parametrize("content", ["{not json", '{"schemaVersion": 1, "defaultOversightMode": "bogus"}'])
@pytest.mark.parametrize(
    "command", [("draft", "--wave", "3", "--yes"), ("project", "setup", "--yes"), ("project", "show")]
)
def test_corrupt_profile_is_one_line_and_writes_nothing(repo: Path, content: str, command: tuple[str, ...]) -> None:
    (repo / ".wave").mkdir()
    (repo / ".wave/project-profile.json").write_text(content)
    before = {p: (repo / p).read_bytes() for p in files(repo)}
    result = wave(repo, *command)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(".wave/project-profile.json: error: corrupt project profile: ")
    assert "(fix: fix the file, or delete it and run 'wave project setup' again)" in result.stderr
    assert {p: (repo / p).read_bytes() for p in files(repo)} == before


def test_draft_of_a_closed_wave_is_one_line_and_writes_nothing(repo: Path) -> None:
    assert wave(repo, "project", "setup", "--yes").returncode == 0
    state = repo / ".tmp/main-wave-launcher/run-state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"completedWaves": [3]}))
    before = {p: (repo / p).read_bytes() for p in files(repo)}
    for extra in ((), ("--force",)):
        result = wave(repo, "draft", "--wave", "3", "--yes", *extra)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("docs/plans/waves/wave-3.md: error: wave 3 is closed")
        assert {p: (repo / p).read_bytes() for p in files(repo)} == before


@pytest.mark.parametrize("template", TEMPLATES)
def test_draft_round_trips_and_validates(repo: Path, template: str) -> None:
    from planner.common import Repo
    from planner.draft import build_draft, wave_to_spec_facts
    from planner.models import DraftSpec
    from pytest_wave.parse.render import render_wave
    from pytest_wave.parse.wave import parse_wave_file

    result = wave(repo, "draft", "--wave", "3", "--yes", "--template", template, "--goal", "Build the thing")
    assert result.returncode == 0, result.stderr
    spec = DraftSpec.model_validate_json((repo / "docs/plans/waves/specs/wave-3.json").read_text())
    assert spec.template == template and [a.agent_id for a in spec.agents] == ["A0", "A8", "A9", "A1"]
    md = repo / "docs/plans/waves/wave-3.md"
    parsed = parse_wave_file(md, display_path="docs/plans/waves/wave-3.md")
    assert wave_to_spec_facts(parsed) == spec.wave_facts()
    assert render_wave(parsed) == md.read_text()
    matrix = json.loads((repo / "waves/component-matrix.json").read_text())
    assert {"wave": 3, "target": spec.component_promotions[0].target_level} in matrix["components"]["new-component"][
        "promotions"
    ]
    assert "Wave 3 promotes `new-component`" in (repo / "waves/component-matrix.md").read_text()
    assert wave(repo, "lint", "docs/plans/waves/wave-3.md").returncode == 0
    build_draft(Repo.find(repo), spec, None)  # validates again without raising


def test_several_workers_get_disjoint_default_ownership(repo: Path) -> None:
    for template in TEMPLATES:
        result = wave(repo, "draft", "--wave", "3", "--yes", "--force", "--workers", "3", "--template", template)
        assert result.returncode == 0, (template, result.stderr)
        spec = json.loads((repo / "docs/plans/waves/specs/wave-3.json").read_text())
        owned = [p for a in spec["agents"] if a["agentId"] in ("A1", "A2", "A3") for p in a["ownedPaths"]]
        assert len(owned) == len(set(owned)) and all(
            not (a != b and b.endswith("/") and a.startswith(b)) for a in owned for b in owned
        ), (template, owned)


def test_failing_draft_leaves_no_files(repo: Path) -> None:
    before = files(repo)
    # An unknown component level fails before anything (the profile included) is written.
    result = wave(
        repo,
        "draft",
        "--wave",
        "3",
        "--yes",
        "--project-profile-none" if False else "--yes",
        "--component",
        "core=not-a-level",
    )
    assert result.returncode == 1 and "unknown level" in result.stderr
    assert files(repo) == before
    # A draft that does not validate: the evaluator's role prompt is gone.
    (repo / "docs/agents/wave-evaluator-role.md").unlink()
    before = files(repo)
    result = wave(repo, "draft", "--wave", "3", "--yes")
    assert result.returncode == 1 and "nothing written" in result.stderr, result.stderr
    assert files(repo) == before


def test_update_keeps_closed_waves_byte_identical(repo: Path) -> None:
    assert wave(repo, "draft", "--wave", "3", "--yes").returncode == 0
    assert wave(repo, "draft", "--wave", "4", "--yes", "--component", "new-component=baseline-proved").returncode == 0
    closed = (repo / "docs/plans/waves/wave-3.md").read_bytes()
    state = repo / ".tmp/main-wave-launcher/run-state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"completedWaves": [3]}))
    matrix_path = repo / "waves/component-matrix.json"
    matrix = json.loads(matrix_path.read_text())
    matrix["components"]["new-component"]["currentLevel"] = "repo-landed"  # what wave 3's steward recorded
    matrix_path.write_text(json.dumps(matrix))
    refused = wave(repo, "draft", "--wave", "3", "--yes", "--force")
    assert refused.returncode == 1 and "closed" in refused.stderr
    assert wave(repo, "update", "--from-wave", "3").returncode == 1
    result = wave(repo, "update", "--from-wave", "4")
    assert result.returncode == 0, result.stderr
    assert "current level inventoried -> repo-landed" in result.stdout
    assert (repo / "docs/plans/waves/wave-3.md").read_bytes() == closed
    record = json.loads((repo / "docs/plans/waves/specs/replan-4.json").read_text())
    assert record["closedWaves"] == [3] and record["regeneratedWaves"] == [4]


def test_adhoc_run_closes_on_local_and_is_listed(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(repo),
        "-c",
        str(repo / "pyproject.toml"),
        "--wave-adhoc",
        "fix the login bug",
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*wave ad-hoc run *: CLOSED*", "*wave-adhoc.md: CLOSED*"])
    listing = wave(repo, "adhoc", "list")
    assert listing.returncode == 0 and "\tclosed\t" in listing.stdout and "fix the login bug" in listing.stdout
    run_id = listing.stdout.split("\t", 1)[0]
    run = repo / ".wave/adhoc/runs" / run_id
    assert (run / "wave-adhoc.md").is_file() and (run / "results/wave.json").is_file()
    state = repo / ".tmp/main-wave-launcher/run-state.json"
    assert not state.exists() or json.loads(state.read_text()).get("completedWaves", []) == []
    assert "closed" in wave(repo, "adhoc", "show", run_id).stdout


def test_empty_adhoc_request_is_refused(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-c", str(repo / "pyproject.toml"), "--rootdir", str(repo), "--wave-adhoc", "  "
    )
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*ad-hoc request is empty*"])
    assert not (repo / ".wave").exists()


def test_skills_resolve_per_role_runtime_and_deploy_kind(repo: Path) -> None:
    from pytest_wave.config import load_config, resolve_lane
    from pytest_wave.model.config import LaneConfig, SkillsConfig
    from pytest_wave.model.wave import Agent, DeployEnvironment, Wave
    from pytest_wave.skills import resolve_skills

    lane: LaneConfig = resolve_lane(load_config(repo))
    lane = lane.model_copy(
        update={
            "skills": SkillsConfig(
                base=["wave-core"],
                by_role={"implementation": ["role-implementation"], "evaluator": ["role-evaluator"]},
                by_runtime={"local": ["runtime-local"], "claude": ["runtime-claude"]},
                by_deploy_kind={"railway-cli": ["provider-railway"]},
            )
        }
    )
    agent = Agent(id="A1", title="t", slug="1-a1", prompt="p", skills=["repo-coding-rules", "wave-core"])
    w = Wave(path="w.md", agents=[agent], deploy_environments=[DeployEnvironment(id="prod", kind="railway-cli")])
    local = resolve_skills(repo, lane, w, agent, "implementation", "local")
    assert local.ids == ["wave-core", "role-implementation", "runtime-local", "provider-railway", "repo-coding-rules"]
    assert "### local adapter" in local.prompt_text and "## Skill provider-railway" in local.prompt_text
    claude = resolve_skills(repo, lane, w, agent, "evaluator", "claude")
    assert claude.ids[:3] == ["wave-core", "role-evaluator", "runtime-claude"]
    assert "### claude adapter" in claude.prompt_text and claude.prompt_hash != local.prompt_hash


# --------------------------------------------------------------------------- Context7

INDEX = {
    "version": 1,
    "defaultBundle": "none",
    "bundles": {
        "none": {"description": "none", "libraries": []},
        "web": {"description": "web", "libraries": [{"libraryName": "flask", "queryHint": "routing"}]},
    },
}


def _selection() -> context7.Selection:
    index = context7.BundleIndex.model_validate(INDEX)
    return context7.select(
        index,
        lane="main",
        agent_bundle="web",
        agent_query=None,
        wave_bundle=None,
        wave_query=None,
        prompt="Add a login route\nFile ownership:\n- app.py",
        title="t",
    )


def test_context7_selection_and_offline_modes(tmp_path: Path) -> None:
    selection = _selection()
    assert selection.bundle_source == "agent" and selection.query_source == "derived"
    assert selection.query == "Add a login route - app.py"  # ownership headings are skipped, bullets kept
    missing = context7.prefetch(selection, tmp_path, api_key="")
    assert missing.mode == "missing-key" and missing.prompt_block() == ""  # the prompt stays unchanged
    unreachable = context7.prefetch(
        selection, tmp_path, client=context7.HttpDocsClient("k", base="http://127.0.0.1:9", timeout=2, attempts=1)
    )
    assert unreachable.mode == "error" and unreachable.prompt_block() == ""


@pytest.fixture
def stub_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert self.headers["Authorization"] == "Bearer key"
            body = (
                b'{"results":[{"id":"/pallets/flask"}]}'
                if "libs/search" in self.path
                else b"Use @app.route to add routes."
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_context7_fetch_and_cache_with_stub_server(tmp_path: Path, stub_server: str) -> None:
    selection = _selection()
    fetched = context7.prefetch(selection, tmp_path, client=context7.HttpDocsClient("key", base=stub_server))
    assert fetched.mode == "fetched" and "/pallets/flask" in fetched.text and "@app.route" in fetched.text
    cached = context7.prefetch(selection, tmp_path, api_key="")
    assert cached.mode == "cached" and cached.text == fetched.text

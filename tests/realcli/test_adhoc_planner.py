"""Ad-hoc planning through a real planner runtime: claude, pointed at our loopback model.

The mock model plays the planner: its script makes claude write the draft spec with its own ``Write``
tool. A valid spec becomes the run's plan (and the planned wave closes on ``local``); an invalid one is
discarded and the deterministic template plans the run, which ``run.json`` and the output say.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clikit import PROJECT, isolated_env

from pytest_wave.mockmodel import MockModelServer, Scenario, Script, Step
from pytest_wave.mockmodel.scenario import collect_text

pytestmark = pytest.mark.realcli

CONFIG = {
    "projectName": "adhoc-planner",
    "executors": {"default": "local", "profiles": {"planner": {"id": "claude"}}},
}
REQUEST = "fix the login bug"


def make_repo(root: Path) -> Path:
    (root / "docs" / "agents").mkdir(parents=True)
    for prompt in (PROJECT / "docs" / "agents").glob("wave-*-role.md"):
        (root / "docs" / "agents" / prompt.name).write_text(prompt.read_text())
    (root / "wave.config.json").write_text(json.dumps(CONFIG, indent=2))
    return root


def model_spec(repo: Path, run_id: str) -> dict[str, Any]:
    """What a planner model would write: the template's plan, refined (own title, two workers)."""
    from planner.adhoc import template_spec
    from planner.common import Repo
    from planner.draft import _read_matrix

    context = Repo.find(repo)
    lane = context.lane(None)
    spec = template_spec(context, lane, [REQUEST], run_id, _read_matrix(context, lane))
    data: dict[str, Any] = spec.model_dump(by_alias=True, mode="json")
    data["title"] = "Login fix, planned by the model"
    a1 = data["agents"][0]
    a2 = {
        **a1,
        "agentId": "A2",
        "title": "Regression test for the login fix",
        "ownedPaths": [f".wave/adhoc/runs/{run_id}/A2-report.md", "tests/test_login.py"],
        "deliverables": [f".wave/adhoc/runs/{run_id}/A2-report.md"],
        "validationCommand": f"{Path(sys.executable).name} -c \"print('ok')\"",
    }
    data["agents"] = [a1, a2, *data["agents"][1:]]
    return data


def plan(repo: Path, env: dict[str, str], run_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_wave.cli", "adhoc", "plan", "--task", REQUEST, "--run-id", run_id],
        cwd=repo,
        env={**env, "PWD": str(repo)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def planner_script(run_id: str, content: str) -> Scenario:
    path = f".wave/adhoc/runs/{run_id}/planner/draft-spec.json"
    return Scenario(agents={"planner": Script(steps=[Step(write=path, content=content), Step(text="Spec written.")])})


def test_claude_plans_the_adhoc_run_and_it_closes_on_local(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    run_id = "model-1"
    mock_model.set_scenario(planner_script(run_id, json.dumps(model_spec(repo, run_id), indent=2)))
    env = isolated_env(tmp_path / "home", mock_model)
    result = plan(repo, env, run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "planned by the claude planner runtime" in result.stderr
    run = repo / ".wave/adhoc/runs" / run_id
    record = json.loads((run / "run.json").read_text())
    assert record["planner"] == "runtime" and record["plannerRuntime"] == "claude"
    wave_text = (run / "wave-adhoc.md").read_text()
    assert wave_text.startswith(f"# Ad-hoc run {run_id} - Login fix, planned by the model\n")
    assert "## Agent A2: Regression test for the login fix" in wave_text
    # claude got our prompt and system prompt, and wrote the spec with its own tool call.
    requests = [r for r in mock_model.requests if r.agent == "planner" and r.api == "messages"]
    assert requests and any(r.tool_results >= 1 for r in requests)
    sent = "\n".join(collect_text(r.body) for r in requests if r.body)
    assert "Resolved executor: claude." in sent and REQUEST in sent and '"wave": null' in sent
    assert (run / "planner" / "draft-spec.json").is_file() and (run / "planner" / "planner.log").is_file()
    # The model's plan runs like any wave: on local it closes with no model at all.
    closed = subprocess.run(
        [sys.executable, "-m", "pytest", str(run / "wave-adhoc.md"), "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=repo,
        env={**env, "PWD": str(repo)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert closed.returncode == 0, closed.stdout[-4000:]
    assert "wave-adhoc.md: CLOSED" in closed.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{this is not json", "is not a valid draft spec"),
        ("drop-evaluator", "does not validate"),
    ],
)
def test_invalid_planner_output_falls_back_to_the_template(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path, content: str, reason: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    run_id = "bad-1"
    if content == "drop-evaluator":
        data = model_spec(repo, run_id)
        data["agents"] = [a for a in data["agents"] if a["agentId"] != "A0"]
        content = json.dumps(data)
    mock_model.set_scenario(planner_script(run_id, content))
    result = plan(repo, isolated_env(tmp_path / "home", mock_model), run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.count("planned by the template") == 1 and reason in result.stderr
    run = repo / ".wave/adhoc/runs" / run_id
    record = json.loads((run / "run.json").read_text())
    assert record["planner"] == "template" and record["plannerRuntime"] == "claude"
    assert reason in record["plannerNote"]
    assert (run / "wave-adhoc.md").read_text().startswith(f"# Ad-hoc run {run_id} - {REQUEST}\n")
    assert any(r.agent == "planner" for r in mock_model.requests)  # the runtime really ran


# --------------------------------------------------------------------------- skills, projected per runtime


def system_text(body: dict[str, Any], api: str) -> str:
    """The system-level instructions of one request: claude ``system``, codex developer messages,
    opencode's system message (not the user's task prompt, which carries the skills as well)."""
    if api == "messages":
        system = body.get("system") or []
        return system if isinstance(system, str) else collect_text(system)
    if api == "responses":
        return collect_text([item for item in body.get("input", []) if item.get("role") == "developer"])
    return collect_text([m for m in body.get("messages", []) if m.get("role") == "system"])


def test_skills_reach_each_runtime_beyond_the_task_prompt(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    from clikit import CONFIG, run_wave
    from clikit import make_repo as make_wave_repo

    repo = make_wave_repo(tmp_path / "repo")
    (repo / "wave.config.json").write_text(
        json.dumps({**CONFIG, "skills": {"base": ["repo-coding-rules"], "byRuntime": {"codex": ["runtime-codex"]}}})
    )
    run = run_wave(repo, isolated_env(tmp_path / "home", mock_model))
    assert run.returncode == 0, run.output[-6000:]
    expected = {"A1": "responses", "A8": "messages", "A9": "chat"}  # codex, claude, opencode
    for agent, api in expected.items():
        bodies = [r.body for r in mock_model.requests if r.agent == agent and r.api == api and r.body]
        system = "\n".join(system_text(body, api) for body in bodies)
        assert "## Skill repo-coding-rules" in system, (agent, api)
    a1 = "\n".join(system_text(r.body, "responses") for r in mock_model.requests if r.agent == "A1" and r.body)
    assert "### codex adapter" in a1
    overlays = repo / ".tmp/main-wave-launcher/executors/wave-1"
    assert "| runtime-codex | runtime codex | yes |" in next(overlays.glob("*a1*/skills.resolved.md")).read_text()


def test_a_planner_that_writes_outside_its_spec_stops_the_run(
    real_clis: dict[str, str], mock_model: MockModelServer, tmp_path: Path
) -> None:
    """The planner may write its spec and nothing else: a stray edit is named, and nothing is planned
    (falling back to the template would plan against a tree the model already changed)."""
    repo = make_repo(tmp_path / "repo")
    run_id = "stray-1"
    spec = json.dumps(model_spec(repo, run_id))
    steps = [
        Step(write="src/login.py", content="# the planner was not asked to touch this\n"),
        Step(write=f".wave/adhoc/runs/{run_id}/planner/draft-spec.json", content=spec),
        Step(text="Spec written."),
    ]
    mock_model.set_scenario(Scenario(agents={"planner": Script(steps=steps)}))
    result = plan(repo, isolated_env(tmp_path / "home", mock_model), run_id)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "the claude planner runtime changed files outside its spec: src/login.py" in result.stderr
    assert "fix: review and revert those changes" in result.stderr
    assert not (repo / ".wave/adhoc/runs" / run_id / "wave-adhoc.md").exists()

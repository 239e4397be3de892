"""A repository of the Node.js tool 0.9.15, unchanged: its config loads, its waves parse and lint, wave 0 runs.

The fixture is the npm package's own repository, trimmed (see its README.md). 0.9 renamed the
evaluator "cont-QA" in config keys, added a cont-eval agent, the agentic planner's settings and
closure relaxations; pytest-wave reads them all (the relaxations are reported, not applied).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2ekit import DATA, assert_no_traceback, output, run_wave

from planner.runtime import configured_planner
from pytest_wave.config import load_config
from pytest_wave.engine.resolve import RoleIds, infer_role, resolve_executor
from pytest_wave.errors import WaveConfigError
from pytest_wave.lint.runner import lint_wave
from pytest_wave.model.config import LaneConfig, WaveConfig
from pytest_wave.parse.wave import parse_wave_file, parse_wave_text
from pytest_wave.skills import skill_sources

NODE_09 = DATA / "node-0.9.15-repo"
WAVES = NODE_09 / "docs" / "plans" / "waves"
# Lint errors of the tool's own waves here. Waves 4-6 give two agents one proof folder: an error for
# pytest-wave's lint (who wrote what there cannot be told apart), which does not stop a run.
LINT_ERRORS = {
    0: {},
    1: {},
    2: {},
    3: {},
    4: {"ownership-overlap": 4},
    5: {"ownership-overlap": 2},
    6: {"ownership-overlap": 1},
}


def _lane() -> LaneConfig:
    return load_config(NODE_09).resolve_lane(None)


def test_the_0_9_config_loads_with_its_renamed_and_new_keys() -> None:
    lane = _lane()
    roles = lane.roles
    assert (roles.evaluator_agent_id, roles.evaluator_role_prompt_path) == ("A0", "docs/agents/wave-cont-qa-role.md")
    assert (roles.cont_eval_agent_id, roles.cont_eval_role_prompt_path) == ("E0", "docs/agents/wave-cont-eval-role.md")
    assert roles.security_role_prompt_path == "docs/agents/wave-security-role.md"
    assert lane.planner.agentic.executor_profile == "planning-readonly"
    assert lane.planner.agentic.default_max_waves == 3
    assert lane.validation.auto_closure is not None
    assert lane.validation.auto_closure.relaxations() == [
        "allowInferredIntegration",
        "allowAutoDocNoChange",
        "allowSkipContQaInBootstrap",
    ]
    assert lane.validation.closure_mode_thresholds is not None
    assert lane.validation.closure_mode_thresholds.standard == 4


def test_the_json_schema_lists_the_0_9_role_names() -> None:
    schema = WaveConfig.model_json_schema(by_alias=True)
    roles = schema["$defs"]["RolesConfig"]
    assert roles["additionalProperties"] is False
    assert roles["properties"]["contQaAgentId"]["description"] == "Node.js 0.9 name of evaluatorAgentId"
    assert "contQaRolePromptPath" in roles["properties"] and "contEvalAgentId" in roles["properties"]
    assert "autoClosure" in schema["$defs"]["ValidationConfig"]["properties"]
    assert "agentic" in schema["$defs"]["PlannerConfig"]["properties"]


def test_the_agentic_planner_profile_plans_when_no_planner_profile_exists() -> None:
    runtime = configured_planner(_lane())
    assert (runtime.executor_id, runtime.profile.model) == ("codex", "gpt-5-codex")


def test_cont_qa_and_cont_eval_keys_pick_runtimes_and_skills() -> None:
    lane = _lane()
    text = "# Wave 9 - Keys\n\n" + "".join(
        f"## Agent {agent_id}: {title}\n\n### Prompt\n\n```text\nDo it.\n```\n\n"
        for agent_id, title in (("A1", "Build"), ("E0", "Eval tuning"), ("A0", "Cont QA"))
    )
    wave = parse_wave_text(text, path="docs/plans/waves/wave-9.md")
    roles = RoleIds.from_lane(lane)
    chosen = {}
    for agent in wave.agents:
        role = infer_role(agent, roles)
        resolved = resolve_executor(agent, role, lane)
        chosen[agent.id] = (role, resolved.id, resolved.selected_by)
        if agent.id == "A0":
            assert "role-cont-qa" in skill_sources(lane, wave, agent, role, resolved.id)
    # defaultExecutorByRole: implementation codex, cont-eval codex, cont-qa claude.
    assert chosen == {
        "A1": ("implementation", "codex", "lane-role-default"),
        "E0": ("implementation", "codex", "lane-role-default"),
        "A0": ("evaluator", "claude", "lane-role-default"),
    }


def test_contradicting_evaluator_keys_are_one_clear_error(tmp_path: Path) -> None:
    config = json.loads((NODE_09 / "wave.config.json").read_text())
    config["roles"]["evaluatorAgentId"] = "Q0"
    (tmp_path / "wave.config.json").write_text(json.dumps(config))
    with pytest.raises(WaveConfigError) as excinfo:
        load_config(tmp_path)
    message = excinfo.value.one_line()
    assert "contQaAgentId (A0) and evaluatorAgentId (Q0) name the same role; keep one" in message
    assert "wave.config.json" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["roles"].update(contQaAgentId=5), "roles.contQaAgentId: Input should be a valid string"),
        (
            lambda c: c["roles"].update(contQaRolePromptPath="../outside.md"),
            "roles.contQaRolePromptPath must stay within the repository: ../outside.md",
        ),
        (
            lambda c: c["planner"]["agentic"].update(executorProfile="nope"),
            "planner: agentic.executorProfile names 'nope', which is not in executors.profiles (deep-review, ",
        ),
        (
            lambda c: c["validation"]["autoClosure"].update(allowInferredIntegration="sometimes"),
            "validation.autoClosure.allowInferredIntegration: Input should be a valid boolean",
        ),
    ],
    ids=["wrong-type", "escaping-path", "unknown-planner-profile", "not-a-flag"],
)
def test_bad_0_9_keys_are_one_line_naming_the_key_as_written(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    config = json.loads((NODE_09 / "wave.config.json").read_text())
    edit(config)
    (tmp_path / "wave.config.json").write_text(json.dumps(config, indent=2))
    with pytest.raises(WaveConfigError) as excinfo:
        load_config(tmp_path)
    assert expected in excinfo.value.one_line()


@pytest.mark.parametrize("key", ["projects", "defaultProject", "waveControl", "externalProviders"])
def test_0_9_settings_for_features_we_lack_say_so(tmp_path: Path, key: str) -> None:
    config = json.loads((NODE_09 / "wave.config.json").read_text())
    config[key] = "app" if key == "defaultProject" else {"app": {"rootDir": "."}}
    (tmp_path / "wave.config.json").write_text(json.dumps(config, indent=2))
    with pytest.raises(WaveConfigError) as excinfo:
        load_config(tmp_path)
    line = excinfo.value.one_line()
    assert f"{key}: a Node.js 0.9 setting pytest-wave does not support (fix: " in line
    assert "unknown key" not in line


@pytest.mark.parametrize("number", sorted(LINT_ERRORS))
def test_the_tools_own_waves_parse_and_lint(number: int) -> None:
    wave = parse_wave_file(WAVES / f"wave-{number}.md")
    findings = lint_wave(wave, NODE_09)
    errors: dict[str, int] = {}
    for finding in findings:
        if finding.severity == "error":
            errors[finding.rule_id] = errors.get(finding.rule_id, 0) + 1
    assert errors == LINT_ERRORS[number], [f.message for f in findings if f.severity == "error"]
    relaxed = [f for f in findings if f.rule_id == "node-closure-relaxation"]
    assert len(relaxed) == (1 if number < 4 else 0)  # bootstrap waves: below closureModeThresholds.standard
    if relaxed:
        assert relaxed[0].severity == "warning" and "A8, A9 and A0" in (relaxed[0].fix or "")


@pytest.mark.slow
def test_all_seven_waves_run_and_close_in_order_and_reviews_are_not_waves(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pytester.path / "repo"
    shutil.copytree(NODE_09, repo, ignore=shutil.ignore_patterns(".tmp"))
    monkeypatch.chdir(repo)
    reviews = repo / "docs" / "plans" / "waves" / "reviews"
    assert [p.name for p in reviews.iterdir()] == ["wave-1-benchmark-operator.md"]
    result = run_wave(pytester, "docs/plans/waves/", "--wave-executor", "local", timeout=300)
    assert_no_traceback(result)
    assert result.ret == 0, output(result)
    result.stdout.fnmatch_lines([f"*wave docs/plans/waves/wave-{n}.md: CLOSED*" for n in range(7)])
    # Each cont-QA (A0) filed its report where the 0.9 waves say; none of them is read as a wave.
    assert sorted(p.name for p in reviews.iterdir()) == sorted(
        ["wave-1-benchmark-operator.md", *(f"wave-{n}-cont-qa.md" for n in range(7))]
    )
    assert "reviews/" not in output(result)
    matrix = json.loads((repo / "docs/plans/component-cutover-matrix.json").read_text())
    assert matrix["components"]["state-artifacts-and-feedback"]["currentLevel"] == "qa-proved"  # wave 5's target

    again = run_wave(pytester, "docs/plans/waves/", "--wave-executor", "local", timeout=300)
    assert again.ret == 0, output(again)
    assert "reviews/" not in output(again)
    # Named on the command line, a report is read as a wave, and says it is none.
    named = run_wave(pytester, "docs/plans/waves/reviews/wave-0-cont-qa.md", "--wave-executor", "local")
    assert named.ret != 0
    assert "declares no agents" in output(named)

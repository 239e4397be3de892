"""Loading ``wave.config.json`` / ``[tool.wave]`` and resolving lanes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.config import clear_config_cache, find_repo_root, load_config, resolve_lane
from pytest_wave.errors import WaveConfigError
from pytest_wave.model.config import (
    LaneConfig,
    ValidationConfig,
    WaveConfig,
    normalize_repo_path,
    sanitize_lane_name,
)

ANCHOR = Path(__file__).parent / "data" / "conformance" / "anchor-repo-0.5.4"


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAVE_REPO_ROOT", raising=False)
    clear_config_cache()


def write_json(root: Path, data: Any) -> Path:
    path = root / "wave.config.json"
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def load_error(root: Path) -> WaveConfigError:
    with pytest.raises(WaveConfigError) as info:
        load_config(root)
    return info.value


# --------------------------------------------------------------------------- conformance file


def test_anchor_config_loads_and_resolves_main() -> None:
    config = load_config(ANCHOR)
    assert config.source_path == ANCHOR / "wave.config.json"
    assert config.project_name == "Wave Orchestration"
    lane = resolve_lane(config)
    assert isinstance(lane, LaneConfig)
    assert lane.name == "main"
    assert lane.repo_mode == "single-repo"
    assert (lane.docs_dir, lane.plans_dir, lane.waves_dir) == ("docs", "docs/plans", "docs/plans/waves")
    assert lane.state_root == ".tmp"
    assert lane.state_dir == ".tmp/main-wave-launcher"
    assert lane.orchestrator_state_dir == ".tmp/wave-orchestrator"
    assert lane.terminals_path == ".vscode/terminals.json"
    assert lane.context7_bundle_index_path == "docs/context7/bundles.json"
    assert lane.component_matrix_doc_path == "docs/plans/component-cutover-matrix.md"
    assert lane.component_matrix_json_path == "docs/plans/component-cutover-matrix.json"
    assert lane.shared_plan_docs == [
        "docs/plans/current-state.md",
        "docs/plans/master-plan.md",
        "docs/plans/migration.md",
    ]

    roles = lane.roles
    assert (roles.evaluator_agent_id, roles.integration_agent_id, roles.documentation_agent_id) == (
        "A0",
        "A8",
        "A9",
    )
    assert roles.role_prompt_dir == "docs/agents"
    assert roles.integration_role_prompt_path == "docs/agents/wave-integration-role.md"

    v = lane.validation
    assert v.required_prompt_references == [
        "docs/reference/repository-guidance.md",
        "docs/research/agent-context-sources.md",
    ]
    thresholds = (
        v.require_documentation_steward_from_wave,
        v.require_context7_declarations_from_wave,
        v.require_exit_contracts_from_wave,
        v.require_integration_steward_from_wave,
        v.require_component_promotions_from_wave,
        v.require_agent_components_from_wave,
    )
    assert thresholds == (0, 6, 6, 0, 0, 0)

    ex = lane.executors
    assert ex.default == "codex"
    assert set(ex.profiles) == {"implement-fast", "deep-review", "docs-pass", "ops-triage"}
    fast = ex.profiles["implement-fast"]
    assert (fast.id, fast.tags, fast.budget.turns, fast.budget.minutes) == ("codex", ["implementation"], 12, 45)
    review = ex.profiles["deep-review"]
    assert (review.id, review.tags, review.budget.turns, review.budget.minutes) == (
        "claude",
        ["integration", "review"],
        10,
        30,
    )
    assert ex.profiles["docs-pass"].id == "claude"
    assert ex.profiles["ops-triage"].tags == ["ops", "research"]
    assert (ex.profiles["ops-triage"].budget.turns, ex.profiles["ops-triage"].budget.minutes) == (8, 20)
    # Profile runtime blocks the file does not write stay unset (no null-overwrite quirk).
    assert fast.codex.command is None and fast.claude.model_fields_set == set()
    assert (ex.codex.command, ex.codex.sandbox, ex.codex.search, ex.codex.json_output) == (
        "codex",
        "danger-full-access",
        False,
        False,
    )
    assert (ex.claude.command, ex.claude.append_system_prompt_mode, ex.claude.output_format) == (
        "claude",
        "append",
        "text",
    )
    assert (ex.opencode.command, ex.opencode.format) == ("opencode", "default")

    policy = lane.runtime_policy
    assert policy.runtime_mix_targets == {"codex": 3, "claude": 3, "opencode": 2}
    assert policy.default_executor_by_role == {
        "implementation": "codex",
        "integration": "claude",
        "documentation": "claude",
        "evaluator": "claude",
        "research": "opencode",
        "infra": "opencode",
        "deploy": "opencode",
    }
    assert policy.fallback_executor_order == ["claude", "opencode", "codex"]

    skills = lane.skills
    assert skills.dir == "skills"
    assert skills.base == ["wave-core", "repo-coding-rules"]
    assert skills.by_role["integration"] == ["role-integration"]
    assert skills.by_runtime["local"] == ["runtime-local"]
    assert skills.by_deploy_kind["railway-mcp"] == ["provider-railway"]
    assert lane.capability_routing.preferred_agents == {}


def test_anchor_config_other_lane_gets_own_docs_but_global_matrix() -> None:
    lane = resolve_lane(load_config(ANCHOR), "ops")
    assert lane.docs_dir == "docs/ops"
    assert lane.waves_dir == "docs/ops/plans/waves"
    # The anchor sets the matrix paths globally, so every lane uses them.
    assert lane.component_matrix_doc_path == "docs/plans/component-cutover-matrix.md"
    assert lane.runtime_policy.runtime_mix_targets == {}  # the policy sits on lane main only
    assert lane.state_dir == ".tmp/ops-wave-launcher"


def test_load_config_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"projectName": "One"})
    first = load_config(tmp_path)
    assert load_config(tmp_path) is first
    assert resolve_lane(first) is resolve_lane(first)
    path.write_text(json.dumps({"projectName": "Second"}), encoding="utf-8")  # size changes
    assert load_config(tmp_path).project_name == "Second"


def test_load_config_cache_hit_is_fast() -> None:
    load_config(ANCHOR)
    start = time.perf_counter()
    for _ in range(2000):
        resolve_lane(load_config(ANCHOR))
    assert time.perf_counter() - start < 0.4  # far above the >5,000 files/s target


# --------------------------------------------------------------------------- sources


def test_no_config_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source_path is None
    lane = resolve_lane(config)
    assert lane.name == "main"
    assert lane.project_name == "Wave Orchestrator"
    assert lane.docs_dir == "docs"
    assert lane.waves_dir == "docs/plans/waves"
    assert lane.shared_plan_docs == [
        "docs/plans/current-state.md",
        "docs/plans/master-plan.md",
        "docs/plans/migration.md",
    ]
    assert lane.component_matrix_json_path == "docs/plans/component-cutover-matrix.json"
    v = lane.validation
    assert v.require_documentation_steward_from_wave == 0
    assert v.require_context7_declarations_from_wave == 6
    assert v.require_exit_contracts_from_wave == 6
    assert v.require_integration_steward_from_wave is None
    assert v.require_component_promotions_from_wave == 0
    assert v.require_agent_components_from_wave == 0
    assert lane.executors.default == "codex"
    assert lane.executors.claude.strict_mcp_config is False
    assert lane.skills.dir == "skills"


def test_pyproject_without_tool_wave_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config(tmp_path).source_path is None


def test_tool_wave_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """
[project]
name = "demo"

[tool.wave]
projectName = "Demo"
default_lane = "Core"

[tool.wave.validation]
requireExitContractsFromWave = 2
require_integration_steward_from_wave = false  # TOML has no null: false disables

[tool.wave.executors]
default = "claude"

[tool.wave.executors.profiles.fast]
id = "codex"
fallbacks = "claude, opencode"

[tool.wave.lanes.core.runtimePolicy]
fallbackExecutorOrder = ["opencode"]
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.source_path == tmp_path / "pyproject.toml"
    lane = resolve_lane(config)
    assert lane.name == "core"
    assert lane.project_name == "Demo"
    assert lane.docs_dir == "docs"  # the default lane in single-repo mode
    assert lane.validation.require_exit_contracts_from_wave == 2
    assert lane.validation.require_integration_steward_from_wave is None
    assert lane.executors.default == "claude"
    assert lane.executors.profiles["fast"].fallbacks == ["claude", "opencode"]
    assert lane.runtime_policy.fallback_executor_order == ["opencode"]


def test_both_files_is_an_error(tmp_path: Path) -> None:
    write_json(tmp_path, {})
    (tmp_path / "pyproject.toml").write_text('[tool.wave]\nprojectName = "x"\n', encoding="utf-8")
    line = load_error(tmp_path).one_line()
    assert "wave.config.json" in line and "pyproject.toml" in line and "keep one" in line


def test_empty_tool_wave_with_json_is_fine(tmp_path: Path) -> None:
    write_json(tmp_path, {"projectName": "J"})
    (tmp_path / "pyproject.toml").write_text("[tool.wave]\n", encoding="utf-8")
    assert load_config(tmp_path).project_name == "J"


def test_bad_json_is_a_one_line_error_with_line(tmp_path: Path) -> None:
    write_json(tmp_path, '{\n  "projectName": "x",\n  "lanes": {,}\n}\n')
    err = load_error(tmp_path)
    assert err.line == 3
    line = err.one_line()
    assert "\n" not in line
    assert line.startswith(f"{tmp_path / 'wave.config.json'}:3: error: invalid JSON")
    assert "column" in line and "fix:" in line


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.wave]\nprojectName = "x\n', encoding="utf-8")
    err = load_error(tmp_path)
    assert err.line == 2 and "pyproject.toml" in err.one_line()


def test_json_must_be_an_object(tmp_path: Path) -> None:
    write_json(tmp_path, "[1, 2]")
    assert "JSON object" in load_error(tmp_path).one_line()


# --------------------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    ("data", "key", "line", "words"),
    [
        (
            {"validation": {"requireExitContractsFromWave": "soon"}},
            "validation.requireExitContractsFromWave",
            3,
            "wave number",
        ),
        ({"validation": {"requireContext7DeclarationsFromWave": -1}}, "requireContext7DeclarationsFromWave", 3, ""),
        ({"validation": {"requireAgentComponentsFromWave": True}}, "requireAgentComponentsFromWave", 3, ""),
        (
            {"executors": {"default": "gpt"}},
            "executors.default must be one of: codex, claude, opencode, local (got: gpt)",
            3,
            "",
        ),
        (
            {"lanes": {"main": {"runtimePolicy": {"runtimeMixTargets": {"codex": -2}}}}},
            "lanes.main.runtimePolicy.runtimeMixTargets.codex must be a non-negative integer",
            6,
            "",
        ),
        (
            {"lanes": {"main": {"runtimePolicy": {"runtimeMixTargets": {"gpt": 1}}}}},
            "lanes.main.runtimePolicy.runtimeMixTargets.gpt must be one of",
            6,
            "",
        ),
        (
            {"lanes": {"main": {"fallbackExecutorOrder": "claude, gpt"}}},
            "lanes.main.fallbackExecutorOrder[1] must be one of",
            4,
            "",
        ),
        ({"paths": {"docsDir": "../elsewhere"}}, "paths.docsDir must stay within the repository", 3, ""),
        ({"paths": {"stateRoot": "/tmp/x"}}, "paths.stateRoot must stay within the repository", 3, ""),
        ({"lanes": {"x": {"docsDir": "docs/.."}}}, "lanes.x.docsDir must stay within the repository", 4, ""),
        ({"sharedPlanDocs": [".."]}, "sharedPlanDocs[0] must stay within the repository", 2, ""),
        ({"projectNam": "x"}, "projectNam: unknown key", 2, "did you mean 'projectName'"),
        ({"lanes": {"main": {"runtimePolicyy": {}}}}, "lanes.main.runtimePolicyy: unknown key", 4, "runtimePolicy"),
        (
            {"executors": {"profiles": {"p": {"claude": {"model": "opus"}}}}},
            "executors.profiles.p.claude.model is not allowed",
            6,
            "",
        ),
        ({"executors": {"codex": {"sandbox": "open"}}}, "executors.codex.sandbox must be one of", 4, ""),
        ({"executors": {"claude": {"outputFormat": "xml"}}}, "executors.claude.outputFormat", 4, ""),
        ({"repoMode": "mono"}, "repoMode must be one of: single-repo, multi-lane", 2, ""),
        ({"skills": {"base": ["Bad Skill"]}}, "skills.base[0] must be a skill id", 3, ""),
        ({"lanes": {"Main": {}, "main": {}}}, "same lane", 2, ""),
    ],
)
def test_bad_values_name_file_key_and_line(
    tmp_path: Path, data: dict[str, Any], key: str, line: int, words: str
) -> None:
    path = write_json(tmp_path, data)
    err = load_error(tmp_path)
    text = err.one_line()
    assert text.startswith(f"{path}:{line}: error: "), text
    assert key in text and words in text
    assert "\n" not in text


def test_toml_errors_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.wave]\nprojectName = "x"\n\n[tool.wave.executors]\ndefault = "gpt"\n', encoding="utf-8"
    )
    err = load_error(tmp_path)
    assert err.line == 5
    assert "pyproject.toml:5: error: executors.default must be one of" in err.one_line()


# --------------------------------------------------------------------------- values


def test_thresholds_null_disables_and_omitted_takes_default(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {"validation": {"requireContext7DeclarationsFromWave": None, "requireExitContractsFromWave": "3"}},
    )
    v = resolve_lane(load_config(tmp_path)).validation
    assert v.require_context7_declarations_from_wave is None
    assert v.require_exit_contracts_from_wave == 3
    assert v.require_documentation_steward_from_wave == 0  # omitted -> default
    assert v.require_integration_steward_from_wave is None  # default is off


def test_validation_active() -> None:
    v = ValidationConfig()
    assert v.active(6, 6) and v.active(0, 0) and not v.active(6, 5)
    assert not v.active(None, 10)
    # Example waves have no number: only always-on (threshold 0) rules apply.
    assert v.active(0, None) and not v.active(6, None) and not v.active(None, None)


def test_empty_prompt_references_disable_the_check(tmp_path: Path) -> None:
    write_json(tmp_path, {"validation": {"requiredPromptReferences": []}})
    assert resolve_lane(load_config(tmp_path)).validation.required_prompt_references == []


def test_paths_are_normalized(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {"paths": {"stateRoot": " ./state//dir/ ", "docsDir": "", "terminalsPath": ".\\ide\\terms.json"}},
    )
    config = load_config(tmp_path)
    lane = resolve_lane(config)
    assert lane.state_root == "state/dir"
    assert lane.state_dir == "state/dir/main-wave-launcher"
    assert lane.docs_dir == "docs"  # empty falls back to the default
    assert lane.terminals_path == "ide/terms.json"


@pytest.mark.parametrize("bad", ["..", "a/..", "../a", "a/../b", "/abs", "C:/x", "C:\\x"])
def test_normalize_repo_path_rejects_escapes(bad: str) -> None:
    with pytest.raises(ValueError, match="must stay within the repository"):
        normalize_repo_path(bad, "p")


def test_lane_names_are_sanitized() -> None:
    assert sanitize_lane_name("  Feature X!! ") == "feature-x"
    assert sanitize_lane_name("a--b") == "a-b"
    with pytest.raises(ValueError, match="Lane name is required"):
        sanitize_lane_name(" !! ")
    with pytest.raises(ValueError, match="Invalid lane"):
        sanitize_lane_name("_x")
    with pytest.raises(WaveConfigError, match="Invalid lane"):
        resolve_lane(WaveConfig(), "_x")
    assert resolve_lane(WaveConfig(), "Feature X").name == "feature-x"


def test_string_lists_and_comma_orders(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {
            "executors": {
                "codex": {"addDirs": "../shared", "json": "yes"},
                "claude": {"mcpConfig": "mcp.json"},
                "opencode": {"files": "a.md"},
            },
            "runtimePolicy": {"fallbackExecutorOrder": " Claude ,codex"},
        },
    )
    lane = resolve_lane(load_config(tmp_path))
    assert lane.executors.codex.add_dirs == ["../shared"]
    assert lane.executors.codex.json_output is True
    assert lane.executors.claude.mcp_config == ["mcp.json"]
    assert lane.executors.opencode.files == ["a.md"]
    assert lane.runtime_policy.fallback_executor_order == ["claude", "codex"]


def test_snake_case_keys_are_accepted(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {"project_name": "Snake", "paths": {"docs_dir": "documentation"}, "lanes": {"main": {"waves_dir": "w"}}},
    )
    lane = resolve_lane(load_config(tmp_path))
    assert (lane.project_name, lane.docs_dir, lane.plans_dir, lane.waves_dir) == (
        "Snake",
        "documentation",
        "documentation/plans",
        "w",
    )


# --------------------------------------------------------------------------- lane merge


def test_lane_overrides_merge(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {
            "repoMode": "multi-lane",
            "paths": {"docsDir": "doc", "stateRoot": ".state"},
            "roles": {"evaluatorAgentId": "E0", "integrationAgentId": "I8"},
            "validation": {"requireIntegrationStewardFromWave": 0, "requireExitContractsFromWave": 4},
            "executors": {
                "default": "claude",
                "profiles": {"p1": {"id": "codex", "model": "m1"}, "p2": {"id": "claude"}},
                "codex": {"sandbox": "workspace-write", "config": ["a=1"]},
                "claude": {"command": "claude-global", "maxTurns": 5},
            },
            "skills": {"dir": "sk", "base": ["core"], "byRole": {"implementation": ["impl"]}},
            "capabilityRouting": {"preferredAgents": {"docs": ["A9"], "ui": ["A2"]}},
            "runtimePolicy": {
                "runtimeMixTargets": {"codex": 1},
                "defaultExecutorByRole": {"implementation": "codex"},
                "fallbackExecutorOrder": ["codex"],
            },
            "lanes": {
                "ops": {
                    "stateRoot": ".ops-state",
                    "roles": {"integrationAgentId": "I9"},
                    "validation": {"requireIntegrationStewardFromWave": None},
                    "executors": {
                        "profiles": {"P1": {"id": "opencode"}},
                        "codex": {"config": ["b=2"]},
                        "claude": {"maxTurns": 9},
                    },
                    "skills": {"base": ["ops", "core"], "byRole": {"implementation": ["impl-ops"], "infra": ["x"]}},
                    "capabilityRouting": {"preferredAgents": {"infra": ["A3"]}},
                    "runtimePolicy": {
                        "runtimeMixTargets": {"opencode": 2},
                        "fallbackExecutorOrder": ["claude"],
                    },
                    "fallbackExecutorOrder": "opencode,claude",
                }
            },
        },
    )
    config = load_config(tmp_path)
    ops = resolve_lane(config, "ops")
    main = resolve_lane(config, "main")

    # multi-lane mode: every lane (even the default one) gets <docsDir>/<lane>.
    assert main.docs_dir == "doc/main" and ops.docs_dir == "doc/ops"
    assert ops.component_matrix_doc_path == "doc/ops/plans/component-cutover-matrix.md"
    assert ops.state_dir == ".ops-state/ops-wave-launcher" and main.state_dir == ".state/main-wave-launcher"

    assert (ops.roles.evaluator_agent_id, ops.roles.integration_agent_id) == ("E0", "I9")
    assert ops.validation.require_integration_steward_from_wave is None  # explicit null wins
    assert ops.validation.require_exit_contracts_from_wave == 4  # omitted -> global
    assert main.validation.require_integration_steward_from_wave == 0

    ex = ops.executors
    assert ex.default == "claude"
    assert set(ex.profiles) == {"p1", "p2"}
    assert ex.profiles["p1"].id == "opencode" and ex.profiles["p1"].model is None  # replaced whole
    assert ex.codex.sandbox == "workspace-write" and ex.codex.config == ["b=2"]
    assert (ex.claude.command, ex.claude.max_turns, ex.claude.output_format) == ("claude-global", 9, "text")
    assert main.executors.claude.max_turns == 5

    assert ops.skills.dir == "sk"
    assert ops.skills.base == ["core", "ops"]
    assert ops.skills.by_role == {"implementation": ["impl", "impl-ops"], "infra": ["x"]}
    assert ops.capability_routing.preferred_agents == {"infra": ["A3"]}

    policy = ops.runtime_policy
    assert policy.runtime_mix_targets == {"opencode": 2}  # replaced, not merged
    assert policy.default_executor_by_role == {"implementation": "codex"}  # lane did not set it
    assert policy.fallback_executor_order == ["opencode", "claude"]  # lane-object key wins

    # Resolving a lane never leaks into the global config or other lanes.
    assert config.executors.codex.config == ["a=1"]
    assert main.runtime_policy.runtime_mix_targets == {"codex": 1}


def test_profile_blocks_do_not_override_lane_values(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        {
            "executors": {
                "claude": {"command": "my-claude", "outputFormat": "json"},
                "profiles": {"review": {"id": "claude", "claude": {"agent": "reviewer"}}},
            }
        },
    )
    ex = resolve_lane(load_config(tmp_path)).executors
    block = ex.profiles["review"].claude
    assert block.agent == "reviewer"
    assert block.model_fields_set == {"agent"}
    assert block.command is None and block.strict_mcp_config is None  # unset, not "null overwrite"
    assert ex.claude.command == "my-claude" and ex.claude.output_format == "json"


def test_legacy_waves_dir_used_only_when_preferred_is_absent(tmp_path: Path) -> None:
    (tmp_path / "docs" / "waves").mkdir(parents=True)
    write_json(tmp_path, {})
    assert resolve_lane(load_config(tmp_path)).waves_dir == "docs/waves"
    (tmp_path / "docs" / "plans" / "waves").mkdir(parents=True)
    clear_config_cache()
    assert resolve_lane(load_config(tmp_path)).waves_dir == "docs/plans/waves"


# --------------------------------------------------------------------------- repo root


def test_find_repo_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / "repo" / "pkg" / "sub"
    deep.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    assert find_repo_root(deep) == tmp_path / "repo"

    (tmp_path / "repo" / "pkg" / "pyproject.toml").write_text('[project]\nname = "wave"\n', encoding="utf-8")
    assert find_repo_root(deep) == tmp_path / "repo"  # no [tool.wave]: keep looking
    (tmp_path / "repo" / "pkg" / "pyproject.toml").write_text("[tool.wave]\n", encoding="utf-8")
    assert find_repo_root(deep) == tmp_path / "repo" / "pkg"

    write_json(deep, {})
    assert find_repo_root(deep / "wave-1.md") == deep

    monkeypatch.setenv("WAVE_REPO_ROOT", str(tmp_path))
    assert find_repo_root(deep) == tmp_path

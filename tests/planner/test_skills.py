"""Skills: resolution with reasons, runtime-limited bundles, projection into each runtime's launch, overlay files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from plannerkit import sample_repo

from pytest_wave.config import load_config, resolve_lane
from pytest_wave.executors.claude import SYSTEM_PROMPT_FILE, ClaudeExecutor
from pytest_wave.executors.codex import CodexExecutor
from pytest_wave.executors.common import AgentLaunchRequest
from pytest_wave.executors.local import LocalExecutor
from pytest_wave.executors.opencode import CONFIG_FILE, SKILLS_FILE, OpenCodeExecutor
from pytest_wave.model.config import LaneConfig, SkillsConfig
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent, DeployEnvironment, Wave
from pytest_wave.skills import ResolvedSkills, overlay_files, resolve_skills


@pytest.fixture
def lane(tmp_path: Path) -> LaneConfig:
    (tmp_path / "wave.config.json").write_text("{}")
    base = resolve_lane(load_config(tmp_path))
    return base.model_copy(
        update={
            "skills": SkillsConfig(
                base=["wave-core"],
                by_role={"implementation": ["role-implementation"]},
                by_runtime={"claude": ["runtime-claude"], "codex": ["runtime-codex"]},
                by_deploy_kind={"kubernetes": ["provider-kubernetes"]},
            )
        }
    )


def _wave(*skills: str) -> tuple[Wave, Agent]:
    agent = Agent(id="A1", title="t", slug="1-a1", prompt="p", skills=list(skills))
    wave = Wave(path="w.md", agents=[agent], deploy_environments=[DeployEnvironment(id="k8s", kind="kubernetes")])
    return wave, agent


def resolved(root: Path, lane: LaneConfig, runtime: str, *skills: str) -> ResolvedSkills:
    wave, agent = _wave(*skills)
    return resolve_skills(root, lane, wave, agent, "implementation", runtime)


def test_reasons_and_runtime_limited_bundles(tmp_path: Path, lane: LaneConfig) -> None:
    skills = resolved(tmp_path, lane, "claude", "repo-coding-rules", "wave-core", "runtime-codex")
    assert skills.ids == [
        "wave-core",
        "role-implementation",
        "runtime-claude",
        "provider-kubernetes",
        "repo-coding-rules",
    ]
    assert skills.reasons["wave-core"] == ["base", "explicit (### Skills)"]
    assert skills.reasons["role-implementation"] == ["role implementation"]
    assert skills.reasons["runtime-claude"] == ["runtime claude"]
    assert skills.reasons["provider-kubernetes"] == ["deploy kind kubernetes"]
    assert skills.skipped == {"runtime-codex": "for runtimes codex only"}  # its skill.json says codex
    files = overlay_files(skills, tmp_path)
    table = files["skills.resolved.md"]
    assert "- runtime: claude\n- role: implementation\n- deploy kind: kubernetes" in table
    assert "| runtime-claude | runtime claude | yes |" in table
    assert "| wave-core | base, explicit (### Skills) | no |" in table
    assert "- runtime-codex: for runtimes codex only" in table
    meta = json.loads(files["skills.metadata.json"])
    assert meta["ids"] == skills.ids and meta["promptHash"] == skills.prompt_hash
    assert files["claude-skills.txt"] == skills.prompt_text and "## Skill runtime-claude" in skills.prompt_text


def test_no_skills_still_says_so(tmp_path: Path, lane: LaneConfig) -> None:
    empty = lane.model_copy(update={"skills": SkillsConfig()})
    skills = resolved(tmp_path, empty, "local")
    files = overlay_files(skills, tmp_path)
    assert set(files) == {"skills.resolved.md", "skills.metadata.json"}
    assert "No skill bundle resolved" in files["skills.resolved.md"]


def _request(tmp_path: Path, lane: LaneConfig, runtime: str, skills: ResolvedSkills | None) -> AgentLaunchRequest:
    task = AgentTask(
        wave=1,
        wave_path="w.md",
        lane="main",
        agent_id="A1",
        title="t",
        role="implementation",
        executor_id=runtime,
        attempt=1,
        repo_root=str(tmp_path),
        prompt_path=str(tmp_path / "p.md"),
        log_path=str(tmp_path / "a.log"),
    )
    overlay = tmp_path / "overlay"
    return AgentLaunchRequest(
        task=task,
        task_path=overlay / "task.json",
        prompt_path=tmp_path / "p.md",
        overlay_dir=overlay,
        repo_root=tmp_path,
        lane=lane,
        skills=skills,
    )


def test_claude_gets_the_skills_in_its_system_prompt(tmp_path: Path, lane: LaneConfig) -> None:
    skills = resolved(tmp_path, lane, "claude")
    spec = ClaudeExecutor().build_launch(_request(tmp_path, lane, "claude", skills))
    system = spec.overlay_files[SYSTEM_PROMPT_FILE]
    assert system.startswith("You are running inside the Wave orchestration harness.")
    assert skills.prompt_text.strip() in system and "### claude adapter" in system
    bare = ClaudeExecutor().build_launch(_request(tmp_path, lane, "claude", None))
    assert "Skill" not in bare.overlay_files[SYSTEM_PROMPT_FILE]


def test_codex_gets_the_skills_as_developer_instructions(tmp_path: Path, lane: LaneConfig) -> None:
    skills = resolved(tmp_path, lane, "codex")
    argv = CodexExecutor().build_launch(_request(tmp_path, lane, "codex", skills)).argv
    entry = argv[argv.index("-c") + 1]
    key, _, value = entry.partition("=")
    assert key == "developer_instructions" and json.loads(value) == skills.prompt_text
    assert "--add-dir" not in argv  # bundle dirs would only gain write access under codex's sandbox
    bare = CodexExecutor().build_launch(_request(tmp_path, lane, "codex", None)).argv
    assert not any(a.startswith("developer_instructions=") for a in bare)


def test_opencode_gets_the_skills_as_an_instructions_file(tmp_path: Path, lane: LaneConfig) -> None:
    skills = resolved(tmp_path, lane, "opencode")
    spec = OpenCodeExecutor().build_launch(_request(tmp_path, lane, "opencode", skills))
    config = json.loads(spec.overlay_files[CONFIG_FILE])
    assert config["instructions"] == [str((tmp_path / "overlay" / SKILLS_FILE).resolve())]
    assert spec.overlay_files[SKILLS_FILE] == skills.prompt_text
    bare = OpenCodeExecutor().build_launch(_request(tmp_path, lane, "opencode", None))
    assert "instructions" not in json.loads(bare.overlay_files[CONFIG_FILE]) and SKILLS_FILE not in bare.overlay_files


def test_local_keeps_its_plain_launch(tmp_path: Path, lane: LaneConfig) -> None:
    spec = LocalExecutor().build_launch(_request(tmp_path, lane, "local", resolved(tmp_path, lane, "local")))
    assert spec.argv[:3] == [sys.executable, "-m", "pytest_wave.executors.local_agent"] and not spec.overlay_files


@pytest.mark.slow
def test_a_wave_run_writes_skills_resolved_per_agent(pytester: pytest.Pytester) -> None:
    repo = sample_repo(pytester.path / "repo")
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.wave.skills]\nbase = ["wave-core"]\n\n[tool.wave.skills.byRole]\n')
        handle.write('evaluator = ["role-evaluator"]\n\n[tool.wave.skills.byRuntime]\nlocal = ["runtime-local"]\n')
    path = repo / "waves/wave-1.md"
    path.write_text(
        path.read_text().replace(
            "## Agent A1: Hello module\n", "## Agent A1: Hello module\n\n### Skills\n\n- repo-coding-rules\n"
        )
    )
    result = pytester.runpytest_subprocess("repo/waves/wave-1.md", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    overlays = repo / ".tmp/main-wave-launcher/executors/wave-1"
    a1 = (overlays / "1-a1" / "skills.resolved.md").read_text()
    assert "| repo-coding-rules | explicit (### Skills) |" in a1 and "| runtime-local | runtime local | yes |" in a1
    a0 = next(p for p in overlays.glob("*a0*/skills.resolved.md")).read_text()
    assert "| role-evaluator | role evaluator |" in a0 and "repo-coding-rules" not in a0
    assert (overlays / "1-a1" / "local-skills.txt").read_text().startswith("Active skill packs for this run:")
    prompt = (repo / ".tmp/main-wave-launcher/prompts/wave-1-1-a1.prompt.md").read_text()
    assert "## Skill context" in prompt and "## Skill repo-coding-rules" in prompt

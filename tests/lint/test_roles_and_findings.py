"""Role prompt resolution, role inference, executor choice, and the Finding model."""

from __future__ import annotations

from pathlib import Path

import pytest
from lintkit import ANCHOR, Repo, replace_in_agent

from pytest_wave.config import load_config, resolve_lane
from pytest_wave.engine.resolve import RoleIds
from pytest_wave.engine.resolve import infer_role as _infer_role
from pytest_wave.engine.resolve import resolve_executor as _resolve_executor
from pytest_wave.lint.roles import role_prompt_path_allowed
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.findings import Finding
from pytest_wave.model.task import AgentRole
from pytest_wave.model.wave import Agent
from pytest_wave.parse.roles import (
    clear_role_prompt_cache,
    compose_prompt,
    load_role_prompt,
    parse_role_prompt,
    resolve_prompt,
)


def infer_role(agent: Agent, lane: LaneConfig) -> AgentRole:
    return _infer_role(agent, RoleIds.from_lane(lane))


def resolve_executor(agent: Agent, lane: LaneConfig):  # type: ignore[no-untyped-def]
    # Lint resolves leniently: an unknown profile is its own finding, not an exception.
    return _resolve_executor(agent, infer_role(agent, lane), lane, strict=False)


def test_parse_role_prompt_statuses() -> None:
    assert parse_role_prompt("# x\n", "r.md").status == "no-standing-section"
    assert parse_role_prompt("## Standing prompt\n\nprose\n", "r.md").status == "no-fence"
    ok = parse_role_prompt("## Standing prompt\n\n```text\n  Be careful.\n```\n\n```text\nlater\n```\n", "r.md")
    assert (ok.status, ok.standing) == ("ok", "Be careful.")
    # "## Standing prompt" must be a heading of its own.
    assert parse_role_prompt("Text ## Standing prompt\n```text\nx\n```\n", "r.md").status == "no-standing-section"


def test_load_role_prompt_is_cached_and_reloaded(tmp_path: Path) -> None:
    clear_role_prompt_cache()
    path = tmp_path / "docs/agents/r.md"
    path.parent.mkdir(parents=True)
    path.write_text("## Standing prompt\n\n```text\none\n```\n")
    first = load_role_prompt(tmp_path, "docs/agents/r.md")
    assert load_role_prompt(str(tmp_path), "docs/agents/r.md") is first
    path.write_text("## Standing prompt\n\n```text\ntwo two\n```\n")
    assert load_role_prompt(tmp_path, "docs/agents/r.md").standing == "two two"
    path.unlink()
    assert load_role_prompt(tmp_path, "docs/agents/r.md").status == "missing"


def test_resolved_prompt_is_standing_blocks_then_local(repo: Repo) -> None:
    wave = repo.parse()
    a0 = wave.agents[0]
    prompt, prompts = resolve_prompt(a0, repo.root)
    assert [p.status for p in prompts] == ["ok"]
    assert prompt.startswith("You are the running evaluator for the current wave.")
    assert prompt.endswith(a0.prompt) and "\n\n" + a0.prompt in prompt
    assert compose_prompt(["a", "", "b"], "") == "a\n\nb"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("docs/agents/x.md", True),
        ("docs/agents/sub/x.MD", True),
        ("docs/agents/../x.md", False),
        ("docs/agentsx/x.md", False),
        ("/docs/agents/x.md", False),
        ("docs/agents/x.txt", False),
    ],
)
def test_role_prompt_path_allowed(path: str, allowed: bool) -> None:
    assert role_prompt_path_allowed(path, "docs/agents") is allowed


def test_role_inference_and_executor_resolution(repo: Repo) -> None:
    lane = resolve_lane(load_config(ANCHOR), None)
    text = repo.wave0 + (
        "\n## Agent A2: Cluster infra rollout\n\n### Prompt\n\n```text\nx\n```\n"
        "\n## Agent A3: Worker\n\n### Capabilities\n\n- deploy-validation\n\n### Prompt\n\n```text\nx\n```\n"
        "\n## Agent A4: Research spike\n\n### Executor\n\n- profile: deep-review\n\n### Prompt\n\n```text\nx\n```\n"
    )
    wave = repo.parse(text)
    roles = {a.id: infer_role(a, lane) for a in wave.agents}
    assert roles == {
        "A0": "evaluator",
        "A8": "integration",
        "A9": "documentation",
        "A1": "implementation",
        "A2": "infra",
        "A3": "deploy",
        "A4": "research",
    }
    chosen = {a.id: (resolve_executor(a, lane).id, resolve_executor(a, lane).selected_by) for a in wave.agents}
    assert chosen["A0"] == ("codex", "agent-id")
    assert chosen["A1"] == ("codex", "agent-profile")
    assert chosen["A2"] == ("opencode", "lane-role-default")
    assert chosen["A4"] == ("claude", "agent-profile")
    assert resolve_executor(wave.agents[3], lane).fallbacks == ("claude", "opencode")
    bare = lane.model_copy(
        update={"runtime_policy": lane.runtime_policy.model_copy(update={"default_executor_by_role": {}})}
    )
    assert resolve_executor(wave.agent("A2"), bare).selected_by == "lane-default"  # type: ignore[arg-type]


def test_unknown_profile_is_skipped_when_resolving(repo: Repo) -> None:
    lane = resolve_lane(load_config(ANCHOR), None)
    text = replace_in_agent(repo.wave0, "A1", "- profile: implement-fast", "- profile: nope")
    resolved = resolve_executor(repo.parse(text).agents[-1], lane)
    assert (resolved.id, resolved.selected_by, resolved.profile) == ("codex", "lane-role-default", None)


def test_finding_one_line() -> None:
    finding = Finding(
        rule_id="missing-evaluator",
        severity="error",
        path="waves/wave-1.md",
        line=3,
        message="Wave 1 must include\nAgent A0",
        fix="add it",
        agent_id=None,
    )
    assert (
        finding.one_line() == "waves/wave-1.md:3: error missing-evaluator: Wave 1 must include Agent A0 (fix: add it)"
    )
    assert str(finding) == finding.one_line()
    bare = Finding(rule_id="x", severity="warning", path="w.md", message="m")
    assert bare.one_line() == "w.md: warning x: m"
    assert Finding.model_validate_json(finding.model_dump_json()) == finding
    with pytest.raises(ValueError):
        Finding(rule_id="x", severity="fatal", path="w.md", message="m")  # type: ignore[arg-type]

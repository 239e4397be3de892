"""The Node.js tool's validation rules (wave-format.md §2.4), on edited copies of the anchor's wave 0.

Every test starts from the starter repository copied to ``tmp_path`` (its wave 0 validates clean),
makes one change that should trigger one rule, and checks the rule id, the message and the line.
"""

from __future__ import annotations

import time

import pytest
from lintkit import Repo, agent_block, fresh, ids, line_of, only, replace_in_agent

from pytest_wave.lint import validate_wave
from pytest_wave.model.findings import Finding
from pytest_wave.parse.wave import parse_wave_file

MATRIX = "docs/plans/component-cutover-matrix.json"
PROMOTIONS = (
    "## Component promotions\n\n"
    "- wave-parser-and-launcher: repo-landed\n"
    "- starter-docs-and-adoption-guidance: repo-landed\n\n"
)
A1_COMPONENTS = "### Components\n\n- wave-parser-and-launcher\n- starter-docs-and-adoption-guidance\n\n"
EXIT = "### Exit contract\n\n- completion: contract\n- durability: none\n- proof: unit\n- doc-impact: owned\n\n"


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


# --------------------------------------------------------------------------- the anchor's own wave


def test_anchor_wave_0_validates_clean(repo: Repo) -> None:
    assert repo.validate() == []


def test_anchor_wave_0_read_from_disk_validates_clean(repo: Repo) -> None:
    wave = parse_wave_file(repo.root / repo.path(), display_path=repo.path())
    assert validate_wave(wave, repo.root) == []
    assert validate_wave(wave, str(repo.root), "main") == []


def test_renaming_the_evaluator_fails_the_evaluator_rules(repo: Repo) -> None:
    text = repo.wave0.replace("## Agent A0:", "## Agent A5:")
    found = [f for f in repo.validate(text) if f.line == 1]  # wave-level findings point at "# Wave 0"
    assert messages(found) == [
        "Wave 0 must include Agent A0 as the running evaluator",
        "Agent A0 must import docs/agents/wave-evaluator-role.md",
        "Agent A0 must own an evaluator report path",
    ]
    assert ids(found) == ["missing-evaluator", "evaluator-role-prompt", "evaluator-report-path"]
    assert all(f.severity == "error" and f.path == "docs/plans/waves/wave-0.md" for f in found)
    # A5 is now an ordinary implementation agent, which must declare components.
    assert messages(only(repo.validate(text), "missing-components")) == [
        "Agent A5 must declare a ### Components section in waves 0 and later"
    ]


# --------------------------------------------------------------------------- 1. matrix load


def test_matrix_missing_is_reported_at_the_promotions_section(repo: Repo) -> None:
    (repo.root / MATRIX).unlink()
    found = only(repo.validate(), "matrix-invalid")
    assert messages(found) == [f"Component cutover matrix is missing or invalid: {MATRIX}"]
    assert found[0].line == line_of(repo.wave0, "## Component promotions")


def test_matrix_errors_skip_the_matrix_checks(repo: Repo) -> None:
    repo.edit_json(MATRIX, lambda data: data.update(levels=[]))
    text = repo.wave0.replace("- wave-parser-and-launcher: repo-landed", "- wave-parser-and-launcher: nowhere")
    found = repo.validate(text)
    assert messages(only(found, "matrix-invalid")) == [
        f'Component cutover matrix must define a non-empty "levels" array in {MATRIX}'
    ]
    assert not only(found, "promotion-invalid-level")


def test_matrix_is_not_loaded_when_nothing_needs_it(repo: Repo) -> None:
    repo.config(requireComponentPromotionsFromWave=None, requireAgentComponentsFromWave=None)
    (repo.root / MATRIX).unlink()
    text = repo.wave0.replace(PROMOTIONS, "").replace(A1_COMPONENTS, "")
    assert "matrix-invalid" not in ids(repo.validate(text))


# --------------------------------------------------------------------------- 2. agents


def test_a_wave_without_agents(repo: Repo) -> None:
    wave = repo.parse().model_copy(update={"agents": []})
    found = validate_wave(wave, repo.root)
    assert messages(only(found, "no-agents")) == ["Wave 0 must declare at least one agent"]


def test_repeated_agent_ids(repo: Repo) -> None:
    wave = repo.parse()
    twice = wave.model_copy(update={"agents": [*wave.agents, wave.agents[-1]]})
    found = only(validate_wave(twice, repo.root), "duplicate-agent-id")
    assert messages(found) == ["Wave 0 must not repeat agent ids (A1)"]
    assert "duplicate-agent-id" not in ids(repo.validate())


# --------------------------------------------------------------------------- 3/8. evaluator


def test_evaluator_present_passes(repo: Repo) -> None:
    assert not {"missing-evaluator", "evaluator-role-prompt", "evaluator-report-path"} & set(ids(repo.validate()))


def test_evaluator_must_import_its_role_prompt(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A0", "### Role prompts\n\n- docs/agents/wave-evaluator-role.md\n\n", "")
    found = only(repo.validate(text), "evaluator-role-prompt")
    assert messages(found) == ["Agent A0 must import docs/agents/wave-evaluator-role.md"]
    assert found[0].line == line_of(text, "## Agent A0")
    assert found[0].agent_id == "A0"


def test_evaluator_must_own_a_report_path(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A0", "File ownership (only touch these paths):", "Files:")
    found = repo.validate(text)
    assert messages(only(found, "evaluator-report-path")) == ["Agent A0 must own an evaluator report path"]
    assert only(found, "evaluator-report-path")[0].line == line_of(text, "### Prompt", start="## Agent A0")


def test_configured_evaluator_id_is_used(repo: Repo) -> None:
    path = repo.root / "wave.config.json"
    path.write_text(path.read_text().replace('"evaluatorAgentId": "A0"', '"evaluatorAgentId": "E9"'))
    fresh()
    assert "Wave 0 must include Agent E9 as the running evaluator" in messages(repo.validate())


# --------------------------------------------------------------------------- 4. promotions required


def test_promotions_section_required_from_threshold(repo: Repo) -> None:
    text = repo.wave0.replace(PROMOTIONS, "")
    found = only(repo.validate(text), "missing-component-promotions")
    assert messages(found) == ["Wave 0 must declare a ## Component promotions section in waves 0 and later"]


@pytest.mark.parametrize("threshold", [None, 1])
def test_promotions_section_not_required_below_or_without_threshold(repo: Repo, threshold: int | None) -> None:
    repo.config(requireComponentPromotionsFromWave=threshold)
    assert "missing-component-promotions" not in ids(repo.validate(repo.wave0.replace(PROMOTIONS, "")))


# --------------------------------------------------------------------------- 5. promotions vs matrix


def test_promotion_of_unknown_component(repo: Repo) -> None:
    text = repo.wave0.replace(PROMOTIONS, PROMOTIONS.rstrip("\n") + "\n- no-such-part: repo-landed\n\n")
    found = only(repo.validate(text), "promotion-unknown-component")
    assert messages(found) == [f'Wave 0 references unknown component "no-such-part" from {MATRIX}']
    assert found[0].line == line_of(text, "- no-such-part: repo-landed")


def test_promotion_to_unknown_level(repo: Repo) -> None:
    text = repo.wave0.replace("- wave-parser-and-launcher: repo-landed", "- wave-parser-and-launcher: shipped")
    found = repo.validate(text)
    assert messages(only(found, "promotion-invalid-level")) == [
        'Wave 0 uses invalid component level "shipped" for wave-parser-and-launcher'
    ]
    assert "matrix-promotion-not-declared" in ids(found)


def test_promotion_missing_from_the_matrix(repo: Repo) -> None:
    found = only(repo.validate(name="wave-1.md"), "promotion-not-in-matrix")
    assert messages(found) == [
        f'Component "wave-parser-and-launcher" is missing a wave 1 promotion entry in {MATRIX}',
        f'Component "starter-docs-and-adoption-guidance" is missing a wave 1 promotion entry in {MATRIX}',
    ]
    assert [f.line for f in found] == [line_of(repo.wave0, "- wave-parser-and"), line_of(repo.wave0, "- starter-docs")]


def test_promotion_target_differs_from_the_matrix(repo: Repo) -> None:
    text = repo.wave0.replace("- wave-parser-and-launcher: repo-landed", "- wave-parser-and-launcher: contract-frozen")
    found = repo.validate(text)
    assert messages(only(found, "promotion-target-mismatch")) == [
        f"Wave 0 promotes wave-parser-and-launcher to contract-frozen, but {MATRIX} declares repo-landed"
    ]
    assert messages(only(found, "matrix-promotion-not-declared")) == [
        f"Wave 0 must declare component promotion wave-parser-and-launcher: repo-landed to match {MATRIX}"
    ]


def test_promotion_below_the_current_level(repo: Repo) -> None:
    def later(data: dict[str, object]) -> None:
        components = data["components"]
        assert isinstance(components, dict)
        components["wave-parser-and-launcher"]["currentLevel"] = "baseline-proved"

    repo.edit_json(MATRIX, later)
    found = only(repo.validate(), "promotion-below-current-level")
    assert messages(found) == [
        f"Wave 0 promotes wave-parser-and-launcher to repo-landed, but {MATRIX} already records "
        "currentLevel baseline-proved"
    ]


def test_a_level_a_later_wave_reached_is_not_below_current(repo: Repo) -> None:
    """Wave 0 reran after wave 3 promoted the component further: the matrix explains the level."""

    def later(data: dict[str, object]) -> None:
        components = data["components"]
        assert isinstance(components, dict)
        component = components["wave-parser-and-launcher"]
        component["currentLevel"] = "baseline-proved"
        component["promotions"].append({"wave": 3, "target": "baseline-proved"})

    repo.edit_json(MATRIX, later)
    assert only(repo.validate(), "promotion-below-current-level") == []


def test_matrix_promotion_not_declared_by_the_wave(repo: Repo) -> None:
    text = repo.wave0.replace("- starter-docs-and-adoption-guidance: repo-landed\n", "")
    found = only(repo.validate(text), "matrix-promotion-not-declared")
    assert messages(found) == [
        f"Wave 0 must declare component promotion starter-docs-and-adoption-guidance: repo-landed to match {MATRIX}"
    ]
    assert found[0].line == line_of(text, "## Component promotions")


# --------------------------------------------------------------------------- 6. per agent


def test_agent_without_owned_paths(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "File ownership (only touch these paths):", "Context:")
    found = repo.validate(text)
    assert messages(only(found, "missing-owned-paths")) == ["Agent A1 must declare at least one owned path"]
    assert only(found, "missing-owned-paths")[0].line == line_of(text, "### Prompt", start="## Agent A1")
    # No owned path: none of the other per-agent checks, and A1 no longer owns its components.
    assert "missing-components" not in ids(found)
    assert len(only(found, "promoted-component-unowned")) == 2


def test_owned_path_outside_the_repository(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- README.md", "- ../README.md")
    found = only(repo.validate(text), "owned-path-outside-repo")
    assert messages(found) == ["Agent A1 has non-repo-owned paths (../README.md)"]
    assert found[0].line == line_of(text, "- ../README.md")


@pytest.mark.parametrize("path", ["docs/other/wave-evaluator-role.md", "docs/agents/wave-evaluator-role.txt"])
def test_role_prompt_outside_the_role_prompt_dir(repo: Repo, path: str) -> None:
    text = replace_in_agent(repo.wave0, "A0", "- docs/agents/wave-evaluator-role.md", f"- {path}")
    found = only(repo.validate(text), "role-prompt-path-invalid")
    assert messages(found) == [f"Agent A0 has invalid role prompt paths ({path})"]
    assert found[0].line == line_of(text, f"- {path}")


def _add_role_prompt(text: str, agent_id: str, path: str) -> str:
    block = agent_block(text, agent_id)
    if "### Role prompts\n\n" in block:
        return replace_in_agent(text, agent_id, "### Role prompts\n\n", f"### Role prompts\n\n- {path}\n")
    return replace_in_agent(text, agent_id, "### Executor", f"### Role prompts\n\n- {path}\n\n### Executor")


@pytest.mark.parametrize(
    ("content", "rule_id", "message"),
    [
        (None, "role-prompt-missing", "Missing role prompt docs/agents/extra-role.md for agent A1"),
        (
            "# Extra\n\nNo standing prompt here.\n",
            "role-prompt-missing-standing-section",
            'Missing "## Standing prompt" section in docs/agents/extra-role.md required by agent A1',
        ),
        (
            "# Extra\n\n## Standing prompt\n\nJust prose, no fence.\n",
            "role-prompt-missing-fence",
            "Role prompt docs/agents/extra-role.md required by agent A1: missing fenced prompt block",
        ),
    ],
)
def test_role_prompt_files_must_resolve(repo: Repo, content: str | None, rule_id: str, message: str) -> None:
    if content is not None:
        (repo.root / "docs/agents/extra-role.md").write_text(content)
    text = _add_role_prompt(repo.wave0, "A1", "docs/agents/extra-role.md")
    found = repo.validate(text)
    assert messages(only(found, rule_id)) == [message]
    assert only(found, rule_id)[0].line == line_of(text, "- docs/agents/extra-role.md")
    assert "missing-prompt-reference" not in ids(found)  # the unresolved prompt is not checked further


def test_standing_prompt_counts_for_required_references(repo: Repo) -> None:
    refs = "Read docs/reference/repository-guidance.md and docs/research/agent-context-sources.md."
    (repo.root / "docs/agents/extra-role.md").write_text(f"# Extra\n\n## Standing prompt\n\n```text\n{refs}\n```\n")
    text = replace_in_agent(repo.wave0, "A1", "- Read docs/research/agent-context-sources.md.\n", "")
    assert "missing-prompt-reference" in ids(repo.validate(text))
    assert repo.validate(_add_role_prompt(text, "A1", "docs/agents/extra-role.md")) == []


@pytest.mark.parametrize(
    ("agent_id", "anchor", "extra", "message"),
    [
        (
            "A8",
            "- model: claude-sonnet-4-6",
            "- codex.search: true",
            "declares executor=claude but includes non-Claude",
        ),
        ("A9", "- id: opencode", "- claude.agent: reviewer", "declares executor=opencode but includes non-OpenCode"),
        ("A0", "- codex.json: true", "- opencode.steps: 3", "declares executor=codex but includes non-Codex"),
    ],
)
def test_executor_overrides_must_match_the_executor(
    repo: Repo, agent_id: str, anchor: str, extra: str, message: str
) -> None:
    text = replace_in_agent(repo.wave0, agent_id, anchor, f"{anchor}\n{extra}")
    found = only(repo.validate(text), "executor-override-mismatch")
    assert messages(found) == [f"Agent {agent_id} {message} overrides"]
    assert found[0].line == line_of(text, extra, start=f"## Agent {agent_id}")


def test_local_executor_takes_no_vendor_overrides(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A0", "- id: codex", "- id: local")
    found = only(repo.validate(text), "executor-override-mismatch")
    assert messages(found) == ["Agent A0 declares executor=local but includes vendor overrides"]
    assert found[0].line == line_of(text, "- codex.profile_name: review")


def test_unknown_executor_profile(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- profile: implement-fast", "- profile: turbo")
    found = only(repo.validate(text), "unknown-executor-profile")
    assert messages(found) == ['Agent A1 references unknown executor profile "turbo"']
    assert found[0].line == line_of(text, "- profile: turbo")


def test_context7_section_required_from_threshold(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A0", "### Context7\n\n- bundle: none\n\n", "")
    assert "missing-context7" not in ids(repo.validate(text))  # default threshold 6
    found = only(repo.validate(text, name="wave-6.md"), "missing-context7")
    assert messages(found) == ["Agent A0 must declare a ### Context7 section in waves 6 and later"]
    assert found[0].line == line_of(text, "## Agent A0")
    repo.config(requireContext7DeclarationsFromWave=0)
    assert "missing-context7" in ids(repo.validate(text))


def test_closure_roles_must_not_declare_components(repo: Repo) -> None:
    text = replace_in_agent(
        repo.wave0, "A9", "### Prompt", "### Components\n\n- wave-parser-and-launcher\n\n### Prompt"
    )
    found = only(repo.validate(text), "closure-role-components")
    assert messages(found) == ["Agent A9 must not declare a ### Components section"]
    assert found[0].line == line_of(text, "### Components", start="## Agent A9")


def test_components_required_from_threshold(repo: Repo) -> None:
    text = repo.wave0.replace(A1_COMPONENTS, "")
    found = repo.validate(text)
    assert messages(only(found, "missing-components")) == [
        "Agent A1 must declare a ### Components section in waves 0 and later"
    ]
    repo.config(requireAgentComponentsFromWave=None)
    assert "missing-components" not in ids(repo.validate(text))


def test_agent_component_unknown_or_not_promoted(repo: Repo) -> None:
    text = repo.wave0.replace(
        A1_COMPONENTS,
        A1_COMPONENTS.rstrip("\n") + "\n- no-such-part\n- executor-abstraction-and-prompt-transport\n\n",
    )
    found = repo.validate(text)
    assert messages(only(found, "unknown-component")) == [
        f'Agent A1 references unknown component "no-such-part" from {MATRIX}'
    ]
    assert messages(only(found, "component-not-promoted")) == [
        'Agent A1 declares component "executor-abstraction-and-prompt-transport" that is not promoted in wave 0'
    ]
    assert only(found, "unknown-component")[0].line == line_of(text, "### Components", start="## Agent A1")


def test_exit_contract_required_from_threshold(repo: Repo) -> None:
    text = repo.wave0.replace(EXIT, "")
    assert "missing-exit-contract" not in ids(repo.validate(text))
    repo.config(requireExitContractsFromWave=0)
    found = only(repo.validate(text), "missing-exit-contract")
    assert messages(found) == ["Agent A1 must declare a ### Exit contract section in waves 0 and later"]
    assert found[0].line == line_of(text, "## Agent A1")  # closure roles need none


def test_exit_contract_shape_checked_from_threshold(repo: Repo) -> None:
    text = repo.wave0.replace("- proof: unit\n", "")
    assert "invalid-exit-contract" not in ids(repo.validate(text))  # a missing field is fine below it
    repo.config(requireExitContractsFromWave=0)
    found = only(repo.validate(text), "invalid-exit-contract")
    assert messages(found) == ["Agent A1 has invalid exit contract (proof must be one of unit, integration, live)"]
    assert found[0].line == line_of(text, "### Exit contract")


def test_exit_contract_values_are_checked_in_every_wave(repo: Repo) -> None:
    text = repo.wave0.replace("- completion: contract", "- completion: done")
    found = only(repo.validate(text), "invalid-exit-contract")
    assert messages(found) == [
        "Agent A1 has invalid exit contract (completion must be one of contract, integrated, authoritative, live)"
    ]


def test_deliverables_must_be_owned(repo: Repo) -> None:
    text = repo.wave0.replace(EXIT, EXIT + "### Deliverables\n\n- README.md\n- src/elsewhere.py\n\n")
    found = only(repo.validate(text), "deliverable-not-owned")
    assert messages(found) == [
        'Deliverable "src/elsewhere.py" for agent A1 must stay within the agent\'s declared file ownership'
    ]
    assert found[0].line == line_of(text, "- src/elsewhere.py")


def test_deliverable_inside_an_owned_directory(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- scripts/wave-orchestrator/wave-files.mjs", "- scripts/")
    text = text.replace(EXIT, EXIT + "### Deliverables\n\n- scripts/wave-orchestrator/launcher.mjs\n\n")
    assert repo.validate(text) == []


# --------------------------------------------------------------------------- 7. prompt references


def test_required_prompt_references(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- Read docs/research/agent-context-sources.md.\n", "")
    found = only(repo.validate(text), "missing-prompt-reference")
    assert messages(found) == ["Agent A1 must reference docs/research/agent-context-sources.md"]
    assert found[0].line == line_of(text, "```text", start="## Agent A1") + 1
    repo.config(requiredPromptReferences=[])
    assert repo.validate(text) == []


def test_role_prompt_supplies_references_for_the_evaluator(repo: Repo) -> None:
    # The evaluator's standing prompt names both references, so its local prompt may omit them.
    text = replace_in_agent(repo.wave0, "A0", "- Read docs/reference/repository-guidance.md.\n", "")
    text = replace_in_agent(text, "A0", "- Read docs/research/agent-context-sources.md.\n", "")
    assert repo.validate(text) == []


# --------------------------------------------------------------------------- 9. integration steward


def test_integration_steward_required(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A8", "### Role prompts\n\n- docs/agents/wave-integration-role.md\n\n", "")
    found = only(repo.validate(text), "integration-steward")
    assert messages(found) == [
        "Wave 0 must include exactly one integration steward importing docs/agents/wave-integration-role.md"
    ]
    assert found[0].line == line_of(text, "## Agent A8")
    repo.config(requireIntegrationStewardFromWave=None)
    assert "integration-steward" not in ids(repo.validate(text))


def test_only_one_integration_steward(repo: Repo) -> None:
    text = _add_role_prompt(repo.wave0, "A1", "docs/agents/wave-integration-role.md")
    found = only(repo.validate(text), "integration-steward")
    assert len(found) == 1
    assert found[0].line == line_of(text, "- docs/agents/wave-integration-role.md", start="## Agent A1")


# --------------------------------------------------------------------------- 10. documentation steward


def test_documentation_steward_required(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A9", "### Role prompts\n\n- docs/agents/wave-documentation-role.md\n\n", "")
    found = only(repo.validate(text), "documentation-steward")
    assert messages(found) == [
        "Wave 0 must include exactly one documentation steward importing docs/agents/wave-documentation-role.md"
    ]
    repo.config(requireDocumentationStewardFromWave=None, requireComponentPromotionsFromWave=None)
    assert "documentation-steward" not in ids(repo.validate(text))


def test_documentation_steward_owns_the_shared_plan_docs(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A9", "- docs/plans/migration.md\n", "")
    found = only(repo.validate(text), "documentation-steward-paths")
    assert messages(found) == ["Documentation steward A9 must own docs/plans/migration.md"]
    assert found[0].line == line_of(text, "### Prompt", start="## Agent A9")


def test_matrix_files_are_steward_paths_only_with_the_promotions_rule(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A9", "- docs/plans/component-cutover-matrix.md\n", "")
    assert "documentation-steward-paths" in ids(repo.validate(text))
    repo.config(requireComponentPromotionsFromWave=None)
    assert "documentation-steward-paths" not in ids(repo.validate(text))


def test_shared_plan_docs_owned_by_the_steward_only(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- README.md", "- README.md\n- docs/plans/migration.md")
    found = only(repo.validate(text), "shared-plan-docs-ownership")
    assert messages(found) == ["Shared plan docs must be owned only by A9 (also owned by A1)"]
    assert found[0].line == line_of(text, "- docs/plans/migration.md", start="## Agent A1")


# --------------------------------------------------------------------------- 11. Context7 defaults


def test_context7_defaults_required_from_threshold(repo: Repo) -> None:
    section = (
        "## Context7 defaults\n\n- bundle: node-typescript\n"
        '- query: "Node.js and TypeScript basics for orchestrator maintenance"\n\n'
    )
    text = repo.wave0.replace(section, "")
    assert text != repo.wave0
    assert "missing-context7-defaults" not in ids(repo.validate(text))
    found = only(repo.validate(text, name="wave-6.md"), "missing-context7-defaults")
    assert messages(found) == ["Waves 6 and later must declare a ## Context7 defaults section"]


# --------------------------------------------------------------------------- 12. runtime mix


def test_runtime_mix_targets(repo: Repo) -> None:
    repo.config(runtime_policy={"runtimeMixTargets": {"codex": 1, "claude": 1}})
    found = only(repo.validate(), "runtime-mix-exceeded")
    assert messages(found) == ["Wave 0 exceeds lane runtime mix targets (codex=2 exceeds target 1)"]
    assert found[0].line == line_of(repo.wave0, "## Agent A1")  # the second codex agent


def test_runtime_mix_counts_role_defaults(repo: Repo) -> None:
    # A1 drops its profile: the lane's implementation default (codex) still counts.
    text = replace_in_agent(repo.wave0, "A1", "- profile: implement-fast\n", "")
    repo.config(runtime_policy={"runtimeMixTargets": {"codex": 1}})
    assert "codex=2 exceeds target 1" in only(repo.validate(text), "runtime-mix-exceeded")[0].message
    repo.config(runtime_policy={"runtimeMixTargets": {"codex": 2}})
    assert "runtime-mix-exceeded" not in ids(repo.validate(text))


# --------------------------------------------------------------------------- 13. component owners


def test_promoted_component_needs_an_owner(repo: Repo) -> None:
    text = repo.wave0.replace(A1_COMPONENTS, "")
    found = only(repo.validate(text), "promoted-component-unowned")
    assert messages(found) == [
        'Wave 0 must assign promoted component "wave-parser-and-launcher" to at least one non-A0/A9 agent',
        'Wave 0 must assign promoted component "starter-docs-and-adoption-guidance" to at least one non-A0/A9 agent',
    ]
    assert found[0].line == line_of(text, "- wave-parser-and-launcher: repo-landed")


# --------------------------------------------------------------------------- ordering, caching, speed


def test_findings_are_sorted_by_line(repo: Repo) -> None:
    text = repo.wave0.replace("## Agent A0:", "## Agent A5:").replace("- completion: contract", "- completion: done")
    lines = [f.line or 0 for f in repo.validate(text)]
    assert lines == sorted(lines)


def test_role_prompt_edits_are_picked_up(repo: Repo) -> None:
    assert repo.validate() == []
    role = repo.root / "docs/agents/wave-evaluator-role.md"
    role.write_text(role.read_text().replace("## Standing prompt", "## Standing notes") + "\n")
    assert "role-prompt-missing-standing-section" in ids(repo.validate())


def test_validate_is_fast_when_repeated(repo: Repo) -> None:
    wave = repo.parse()
    validate_wave(wave, repo.root)
    start = time.process_time()
    for _ in range(200):
        validate_wave(wave, repo.root)
    per_call = (time.process_time() - start) / 200
    assert per_call < 0.001, f"{per_call * 1e6:.0f} us per call"


def test_role_prompts_outside_the_dir_are_never_read(repo: Repo) -> None:
    secret = repo.root.parent / "outside-role.md"
    secret.write_text("## Standing prompt\n\n```text\ndocs/research/agent-context-sources.md\n```\n")
    text = replace_in_agent(repo.wave0, "A1", "File ownership (only touch these paths):", "Files:")
    text = _add_role_prompt(text, "A1", "docs/agents/../../../outside-role.md")
    found = repo.validate(text)
    assert "role-prompt-path-invalid" in ids(found)  # reported even for an agent without owned paths
    assert not {"role-prompt-missing", "missing-prompt-reference"} & set(ids(found))

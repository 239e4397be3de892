"""The extra lint rules (the Node.js tool planned ``wave lint`` but never shipped it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lintkit import Repo, fresh, ids, line_of, only, replace_in_agent

from pytest_wave.lint import lint_wave

EXIT = "### Exit contract\n\n- completion: contract\n- durability: none\n- proof: unit\n- doc-impact: owned\n\n"
VALIDATION = "\nValidation:\n- pnpm test\n"


def with_validation(text: str) -> str:
    """Wave 0 with a ``Validation:`` list in A1's prompt (the only agent the rule asks it of)."""
    return replace_in_agent(
        text,
        "A1",
        "- test/wave-orchestrator/wave-files.test.ts\n",
        "- test/wave-orchestrator/wave-files.test.ts\n" + VALIDATION,
    )


def test_anchor_wave_0_lints_with_one_warning(repo: Repo) -> None:
    found = repo.lint()
    assert ids(found) == ["no-validation-commands"]
    assert found[0].severity == "warning"
    assert repo.lint(with_validation(repo.wave0)) == []


def test_lint_only_and_validation_only(repo: Repo) -> None:
    text = repo.wave0.replace("## Agent A0:", "## Agent A5:")
    assert "missing-evaluator" not in ids(repo.lint(text, include=("lint",)))
    assert "no-validation-commands" not in ids(repo.lint(text, include=("validation",)))
    assert {"missing-evaluator", "no-validation-commands"} <= set(ids(repo.lint(text)))


# --------------------------------------------------------------------------- ownership


def _second_worker(owned: str) -> str:
    return (
        "\n## Agent A2: Second Worker\n\n### Components\n\n- wave-parser-and-launcher\n\n" + EXIT + "### Prompt\n\n"
        "```text\nRead docs/reference/repository-guidance.md and docs/research/agent-context-sources.md.\n\n"
        f"File ownership (only touch these paths):\n{owned}\n\nValidation:\n- pnpm test\n```\n"
    )


def test_same_path_owned_twice(repo: Repo) -> None:
    text = with_validation(repo.wave0) + _second_worker("- README.md")
    found = only(repo.lint(text), "ownership-overlap")
    first = line_of(text, "- README.md", start="## Agent A1")
    assert [f.message for f in found] == [f'Agent A2 owns "README.md", which is also owned by Agent A1 (line {first})']
    assert found[0].line == line_of(text, "- README.md", start="## Agent A2")
    assert (found[0].severity, found[0].agent_id) == ("error", "A2")


def test_directory_overlapping_other_paths(repo: Repo) -> None:
    text = with_validation(repo.wave0) + _second_worker("- docs/")

    def at(path: str, agent: str) -> int:
        return line_of(text, f"- {path}", start=f"## Agent {agent}")

    found = only(repo.lint(text), "ownership-overlap")
    assert [f.message for f in found] == [
        'Agent A2 owns "docs/", which is also owned by '
        f'Agent A0 ("docs/plans/waves/reviews/wave-0-evaluator.md", line {at("docs/plans/waves/reviews", "A0")}), '
        f'Agent A9 ("docs/plans/current-state.md", line {at("docs/plans/current-state.md", "A9")}), '
        f'Agent A1 ("docs/plans/wave-orchestrator.md", line {at("docs/plans/wave-orchestrator.md", "A1")})'
    ]
    assert found[0].line == line_of(text, "- docs/", start="## Agent A2")


def test_disjoint_ownership_is_fine(repo: Repo) -> None:
    assert "ownership-overlap" not in ids(repo.lint())


def test_shared_plan_doc_duplicates_are_left_to_validation(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- README.md", "- README.md\n- docs/plans/migration.md")
    found = repo.lint(text)
    assert "shared-plan-docs-ownership" in ids(found)
    assert "ownership-overlap" not in ids(found)


# --------------------------------------------------------------------------- closure roles


def _drop_agent(text: str, agent_id: str) -> str:
    start = text.index(f"## Agent {agent_id}:")
    end = text.index("\n## Agent ", start + 1) + 1
    return text[:start] + text[end:]


def test_missing_integration_and_documentation_stewards(repo: Repo) -> None:
    text = _drop_agent(_drop_agent(repo.wave0, "A8"), "A9")
    found = only(repo.lint(text), "closure-role-missing")
    assert [f.message for f in found] == [
        "Wave 0 has no Agent A8 (integration steward); closure will skip that step",
        "Wave 0 has no Agent A9 (documentation steward); closure will skip that step",
    ]
    assert all(f.severity == "warning" for f in found)


def _worker(agent_id: str) -> str:
    return (
        f"## Agent {agent_id}: Worker {agent_id}\n\n" + EXIT + "### Prompt\n\n```text\nWork.\n\n"
        f"File ownership (only touch these paths):\n- src/{agent_id}.py\n```\n\n"
    )


def test_closure_agents_between_workers_are_misordered(repo: Repo) -> None:
    a8 = repo.wave0[repo.wave0.index("## Agent A8:") : repo.wave0.index("## Agent A9:")]
    text = repo.wave0.replace(a8, "") + "\n" + _worker("A2") + a8 + _worker("A3")
    found = only(repo.lint(text), "closure-role-misordered")
    assert [f.message for f in found] == ["Closure Agent A8 sits between implementation agents A2 and A3"]
    assert found[0].line == line_of(text, "## Agent A8")


@pytest.mark.parametrize("where", ["first", "last"])
def test_closure_agents_first_or_last_are_fine(repo: Repo, where: str) -> None:
    closure = repo.wave0[repo.wave0.index("## Agent A0:") : repo.wave0.index("## Agent A1:")]
    head = repo.wave0[: repo.wave0.index("## Agent A0:")]
    workers = repo.wave0[repo.wave0.index("## Agent A1:") :] + "\n" + _worker("A2")
    text = head + (closure + workers if where == "first" else workers + "\n" + closure)
    assert "closure-role-misordered" not in ids(repo.lint(text))


# --------------------------------------------------------------------------- exit contracts, validation commands


def test_agent_without_exit_contract_warns_below_the_threshold(repo: Repo) -> None:
    text = repo.wave0.replace(EXIT, "")
    found = only(repo.lint(text), "no-exit-contract")
    assert [(f.agent_id, f.severity) for f in found] == [("A1", "warning")]
    assert found[0].line == line_of(text, "## Agent A1")
    # From the threshold on, validation's error replaces the warning.
    found = repo.lint(text, name="wave-6.md")
    assert "no-exit-contract" not in ids(found)
    assert "missing-exit-contract" in ids(found)


def test_validation_commands(repo: Repo) -> None:
    found = only(repo.lint(), "no-validation-commands")
    assert [(f.agent_id, f.line) for f in found] == [("A1", line_of(repo.wave0, "### Prompt", start="## Agent A1"))]
    assert "no-validation-commands" not in ids(repo.lint(with_validation(repo.wave0)))


# --------------------------------------------------------------------------- skills


def _with_skills(text: str, *skills: str) -> str:
    bullets = "".join(f"- {s}\n" for s in skills)
    return replace_in_agent(text, "A1", "### Components", f"### Skills\n\n{bullets}\n### Components")


def _bundle(folder: Path, skill_id: str, manifest: dict[str, object] | None = None, *, adapter: str = "") -> None:
    folder = folder / skill_id
    folder.mkdir(parents=True)
    data = manifest if manifest is not None else {"id": skill_id, "title": "T", "description": "D"}
    (folder / "skill.json").write_text(json.dumps(data))
    (folder / "SKILL.md").write_text("Do it well.\n")
    if adapter:
        (folder / "adapters").mkdir()
        (folder / "adapters" / f"{adapter}.md").write_text("adapter\n")


def test_unknown_skill_is_an_error_at_its_line(repo: Repo) -> None:
    text = _with_skills(repo.wave0, "no-such-skill")  # wave-core is a starter bundle shipped in skills/
    found = only(repo.lint(text), "unknown-skill")
    assert [f.message for f in found] == [
        'Agent A1 uses skill "no-such-skill" (from ### Skills), which is not a bundle in skills/ or '
        "pytest-wave's starter skills"
    ]
    assert (found[0].severity, found[0].agent_id) == ("error", "A1")
    assert found[0].line == line_of(text, "### Skills")


def test_skill_in_the_lane_skills_dir(repo: Repo) -> None:
    _bundle(repo.root / "skills", "my-rules")
    assert "unknown-skill" not in ids(repo.lint(_with_skills(repo.wave0, "my-rules", "wave-core")))


def test_skill_shipped_with_pytest_wave(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_wave.skills import PACKAGE_SKILLS_DIR

    shipped = tmp_path / "package-skills"
    shutil.copytree(PACKAGE_SKILLS_DIR, shipped)  # the lane config names starter bundles too
    _bundle(shipped, "only-shipped")
    monkeypatch.setattr("pytest_wave.skills.PACKAGE_SKILLS_DIR", shipped)
    found = only(repo.lint(_with_skills(repo.wave0, "only-shipped", "nope")), "unknown-skill")
    assert [f.message.split('"')[1] for f in found] == ["nope"]


@pytest.mark.parametrize(
    ("manifest", "adapter", "expected"),
    [
        ({"id": "other", "title": "T", "description": "D"}, "", 'Skill manifest id mismatch: "other"'),
        ({"id": "mine", "title": "T", "description": "D", "runtimes": ["cobol"]}, "", "unsupported runtime 'cobol'"),
        ({"id": "mine", "title": "T"}, "", "a skill needs a description or a summary"),
        (None, "vim", "adapter for unsupported runtime 'vim'"),
    ],
)
def test_mismatched_skill_bundle_is_an_error(
    repo: Repo, manifest: dict[str, object] | None, adapter: str, expected: str
) -> None:
    _bundle(repo.root / "skills", "mine", manifest if manifest is not None else None, adapter=adapter)
    text = _with_skills(repo.wave0, "mine")
    found = only(repo.lint(text), "invalid-skill-bundle")
    assert len(found) == 1 and expected in found[0].message, found[0].message
    assert (found[0].severity, found[0].line) == ("error", line_of(text, "### Skills"))
    assert "skills/mine/" in found[0].message


def test_skill_for_another_runtime_is_an_error(repo: Repo) -> None:
    text = _with_skills(repo.wave0, "runtime-opencode")  # A1 runs on codex; the bundle says opencode only
    found = only(repo.lint(text), "skill-runtime-mismatch")
    assert [f.message for f in found] == ['Agent A1 runs on codex, but skill "runtime-opencode" is for opencode only']
    assert found[0].severity == "error"


def test_broken_skill_in_the_lane_config_is_reported_once(repo: Repo) -> None:
    path = repo.root / "wave.config.json"
    data = json.loads(path.read_text())
    data["skills"] = {"base": ["not-there"]}
    path.write_text(json.dumps(data))
    fresh()
    found = only(repo.lint(), "unknown-skill")
    assert len(found) == 1 and "from the lane's skills config (base)" in found[0].message
    assert found[0].line == line_of(repo.wave0, "# Wave 0")


# --------------------------------------------------------------------------- Context7 bundles


def test_unknown_context7_bundle(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- bundle: node-typescript", "- bundle: rust-embedded")
    found = only(repo.lint(text), "unknown-context7-bundle")
    assert [f.message for f in found] == ['Unknown Context7 bundle "rust-embedded" for agent A1.']
    assert found[0].line == line_of(text, "### Context7", start="## Agent A1")
    assert found[0].severity == "error"


def test_unknown_default_context7_bundle(repo: Repo) -> None:
    text = repo.wave0.replace(
        '- bundle: node-typescript\n- query: "Node.js and TypeScript basics', '- bundle: nope\n- query: "x'
    )
    found = only(repo.lint(text), "unknown-context7-bundle")
    assert [f.message for f in found] == ['Unknown Context7 bundle "nope" for the wave defaults.']
    assert found[0].line == line_of(text, "## Context7 defaults")


def test_context7_bundle_index_missing(repo: Repo) -> None:
    (repo.root / "docs/context7/bundles.json").unlink()
    found = repo.lint()
    assert ids(only(found, "context7-index-missing")) == ["context7-index-missing"]
    assert "unknown-context7-bundle" not in ids(found)


def test_bundle_none_needs_no_index(repo: Repo) -> None:
    (repo.root / "docs/context7/bundles.json").unlink()
    text = repo.wave0.replace("- bundle: node-typescript", "- bundle: none")
    assert not {"context7-index-missing", "unknown-context7-bundle"} & set(ids(repo.lint(text)))


# --------------------------------------------------------------------------- deploy environments


@pytest.mark.parametrize(
    "line",
    [
        "Deploy environment: staging",
        "- deploy-env: `staging`",
        "- The primary deploy environment for this role is `staging` via `kubernetes`.",
    ],
)
def test_undeclared_deploy_environment(repo: Repo, line: str) -> None:
    text = replace_in_agent(repo.wave0, "A1", "Review and tighten", f"{line}\nReview and tighten")
    found = only(repo.lint(text), "undeclared-deploy-environment")
    assert [f.message for f in found] == [
        'Agent A1 references deploy environment "staging", which Wave 0 does not declare (none declared)'
    ]
    assert found[0].line == line_of(text, line)
    declared = text.replace(
        "## Context7 defaults", "## Deploy environments\n\n- `staging`: `kubernetes`\n\n## Context7 defaults"
    )
    assert "undeclared-deploy-environment" not in ids(repo.lint(declared))


def test_deploy_environment_none_and_title(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "Review and tighten", "Deploy environment: none\nReview and tighten")
    assert "undeclared-deploy-environment" not in ids(repo.lint(text))
    text = repo.wave0.replace("## Agent A1: Starter Runtime and Docs Review", "## Agent A1: Rollout (deploy-env: prod)")
    found = only(repo.lint(text), "undeclared-deploy-environment")
    assert [f.line for f in found] == [line_of(text, "## Agent A1")]


# --------------------------------------------------------------------------- executor fallbacks


def test_fallback_equal_to_own_executor(repo: Repo) -> None:
    text = replace_in_agent(repo.wave0, "A1", "- fallbacks: claude, opencode", "- fallbacks: codex, claude")
    found = only(repo.lint(text), "fallback-is-self")
    assert [f.message for f in found] == ["Agent A1 runs on codex and lists codex as its own fallback"]
    assert found[0].line == line_of(text, "- fallbacks: codex, claude")
    assert found[0].severity == "warning"
    assert "fallback-is-self" not in ids(repo.lint())


def test_lane_argument_forms(repo: Repo) -> None:
    from pytest_wave.config import load_config, resolve_lane

    wave = repo.parse()
    lane = resolve_lane(load_config(repo.root), None)
    assert lint_wave(wave, repo.root, lane) == lint_wave(wave, repo.root, "main") == lint_wave(wave, str(repo.root))

"""Rules are collected through the ``pytest_wave_lint_rules`` hookspec, so third parties can add their own."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy
import pytest
from lintkit import Repo, ids

from pytest_wave import hookspecs
from pytest_wave.lint import (
    LintContext,
    LintRule,
    builtin_rules,
    collect_rules,
    lint_rule,
    lint_wave,
    new_plugin_manager,
)
from pytest_wave.lint.registry import BUILTIN_PLUGIN_NAME, ensure_registered
from pytest_wave.model.findings import Finding

hookimpl = pluggy.HookimplMarker("pytest")


@lint_rule("no-todo", ids=("todo-in-prompt",))
def no_todo(ctx: LintContext) -> Iterator[Finding]:
    """Prompts must not contain TODO."""
    for agent in ctx.wave.agents:
        if "TODO" in agent.prompt:
            yield ctx.finding(
                "todo-in-prompt", "prompt still has a TODO", line=agent.prompt_line, agent=agent, fix="finish it"
            )


def every_agent_warns(ctx: LintContext) -> list[Finding]:
    return [ctx.finding("hello", f"hello {a.id}", line=a.line, severity="warning") for a in ctx.wave.agents]


class ThirdParty:
    @hookimpl
    def pytest_wave_lint_rules(self) -> list[LintRule]:
        return [no_todo]


class BareFunctions:
    @hookimpl
    def pytest_wave_lint_rules(self) -> list[object]:
        return [every_agent_warns]


def test_builtin_rules_have_unique_names_and_ids() -> None:
    rules = builtin_rules()
    names = [r.name for r in rules]
    assert len(names) == len(set(names))
    all_ids = [i for r in rules for i in r.rule_ids]
    assert len(all_ids) == len(set(all_ids))
    assert all(i == i.lower() and " " not in i and "_" not in i for i in all_ids)
    assert {r.category for r in rules} == {"validation", "lint"}
    assert all(r.description for r in rules)


def test_collect_without_a_plugin_manager_gives_the_builtins() -> None:
    assert [r.name for r in collect_rules()] == [r.name for r in builtin_rules()]


def test_third_party_rule_runs_first_builtins_last() -> None:
    pm = new_plugin_manager(ThirdParty())
    rules = collect_rules(pm)
    assert rules[0] is no_todo
    assert [r.name for r in rules[1:]] == [r.name for r in builtin_rules()]


def test_third_party_rule_findings(repo: Repo) -> None:
    text = repo.wave0.replace("Review and tighten", "TODO: review and tighten")
    pm = new_plugin_manager(ThirdParty())
    found = repo.lint(text, pluginmanager=pm)
    assert "todo-in-prompt" in ids(found)
    assert "todo-in-prompt" not in ids(repo.lint(text))  # not registered: not run
    assert "todo-in-prompt" not in ids(repo.lint(text, pluginmanager=pm, include=("validation",)))


def test_bare_functions_become_lint_rules(repo: Repo) -> None:
    pm = new_plugin_manager(BareFunctions())
    rule = collect_rules(pm)[0]
    assert rule.category == "lint"
    assert rule.name.endswith("every_agent_warns")
    assert ids(repo.lint(pluginmanager=pm)).count("hello") == 4


def test_pytest_plugin_manager(repo: Repo) -> None:
    pm = pytest.PytestPluginManager()
    pm.add_hookspecs(hookspecs)
    pm.register(ThirdParty(), name="third-party")
    rules = collect_rules(pm)
    assert rules[0] is no_todo
    assert pm.get_plugin(BUILTIN_PLUGIN_NAME) is not None
    ensure_registered(pm)  # idempotent
    assert [r.name for r in collect_rules(pm)] == [r.name for r in rules]
    text = repo.wave0.replace("Review and tighten", "TODO: review and tighten")
    assert "todo-in-prompt" in ids(lint_wave(repo.parse(text), repo.root, pluginmanager=pm))


def test_plugin_manager_without_hookspecs_gets_them() -> None:
    pm = pluggy.PluginManager("pytest")
    assert [r.name for r in collect_rules(pm)] == [r.name for r in builtin_rules()]


def test_hookspec_module_is_tidy() -> None:
    assert hookspecs.__doc__
    assert hookspecs.pytest_wave_lint_rules.__doc__ == "Return extra lint rules."
    assert isinstance(hookspecs.hookspec, pluggy.HookspecMarker)


def test_a_rule_may_not_be_anything() -> None:
    class Broken:
        @hookimpl
        def pytest_wave_lint_rules(self) -> list[object]:
            return [42]

    with pytest.raises(TypeError, match="neither a LintRule nor a callable"):
        collect_rules(new_plugin_manager(Broken()))

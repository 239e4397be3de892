"""Collecting lint rules: the built-in ones and whatever plugins return from ``pytest_wave_lint_rules``.

Built-in rules register through the same hook third parties use (as a ``trylast`` implementation),
so a plugin sees and runs exactly like them. Under pytest, pass ``config.pluginmanager``; the CLI
passes nothing and gets a plain ``pluggy.PluginManager("pytest")`` (plus any ``--plugin`` modules).
"""

from __future__ import annotations

import pluggy

from pytest_wave import hookspecs
from pytest_wave.lint.base import LintRule, as_rule
from pytest_wave.lint.extra import LINT_RULES
from pytest_wave.lint.node_compat import NODE_COMPAT_RULES
from pytest_wave.lint.paths import PATH_RULES
from pytest_wave.lint.posture import POSTURE_RULES
from pytest_wave.lint.validation import VALIDATION_RULES

hookimpl = pluggy.HookimplMarker("pytest")
BUILTIN_PLUGIN_NAME = "pytest-wave-builtin-lint-rules"


def builtin_rules() -> list[LintRule]:
    """pytest-wave's own rules: the anchor's validation rules first, then the extra lint rules."""
    return [*VALIDATION_RULES, *PATH_RULES, *LINT_RULES, *POSTURE_RULES, *NODE_COMPAT_RULES]


class BuiltinLintRules:
    """The plugin object that contributes :func:`builtin_rules` through ``pytest_wave_lint_rules``."""

    @hookimpl(trylast=True)
    def pytest_wave_lint_rules(self) -> list[LintRule]:
        return builtin_rules()


def ensure_registered(pluginmanager: pluggy.PluginManager) -> None:
    """Add the hookspecs (if missing) and the built-in rule plugin (once) to ``pluginmanager``."""
    if not _has_spec(pluginmanager):
        pluginmanager.add_hookspecs(hookspecs)
    if pluginmanager.get_plugin(BUILTIN_PLUGIN_NAME) is None:
        pluginmanager.register(BuiltinLintRules(), name=BUILTIN_PLUGIN_NAME)


def _has_spec(pluginmanager: pluggy.PluginManager) -> bool:
    caller = getattr(pluginmanager.hook, "pytest_wave_lint_rules", None)
    return caller is not None and caller.spec is not None


def new_plugin_manager(*plugins: object) -> pluggy.PluginManager:
    """A pytest-less plugin manager with the wave hookspecs, the built-in rules and ``plugins``."""
    pm = pluggy.PluginManager("pytest")
    ensure_registered(pm)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def collect_rules(pluginmanager: pluggy.PluginManager | None = None) -> list[LintRule]:
    """Every rule the ``pytest_wave_lint_rules`` hook returns, third-party first, built-ins last
    (``trylast``), each rule name once (the first wins)."""
    pm = pluginmanager if pluginmanager is not None else new_plugin_manager()
    ensure_registered(pm)
    rules: list[LintRule] = []
    seen: set[str] = set()
    for result in pm.hook.pytest_wave_lint_rules():
        if result is None:
            continue
        items = result if isinstance(result, list | tuple) else [result]
        for item in items:
            rule = as_rule(item)
            if rule.name not in seen:
                seen.add(rule.name)
                rules.append(rule)
    return rules

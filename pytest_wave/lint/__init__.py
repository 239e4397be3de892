"""Wave lint: the Node.js tool's validation rules plus extra checks, as pluggable rules.

``lint_wave`` runs every rule, ``validate_wave`` only the anchor's; rules are collected through the
``pytest_wave_lint_rules`` hook (:mod:`pytest_wave.hookspecs`), so plugins can add their own.
"""

from __future__ import annotations

from pytest_wave.lint.base import CATEGORIES, Category, LintRule, as_rule, lint_rule
from pytest_wave.lint.context import LintContext, clear_lint_caches
from pytest_wave.lint.registry import builtin_rules, collect_rules, new_plugin_manager
from pytest_wave.lint.runner import lint_wave, validate_wave

__all__ = [
    "CATEGORIES",
    "Category",
    "LintContext",
    "LintRule",
    "as_rule",
    "builtin_rules",
    "clear_lint_caches",
    "collect_rules",
    "lint_rule",
    "lint_wave",
    "new_plugin_manager",
    "validate_wave",
]

"""What a lint rule is: a named function from a :class:`~pytest_wave.lint.context.LintContext` to findings.

Write a rule as a plain function and wrap it with :func:`lint_rule`::

    @lint_rule("no-todo-prompts", ids=("todo-in-prompt",))
    def no_todo_prompts(ctx: LintContext) -> Iterator[Finding]:
        for agent in ctx.wave.agents:
            if "TODO" in agent.prompt:
                yield ctx.finding("todo-in-prompt", "prompt still has a TODO", line=agent.prompt_line,
                                  agent=agent, severity="warning", fix="finish the prompt")

and return it from the ``pytest_wave_lint_rules`` hook (see :mod:`pytest_wave.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pytest_wave.model.findings import Finding

if TYPE_CHECKING:
    from pytest_wave.lint.context import LintContext

Category = Literal["validation", "lint"]
CATEGORIES: tuple[Category, ...] = ("validation", "lint")
"""``validation``: the Node.js tool's own wave checks. ``lint``: extra checks it never shipped."""

CheckFn = Callable[["LintContext"], Iterable[Finding]]


@dataclass(frozen=True)
class LintRule:
    """One check. ``rule_ids`` lists the finding ids it may emit (documentation and ``--select``)."""

    name: str
    check: CheckFn
    category: Category = "lint"
    rule_ids: tuple[str, ...] = ()
    description: str = ""

    def __call__(self, ctx: LintContext) -> Iterable[Finding]:
        return self.check(ctx)


def lint_rule(
    name: str | None = None,
    *,
    category: Category = "lint",
    ids: tuple[str, ...] = (),
    description: str | None = None,
) -> Callable[[CheckFn], LintRule]:
    """Decorator: turn ``def rule(ctx) -> Iterable[Finding]`` into a :class:`LintRule`."""

    def wrap(func: CheckFn) -> LintRule:
        doc = (description if description is not None else (func.__doc__ or "")).strip()
        return LintRule(
            name=name or getattr(func, "__name__", "rule").replace("_", "-"),
            check=func,
            category=category,
            rule_ids=ids or ((name,) if name else ()),
            description=doc.splitlines()[0] if doc else "",
        )

    return wrap


def as_rule(obj: object) -> LintRule:
    """Accept a :class:`LintRule` or a bare ``rule(ctx)`` function (then a ``lint`` rule named after it)."""
    if isinstance(obj, LintRule):
        return obj
    if callable(obj):
        module = getattr(obj, "__module__", None) or ""
        qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
        return LintRule(name=f"{module}.{qualname}" if module else qualname, check=obj)
    raise TypeError(f"pytest_wave_lint_rules returned {obj!r}, which is neither a LintRule nor a callable")

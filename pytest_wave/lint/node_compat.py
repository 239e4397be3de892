"""Settings a Node.js 0.9 config carries that pytest-wave reads but does not apply.

``validation.autoClosure`` (0.9.12) let the Node.js tool pass closure stages without their proof in
"bootstrap" waves (numbered below ``closureModeThresholds.standard``): an integration verdict
inferred from clean state, an automatic documentation ``no-change``, cont-QA skipped. pytest-wave
closes a wave only on proof, so such a wave needs A8, A9 and A0 to pass here where Node waved them
through. The warning says so on the waves it concerns, before a run finds out.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.model.config import ClosureModeThresholds
from pytest_wave.model.findings import Finding


@lint_rule("node-closure-relaxation", ids=("node-closure-relaxation",))
def node_closure_relaxation(ctx: LintContext) -> Iterator[Finding]:
    """A Node.js 0.9 autoClosure relaxation would apply to this wave; here closure needs its proof."""
    validation = ctx.lane.validation
    auto = validation.auto_closure
    if auto is None or not auto.relaxations() or ctx.number is None:
        return
    thresholds = validation.closure_mode_thresholds or ClosureModeThresholds()  # Node's defaults when unset
    if ctx.number >= thresholds.standard:
        return
    relaxed = ", ".join(f"autoClosure.{name}" for name in auto.relaxations())
    yield ctx.finding(
        "node-closure-relaxation",
        f"{ctx.label} is a bootstrap wave for the Node.js tool ({relaxed}); pytest-wave does not relax "
        "closure: the integration, documentation and evaluator stages must each pass on proof",
        line=ctx.wave_line,
        severity="warning",
        fix=f"expect {ctx.integration_id}, {ctx.documentation_id} and {ctx.evaluator_id} to run and pass; "
        "remove validation.autoClosure to silence this",
    )


NODE_COMPAT_RULES = (node_closure_relaxation,)

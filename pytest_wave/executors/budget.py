"""The wave-level spending cap: once a run has spent it, no new agent try is launched.

Per-agent budgets live in the wave file (``budget.turns`` becomes claude ``--max-turns`` and
opencode ``steps``; ``budget.minutes`` is the attempt's deadline). This cap is for the whole run
and comes from the environment, because it is the operator's limit rather than the plan's:
``WAVE_BUDGET_TOKENS`` (total tokens) and ``WAVE_BUDGET_USD`` (reported cost). Spending counts
what every stored attempt result of the run reported; runtimes that report nothing count zero.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, Usage, sum_usage


@dataclass(frozen=True)
class WaveBudget:
    max_tokens: int | None = None
    max_cost_usd: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WaveBudget:
        source = os.environ if env is None else env
        tokens = source.get("WAVE_BUDGET_TOKENS", "").strip()
        cost = source.get("WAVE_BUDGET_USD", "").strip()
        try:
            return cls(int(tokens) if tokens else None, float(cost) if cost else None)
        except ValueError:
            raise WaveError(
                f"WAVE_BUDGET_TOKENS / WAVE_BUDGET_USD must be numbers (got {tokens!r}, {cost!r})",
                fix="unset them or give plain numbers",
            ) from None

    def exceeded(self, spent: Usage | None) -> str | None:
        """Why the budget is spent, or None while it is not."""
        if spent is None:
            return None
        if self.max_tokens is not None and spent.total_tokens >= self.max_tokens:
            return f"{spent.total_tokens} tokens of {self.max_tokens}"
        if self.max_cost_usd is not None and (spent.cost_usd or 0.0) >= self.max_cost_usd:
            return f"${spent.cost_usd:.4f} of ${self.max_cost_usd:.4f}"
        return None


def spent(run_dir: Path) -> Usage | None:
    """Usage summed over every stored attempt result of a run."""
    usages: list[Usage | None] = []
    for path in sorted(run_dir.glob("attempt-*/*.json")):
        try:
            usages.append(AgentResult.model_validate_json(path.read_text(encoding="utf-8")).usage)
        except (OSError, ValidationError):
            continue  # a torn or foreign file is not spending we can prove
    return sum_usage(usages)


def check_wave_budget(run_dir: Path, env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`WaveError` when the run's cap is set and spent (nothing is read otherwise)."""
    budget = WaveBudget.from_env(env)
    if budget.max_tokens is None and budget.max_cost_usd is None:
        return
    why = budget.exceeded(spent(run_dir))
    if why is not None:
        raise WaveError(
            f"wave budget spent ({why}); no new agent try is launched",
            fix="raise WAVE_BUDGET_TOKENS / WAVE_BUDGET_USD, or rerun the failed agents later",
        )

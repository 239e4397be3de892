"""The closure table of a wave (one row per agent) and its usage line, for the terminal summary.

The controller prints it under ``wave <file>: CLOSED|NOT CLOSED``; the HTML report shows the same
columns. Usage columns appear only when some runtime reported usage, and the switches column only
when some attempt was relaunched (a rate-limit retry or a fallback), so a run of local agents keeps
the short table.
"""

from __future__ import annotations

from pytest_wave.model.result import AgentResult, Usage, WaveOutcome
from pytest_wave.rendering import render

BASE_HEADERS = ("agent", "role", "executor", "attempt", "verdict")


def tokens(usage: Usage | None) -> str:
    if usage is None:
        return ""
    total = usage.total_tokens or usage.input_tokens + usage.output_tokens
    return f"{total:,}"


def cost(usage: Usage | None) -> str:
    return "" if usage is None or usage.cost_usd is None else f"${usage.cost_usd:.4f}"


def switches(result: AgentResult) -> str:
    """``retry x1, fallback codex->claude`` style: what happened inside the attempt."""
    parts: list[str] = []
    retries = sum(1 for s in result.executor_switches if s.kind == "retry")
    if retries:
        parts.append(f"retry x{retries}")
    parts += [f"fallback {s.from_executor}->{s.to_executor}" for s in result.executor_switches if s.kind == "fallback"]
    return ", ".join(parts)


def rows(outcome: WaveOutcome) -> list[tuple[str, ...]]:
    """Header row first; the reason is always the last column (not padded)."""
    results = list(outcome.agents.values())
    with_usage = any(r.usage is not None for r in results)
    with_switches = any(r.executor_switches for r in results)
    header: tuple[str, ...] = BASE_HEADERS
    if with_usage:
        header += ("tokens", "cost")
    if with_switches:
        header += ("switches",)
    table: list[tuple[str, ...]] = [(*header, "reason")]
    for agent_id, result in outcome.agents.items():
        row: tuple[str, ...] = (agent_id, result.role, result.executor_id, str(result.attempt), result.status)
        if with_usage:
            row += (tokens(result.usage), cost(result.usage))
        if with_switches:
            row += (switches(result),)
        table.append((*row, result.reason or ""))
    return table


def usage_line(usage: Usage | None) -> str | None:
    if usage is None:
        return None
    return render("reports/usage-line.txt.j2", usage=usage, tokens=tokens(usage), cost=cost(usage)).strip()


def lines(outcome: WaveOutcome) -> list[str]:
    """The table as aligned text lines, plus a usage line when the wave spent anything (no lines when
    no agent ran: a header over nothing says less than the wave's reason)."""
    if not outcome.agents:
        return []
    table = rows(outcome)
    padded = len(table[0]) - 1
    widths = [max(len(row[i]) for row in table) for i in range(padded)]
    out = ["  ".join(row[i].ljust(widths[i]) for i in range(padded)) + "  " + row[-1] for row in table]
    spent = usage_line(outcome.usage)
    if spent:
        out.append(spent)
    return out

"""The facts every agent and closure item's report carries in ``user_properties``.

``junitxml`` writes the properties of an item's *teardown* report and ``pytest-reportlog`` serializes
every report, so the properties go on the item (every later report of it copies them) as well as on
the report at hand. A closure stage that did not run has no result: its role and executor then come
from the wave file, and the result-only facts are empty strings, so every report has every key.
"""

from __future__ import annotations

import pytest

from pytest_wave.items import AgentItem

KEYS = (
    "wave",
    "agent",
    "attempt",
    "role",
    "executor",
    "status",
    "markers",
    "log",
    "proof_digest",
    "reused_from",  # a reused result: the earlier run/attempt and result file its proof came from
    "crashed",  # the signal that killed the agent process, when one did
)


def _defaults(item: AgentItem) -> dict[str, object]:
    role, executor = "", "unresolved"
    try:
        ctx = item.wave_file.context()
        role = ctx.role(item.agent)
        executor = ctx.executor_for(item.agent).id
    except Exception:  # a wave that does not load: its ::plan item says why
        pass
    empty = {"markers": "", "log": "", "proof_digest": "", "reused_from": "", "crashed": ""}
    return {"role": role, "executor": executor, "status": "not-run", **empty}


def item_properties(item: AgentItem) -> list[tuple[str, object]]:
    values = _defaults(item)
    values.update(dict(item.properties()))
    return [(key, values[key]) for key in KEYS if key in values]


def _merged(existing: list[tuple[str, object]], ours: list[tuple[str, object]]) -> list[tuple[str, object]]:
    names = {name for name, _ in ours}
    return [(name, value) for name, value in existing if name not in names] + ours


def attach(item: AgentItem, report: pytest.TestReport) -> None:
    """Put the item's current properties on the item and on ``report`` (replacing older values)."""
    ours = item_properties(item)
    item.user_properties[:] = _merged(item.user_properties, ours)
    report.user_properties[:] = _merged(list(report.user_properties), ours)

"""The items a wave file yields in an agent-less mode (``WaveFile.collect`` delegates here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_wave.modes import DRY_RUN, GATE

if TYPE_CHECKING:
    from pytest_wave.items import WaveFile


def mode_items(wave_file: WaveFile, mode: str) -> Iterator[pytest.Item]:
    if mode == GATE:
        from pytest_wave.modes.gate import GateAgentItem, GateEvidenceItem

        yield GateEvidenceItem.from_parent(wave_file, name="evidence")
        agent_cls: type[pytest.Item] = GateAgentItem
    elif mode == DRY_RUN:
        from pytest_wave.modes.dry_run import DryPlanItem, DryRunItem

        yield DryPlanItem.from_parent(wave_file, name="plan")
        agent_cls = DryRunItem
    else:
        return
    ctx = wave_file._load().ctx
    if ctx is None:
        return  # the first item fails with the reason
    for agent in [*ctx.implementation_agents(), *ctx.closure_agents()]:
        yield wave_file._agent_item(agent_cls, ctx, agent)  # type: ignore[arg-type]

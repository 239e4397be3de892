"""Session modes that start no agent: ``--wave-gate``, ``--wave-dry-run`` and ``--wave-replay``.

Each turns the session into plain pass/fail items (pytest-mypy style) and forces xdist off, the way
xdist itself does for ``--pdb``: nothing here is worth a worker process.
"""

from __future__ import annotations

import pytest

GATE = "gate"
DRY_RUN = "dry-run"
REPLAY = "replay"


def agentless_mode(config: pytest.Config) -> str | None:
    """The mode the command line asks for (None: a normal wave run), or a usage error for two at once."""
    chosen = [
        flag
        for flag, on in (
            ("--wave-gate", config.getoption("wave_gate", False)),
            ("--wave-dry-run", config.getoption("wave_dry_run", False)),
            ("--wave-replay", bool(config.getoption("wave_replay", None))),
            ("--wave-lint", config.getoption("wave_lint", False)),
        )
        if on
    ]
    if len(chosen) > 1:
        raise pytest.UsageError(f"{' and '.join(chosen)} cannot be combined: pass one of them")
    modes = {"--wave-gate": GATE, "--wave-dry-run": DRY_RUN, "--wave-replay": REPLAY}
    return modes.get(chosen[0]) if chosen else None

"""The ``wave`` command an agent runs is this pytest-wave's, whatever else PATH holds.

A machine that also has the Node.js tool installed (``npm i -g @chllming/wave-orchestration``) has two
``wave`` commands, and which one an agent's ``wave coord post`` reaches would depend on PATH order.
Each agent process therefore gets ``<state dir>/bin`` first on its PATH, holding one file: a ``wave``
script that runs ``python -m pytest_wave.cli`` with the interpreter running the orchestrator. Only
``wave`` is shadowed; ``python``, ``pytest`` and the rest resolve as the user's PATH says.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from pytest_wave.engine.files import write_text_atomic

SHIM_DIR = "bin"


def shim_text() -> str:
    python = shlex.quote(sys.executable)
    return f'#!/bin/sh\n# pytest-wave: the wave command of this run\nexec {python} -m pytest_wave.cli "$@"\n'


def ensure_shim(state_dir: Path) -> Path:
    """``<state_dir>/bin`` with an up-to-date ``wave`` script in it (written only when it differs)."""
    folder = state_dir / SHIM_DIR
    script = folder / "wave"
    text = shim_text()
    try:
        current = script.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != text:
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(script, text)
    if not os.access(script, os.X_OK):
        script.chmod(0o755)
    return folder


def with_shim(env: dict[str, str], state_dir: Path) -> dict[str, str]:
    """``env`` with ``<state_dir>/bin`` first on PATH (once)."""
    folder = str(ensure_shim(state_dir))
    parts = [part for part in env.get("PATH", "").split(os.pathsep) if part and part != folder]
    return {**env, "PATH": os.pathsep.join([folder, *parts])}

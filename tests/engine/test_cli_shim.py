"""An agent's `wave` is this pytest-wave's even when another `wave` (the Node.js tool's) is first on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pytest_wave import __version__
from pytest_wave.engine.cli_shim import ensure_shim, shim_text, with_shim


def _fake_node_wave(tmp_path: Path) -> Path:
    folder = tmp_path / "node-bin"
    folder.mkdir()
    script = folder / "wave"
    script.write_text("#!/bin/sh\necho 'the Node.js tool'\n")
    script.chmod(0o755)
    return folder


def test_the_shim_wins_over_another_wave_on_path(tmp_path: Path) -> None:
    other = _fake_node_wave(tmp_path)
    env = {**os.environ, "PATH": os.pathsep.join([str(other), os.environ.get("PATH", "")])}
    assert subprocess.run(["wave"], env=env, capture_output=True, text=True).stdout.strip() == "the Node.js tool"
    shimmed = with_shim(env, tmp_path / "state")
    assert shimmed["PATH"].split(os.pathsep)[:2] == [str(tmp_path / "state" / "bin"), str(other)]
    out = subprocess.run(["wave", "--version"], env=shimmed, capture_output=True, text=True, check=True).stdout
    assert __version__ in out
    # Only `wave` is shadowed: the folder holds nothing else.
    assert [p.name for p in (tmp_path / "state" / "bin").iterdir()] == ["wave"]


def test_the_shim_is_added_once_and_rewritten_only_when_it_differs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = with_shim(with_shim({"PATH": "/usr/bin"}, state), state)
    assert env["PATH"] == os.pathsep.join([str(state / "bin"), "/usr/bin"])
    script = state / "bin" / "wave"
    assert script.read_text() == shim_text() and os.access(script, os.X_OK)
    before = script.stat().st_mtime_ns
    ensure_shim(state)
    assert script.stat().st_mtime_ns == before
    script.write_text("#!/bin/sh\necho stale\n")  # another interpreter's run left its own
    ensure_shim(state)
    assert script.read_text() == shim_text()

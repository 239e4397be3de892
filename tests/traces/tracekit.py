"""Helpers of the trace, replay, gate and dry-run tests: small local-executor waves and recorded runs.

Repositories live in a sub-folder (``repo/``) of the test's directory and pytest runs from the parent
folder, so pytester's own stdout/stderr files never land inside the repository (closure's ownership
check would rightly call them unowned changes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

# The end-to-end kit's repository and wave builders, reused as they are.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2ekit import LEAKY_ENV, PROJECT_ROLE_PROMPTS, PYPROJECT, STATE, assert_no_traceback, output
from e2ekit import wave_text as e2e_wave_text

__all__ = ["LEAKY_ENV", "STATE", "assert_no_traceback", "output"]

WAVE = "repo/waves/wave-1.md"
BUNDLE = f"repo/{STATE.as_posix()}/traces/wave-1/attempt-1"


def wave_text(validation: dict[int, list[str]] | None = None) -> str:
    """Wave 1: implementation agents A1 and A2 (A1 with validation commands), then A8, A9, A0."""
    validation = validation if validation is not None else {1: ["test -s out/a1/part.py"]}
    return e2e_wave_text(1, agents=2, validation=validation)


def make_repo(root: Path, text: str | None = None) -> Path:
    (root / "docs" / "agents").mkdir(parents=True)
    for prompt in PROJECT_ROLE_PROMPTS.glob("wave-*-role.md"):
        shutil.copy(prompt, root / "docs" / "agents" / prompt.name)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "waves").mkdir()
    (root / "waves" / "wave-1.md").write_text(textwrap.dedent(text or wave_text()))
    return root


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in LEAKY_ENV}


def record_run(parent: Path, *args: str, text: str | None = None) -> Path:
    """A repository under ``parent/repo`` whose wave 1 has been run once (``pytest waves/wave-1.md``)."""
    repo = make_repo(parent / "repo", text)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", *args],
        cwd=repo,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def copy_recorded(recorded: Path, pytester: pytest.Pytester) -> Path:
    """A private copy of a recorded repository at ``pytester.path / "repo"`` (state and traces included)."""
    target = pytester.path / "repo"
    shutil.copytree(recorded, target, symlinks=True)
    return target


def assert_no_workers(result: pytest.RunResult) -> None:
    text = output(result)
    assert "bringing up nodes" not in text and "created: " not in text, text


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def rehash(bundle: Path, rel: str) -> None:
    """Make the manifest agree with an edited file (what a careful forger would do)."""
    from pytest_wave.traces.bundle import sha256_file

    manifest_path = bundle / "run-metadata.json"
    manifest = load_json(manifest_path)
    for entry in manifest["files"]:
        if entry["path"] == rel:
            entry["sha256"] = sha256_file(bundle / rel)
            entry["size"] = (bundle / rel).stat().st_size
    manifest_path.write_text(json.dumps(manifest, indent=2))

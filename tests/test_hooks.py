"""The hooks pytest-wave publishes: executors, agent and wave observers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = '''
import json, sys
from pathlib import Path
import pytest
from pytest_wave.executors.local import LocalExecutor

SEEN = Path(__file__).parent.parent / "seen.jsonl"  # outside the repo: not a change in the wave's tree


class RenamedLocal(LocalExecutor):
    """A plugin runtime: the local program under another name."""
    id = "codex"


@pytest.hookimpl
def pytest_wave_executor_for(executor_id):
    return RenamedLocal() if executor_id == "codex" else None


@pytest.hookimpl
def pytest_wave_agent_finished(result):
    with SEEN.open("a") as f:
        f.write(json.dumps({"hook": "agent", "id": result.agent_id, "executor": result.executor_id}) + "\\n")


@pytest.hookimpl
def pytest_wave_closed(outcome):
    with SEEN.open("a") as f:
        f.write(json.dumps({"hook": "closed", "closed": outcome.closed}) + "\\n")
'''


def test_plugin_executor_and_observers(pytester: pytest.Pytester) -> None:
    repo = pytester.path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(ROOT / "docs" / "agents", repo / "docs" / "agents")
    (repo / "waves").mkdir()
    wave = (ROOT / "waves" / "wave-1.md").read_text()
    # A1 asks for codex; the conftest plugin answers the executor hook for it.
    head, _, rest = wave.partition("## Agent A1: Hello module")
    rest = rest.replace("- id: local", "- id: codex", 1)
    (repo / "waves" / "wave-1.md").write_text(head + "## Agent A1: Hello module" + rest)
    (repo / "conftest.py").write_text(CONFTEST)
    result = pytester.runpytest_subprocess("repo/waves/wave-1.md", "-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret == 0, result.stdout.str()
    seen = (pytester.path / "seen.jsonl").read_text().splitlines()
    assert '{"hook": "agent", "id": "A1", "executor": "codex"}' in seen
    assert seen[-1] == '{"hook": "closed", "closed": true}'
    assert sum('"hook": "agent"' in line for line in seen) == 4

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

PROJECT_ROLE_PROMPTS = Path(__file__).resolve().parents[2] / "docs" / "agents"
STATE = Path(".tmp") / "main-wave-launcher"
WAVE = "repo/waves/wave-1.md"
BUNDLE = f"repo/{STATE.as_posix()}/traces/wave-1/attempt-1"

# Variables that would change what an inner pytest run does, were they set around the outer one.
LEAKY_ENV = (
    "WAVE_LOCAL_FAULTS",
    "WAVE_REPO_ROOT",
    "WAVE_LANE",
    "WAVE_STATE_DIR",
    "WAVE_BUDGET_TOKENS",
    "WAVE_BUDGET_USD",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_XDIST_AUTO_NUM_WORKERS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)

PYPROJECT = """\
[tool.wave]
projectName = "traces"
sharedPlanDocs = ["out/STATUS.md"]

[tool.wave.validation]
requiredPromptReferences = []
requireComponentPromotionsFromWave = 100
requireAgentComponentsFromWave = 100

[tool.wave.executors]
default = "local"
"""


def _impl(index: int, validation: list[str]) -> str:
    checks = "".join(f"- `{command}`\n" for command in validation)
    block = f"\nValidation:\n{checks}" if checks else ""
    return f"""\
## Agent A{index}: Part {index}

### Executor

- id: local

### Deliverables

- out/a{index}/part.py

### Exit contract

- completion: contract
- durability: none
- proof: unit
- doc-impact: owned

### Prompt

```text
Write part {index}.

File ownership (only touch these paths):
- out/a{index}/
{block}```
"""


CLOSURE = """\
## Agent A8: Integration steward

### Role prompts

- docs/agents/wave-integration-role.md

### Executor

- id: local

### Deliverables

- out/integration.md

### Prompt

```text
Reconcile what the implementation agents landed.

File ownership (only touch these paths):
- out/integration.md
```

## Agent A9: Documentation steward

### Role prompts

- docs/agents/wave-documentation-role.md

### Executor

- id: local

### Deliverables

- out/STATUS.md

### Prompt

```text
Record what the wave landed.

File ownership (only touch these paths):
- out/STATUS.md
```

## Agent A0: Evaluator

### Role prompts

- docs/agents/wave-evaluator-role.md

### Executor

- id: local

### Deliverables

- out/reviews/wave-1-evaluator.md

### Prompt

```text
Gate the wave.

File ownership (only touch these paths):
- out/reviews/wave-1-evaluator.md
```
"""


def wave_text(validation: dict[int, list[str]] | None = None) -> str:
    """Wave 1: implementation agents A1 and A2 (A1 with validation commands), then A8, A9, A0."""
    validation = validation if validation is not None else {1: ["test -s out/a1/part.py"]}
    parts = ["# Wave 1 - Traces\n\n**Commit message**: `Traces wave 1`\n"]
    parts += [_impl(index, validation.get(index, [])) for index in (1, 2)]
    parts.append(CLOSURE)
    return "\n".join(parts)


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


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def assert_no_traceback(result: pytest.RunResult) -> None:
    text = output(result)
    assert "Traceback" not in text, text
    assert "INTERNALERROR" not in text, text


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

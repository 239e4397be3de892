"""Helpers of the end-to-end tests: real ``pytest <wave>`` runs in a subprocess.

Every test builds a repository under ``pytester.path / "repo"`` and runs pytest with that repository
as the working directory, the way a user would. The repository is a subdirectory on purpose:
``pytester`` writes its ``stdout``/``stderr`` capture files into ``pytester.path``, and closure's
ownership check would (rightly) report them as unowned changes if they were inside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "conformance"
ANCHOR = DATA / "anchor-repo-0.5.4"
CONFORMANCE_WAVES = DATA / "waves"
PROJECT_ROLE_PROMPTS = Path(__file__).resolve().parents[2] / "docs" / "agents"
STATE = Path(".tmp") / "main-wave-launcher"

# Variables that would change what the inner pytest run does, were they set around the outer one.
LEAKY_ENV = (
    "WAVE_LOCAL_FAULTS",
    "WAVE_REPO_ROOT",
    "WAVE_LANE",
    "WAVE_STATE_DIR",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_XDIST_AUTO_NUM_WORKERS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)


# --------------------------------------------------------------------------- repositories


def copy_anchor(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str = "repo") -> Path:
    """A fresh copy of the 0.5.4 anchor fixture (without any state a careless run left in it); cwd = it."""
    root = pytester.path / name
    shutil.copytree(ANCHOR, root, ignore=shutil.ignore_patterns(".tmp"))
    monkeypatch.chdir(root)
    return root


PYPROJECT = """\
[tool.wave]
projectName = "e2e"
sharedPlanDocs = ["out/STATUS.md"]

[tool.wave.validation]
requiredPromptReferences = []
requireComponentPromotionsFromWave = 100
requireAgentComponentsFromWave = 100

[tool.wave.executors]
default = "local"
"""


def impl_agent(index: int, *, validation: Iterable[str] = (), executor: str = "local") -> str:
    commands = "".join(f"- `{command}`\n" for command in validation)
    checks = f"\nValidation:\n{commands}" if commands else ""
    return f"""\
## Agent A{index}: Part {index}

### Executor

- id: {executor}

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
{checks}```
"""


def closure_agents(number: int, *, integration_prompt: str = "docs/agents/wave-integration-role.md") -> str:
    return f"""\
## Agent A8: Integration steward

### Role prompts

- {integration_prompt}

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

- out/reviews/wave-{number}-evaluator.md

### Prompt

```text
Gate the wave.

File ownership (only touch these paths):
- out/reviews/wave-{number}-evaluator.md
```
"""


def impl_ids(count: int) -> list[int]:
    """Numbers of ``count`` implementation agents: A1, A2, ... skipping the closure ids A8 and A9."""
    return [i for i in range(1, count + 3) if i not in (8, 9)][:count]


def wave_text(
    number: int = 1,
    agents: int = 1,
    *,
    validation: dict[int, list[str]] | None = None,
    executor: str = "local",
    integration_prompt: str = "docs/agents/wave-integration-role.md",
) -> str:
    validation = validation or {}
    parts = [f"# Wave {number} - End-to-end\n\n**Commit message**: `E2E wave {number}`\n"]
    parts += [impl_agent(i, validation=validation.get(i, ()), executor=executor) for i in impl_ids(agents)]
    parts.append(closure_agents(number, integration_prompt=integration_prompt))
    return "\n".join(parts)


def write_repo(root: Path, waves: dict[int, str]) -> Path:
    """A minimal ``[tool.wave]`` repository at ``root``: role prompts, and ``waves/wave-<n>.md`` per entry."""
    (root / "docs" / "agents").mkdir(parents=True)
    for prompt in PROJECT_ROLE_PROMPTS.glob("wave-*-role.md"):
        shutil.copy(prompt, root / "docs" / "agents" / prompt.name)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "waves").mkdir()
    for number, text in waves.items():
        (root / "waves" / f"wave-{number}.md").write_text(textwrap.dedent(text))
    return root


def make_repo(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, waves: dict[int, str], name: str = "repo"
) -> Path:
    """:func:`write_repo` under the pytester folder, as the current directory."""
    root = write_repo(pytester.path / name, waves)
    monkeypatch.chdir(root)
    return root


def fault_env(faults: str = "") -> dict[str, str]:
    """This environment with ``WAVE_LOCAL_FAULTS`` set to ``faults`` (none when empty)."""
    env = dict(os.environ)
    env.pop("WAVE_LOCAL_FAULTS", None)
    if faults:
        env["WAVE_LOCAL_FAULTS"] = faults
    return env


# --------------------------------------------------------------------------- runs and state


def run_wave(pytester: pytest.Pytester, *args: str, timeout: float = 120) -> pytest.RunResult:
    """``python -m pytest <args>`` in the current directory (the repository)."""
    return pytester.runpytest_subprocess(*args, timeout=timeout)


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def assert_no_traceback(result: pytest.RunResult) -> None:
    text = output(result)
    assert "Traceback" not in text, text
    assert "INTERNALERROR" not in text, text


@dataclass
class WaveState:
    root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE

    def outcomes(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.state_dir.glob("results/wave-*/*/wave.json"))]

    def outcome(self) -> dict[str, Any]:
        found = self.outcomes()
        assert len(found) == 1, f"expected one wave.json, found {len(found)}"
        return found[0]

    def results(self, attempt: int = 1) -> dict[str, dict[str, Any]]:
        files = self.state_dir.glob(f"results/wave-*/*/attempt-{attempt}/*.json")
        return {p.stem: json.loads(p.read_text()) for p in files}

    def logs(self) -> list[Path]:
        return sorted(self.state_dir.glob("**/*.log")) if self.state_dir.is_dir() else []

    def run_state(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "run-state.json").read_text())


def processes_mentioning(text: str) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line contains ``text``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(text in part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie nobody reaped yet counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True

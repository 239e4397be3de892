"""Helpers of the real-CLI tests: an isolated HOME wired to our loopback model, and real wave runs.

Everything a CLI reads lives under the test's temporary HOME: ``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``
(with a ``config.toml`` that defines the mock provider) and ``XDG_CONFIG_HOME/opencode/opencode.json``
(the same for opencode). Real credentials and base URLs of the outer environment are dropped, so a
test can never reach (or bill) a real provider.

Each CLI's own retry loop is turned off (``CLAUDE_CODE_MAX_RETRIES=0``, codex provider
``request_max_retries = 0`` / ``stream_max_retries = 0``): fault tests must exercise *our* backoff and
fallback, and a CLI retrying 529 for three minutes would only make them slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.mockmodel import MockModelServer

# The versions these tests were written and run against (installed by .ci/run).
PINNED = {"claude": "2.1.197", "codex": "0.169.0", "opencode": "1.18.33"}
NPM_PACKAGES = {
    "claude": "@anthropic-ai/claude-code",
    "codex": "@openai/codex",
    "opencode": "opencode-ai",
}
PROJECT = Path(__file__).resolve().parents[2]
STATE = Path(".tmp") / "main-wave-launcher"
MOCK_KEY = "sk-ant-mock-key"  # >= 8 characters: the redactor must hide it in every log
# Prefixes of variables that would point a CLI (or the inner pytest) somewhere else.
DROPPED_PREFIXES = ("ANTHROPIC_", "OPENAI_", "CODEX_", "OPENCODE_", "CLAUDE_", "WAVE_", "PYTEST_", "XDG_")


def require_clis() -> dict[str, str]:
    """``name -> version`` of the three CLIs; fails (never skips) naming each one that is missing."""
    missing = [name for name in PINNED if shutil.which(name) is None]
    if missing:
        hints = " ".join(f"{NPM_PACKAGES[n]}@{PINNED[n]}" for n in missing)
        pytest.fail(f"real CLI not installed: {', '.join(missing)} (fix: npm install -g {hints})", pytrace=False)
    versions: dict[str, str] = {}
    for name in PINNED:
        out = subprocess.run([name, "--version"], capture_output=True, text=True, timeout=60)
        versions[name] = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"
    return versions


def isolated_env(home: Path, server: MockModelServer, **extra: str) -> dict[str, str]:
    """The environment of a wave run whose CLIs talk only to ``server``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    codex_home = home / ".codex"
    opencode_dir = home / ".config" / "opencode"
    codex_home.mkdir(parents=True, exist_ok=True)
    opencode_dir.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        textwrap.dedent(
            f"""\
            model_provider = "mock"

            [model_providers.mock]
            name = "pytest-wave mock model"
            base_url = "{server.url_v1}"
            env_key = "MOCK_MODEL_KEY"
            wire_api = "responses"
            request_max_retries = 0
            stream_max_retries = 0
            """
        )
    )
    (opencode_dir / "opencode.json").write_text(
        json.dumps(
            {
                "$schema": "https://opencode.ai/config.json",
                "provider": {
                    "mock": {
                        "npm": "@ai-sdk/openai-compatible",
                        "name": "pytest-wave mock model",
                        "options": {"baseURL": server.url_v1, "apiKey": "mock-model-key"},
                        "models": {"mock-model": {"name": "Mock", "tool_call": True}},
                    }
                },
                "model": "mock/mock-model",
            },
            indent=2,
        )
    )
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
        # claude: our server, a placeholder key, its state inside HOME, no side traffic, no own retries.
        ANTHROPIC_BASE_URL=server.url,
        ANTHROPIC_API_KEY=MOCK_KEY,
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CLAUDE_CODE_MAX_RETRIES="0",
        # codex: the provider in CODEX_HOME/config.toml reads its key from MOCK_MODEL_KEY.
        CODEX_HOME=str(codex_home),
        MOCK_MODEL_KEY="mock-model-key",
        # opencode: provider in the global config; no model catalogue download.
        OPENCODE_DISABLE_MODELS_FETCH="1",
        # pytest-wave: tiny backoff so fault tests take seconds, not minutes.
        WAVE_RATE_LIMIT_RETRIES="2",
        WAVE_RATE_LIMIT_BASE_DELAY="0.05",
        WAVE_RATE_LIMIT_MAX_DELAY="0.2",
    )
    env.update(extra)
    return env


# --------------------------------------------------------------------------- the test repository

CONFIG = {
    "projectName": "realcli",
    "sharedPlanDocs": ["out/STATUS.md"],
    "validation": {
        "requiredPromptReferences": [],
        "requireComponentPromotionsFromWave": 100,
        "requireAgentComponentsFromWave": 100,
    },
    "executors": {"default": "codex", "codex": {"sandbox": "workspace-write"}},
}


def impl_agent(agent_id: str, executor_lines: str, *, title: str) -> str:
    low = agent_id.lower()
    return f"""\
## Agent {agent_id}: {title}

### Executor

{executor_lines}

### Deliverables

- out/{low}/part.md

### Exit contract

- completion: contract
- durability: none
- proof: unit
- doc-impact: owned

### Prompt

```text
Write out/{low}/part.md.

File ownership (only touch these paths):
- out/{low}/
```
"""


CLOSURE = """\
## Agent A8: Integration steward

### Role prompts

- docs/agents/wave-integration-role.md

### Executor

- id: claude
- claude.output_format: stream-json
- claude.settings_json: {"permissions":{"allow":["Read"]}}
- claude.hooks_json: {"Stop":[{"command":"mkdir -p .tmp/hooks && touch .tmp/hooks/a8-stop"}]}

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

- id: opencode
- opencode.format: json
- opencode.instructions: Keep shared plan docs concise and factual.

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

- id: claude

### Deliverables

- out/reviews/wave-1-evaluator.md

### Prompt

```text
Gate the wave.

File ownership (only touch these paths):
- out/reviews/wave-1-evaluator.md
```
"""

MIXED_WAVE = (
    "# Wave 1 - Real CLIs\n\n**Commit message**: `Real CLI wave`\n\n"
    + impl_agent("A1", "- id: codex\n- codex.json: true\n- fallbacks: claude, opencode", title="Codex part")
    + "\n"
    + impl_agent("A2", "- id: opencode\n- fallbacks: claude", title="OpenCode part")
    + "\n"
    + CLOSURE
)


def make_repo(root: Path, wave_text: str = MIXED_WAVE) -> Path:
    (root / "docs" / "agents").mkdir(parents=True)
    for prompt in (PROJECT / "docs" / "agents").glob("wave-*-role.md"):
        shutil.copy(prompt, root / "docs" / "agents" / prompt.name)
    (root / "wave.config.json").write_text(json.dumps(CONFIG, indent=2))
    (root / "waves").mkdir()
    (root / "waves" / "wave-1.md").write_text(wave_text)
    return root


# --------------------------------------------------------------------------- runs


@dataclass
class WaveRunResult:
    root: Path
    returncode: int
    output: str
    wall: float

    @property
    def state_dir(self) -> Path:
        return self.root / STATE

    def outcome(self) -> dict[str, Any]:
        found = sorted(self.state_dir.glob("results/wave-*/*/wave.json"))
        assert len(found) == 1, f"expected one wave.json, found {len(found)}\n{self.output[-4000:]}"
        data: dict[str, Any] = json.loads(found[0].read_text())
        return data

    def attempt_logs(self) -> list[Path]:
        return sorted(self.state_dir.glob("results/wave-*/*/attempt-*/*.log"))


def run_wave(root: Path, env: dict[str, str], *args: str, timeout: float = 420) -> WaveRunResult:
    """``python -m pytest waves/wave-1.md <args>`` in ``root``, output kept outside the repository."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", "-rA", *args],
        cwd=root,
        env={**env, "PWD": str(root)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return WaveRunResult(root, proc.returncode, proc.stdout + "\n" + proc.stderr, time.monotonic() - started)

"""Helpers for the lint tests: a writable copy of the anchor's starter repository and wave 0 editing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wave.config import clear_config_cache
from pytest_wave.lint import clear_lint_caches, lint_wave, validate_wave
from pytest_wave.model.findings import Finding
from pytest_wave.model.wave import Wave
from pytest_wave.parse.wave import parse_wave_text

ANCHOR = Path(__file__).resolve().parents[1] / "data" / "conformance" / "anchor-repo-0.5.4"
WAVES_DIR = "docs/plans/waves"


@dataclass
class Repo:
    root: Path

    @property
    def wave0(self) -> str:
        return (ANCHOR / WAVES_DIR / "wave-0.md").read_text(encoding="utf-8")

    def path(self, name: str = "wave-0.md") -> str:
        return f"{WAVES_DIR}/{name}"

    def write(self, text: str, name: str = "wave-0.md") -> Path:
        target = self.root / WAVES_DIR / name
        target.write_text(text, encoding="utf-8")
        return target

    def parse(self, text: str | None = None, name: str = "wave-0.md") -> Wave:
        return parse_wave_text(self.wave0 if text is None else text, path=self.path(name), file_name=name)

    def validate(self, text: str | None = None, name: str = "wave-0.md") -> list[Finding]:
        return validate_wave(self.parse(text, name), self.root)

    def lint(self, text: str | None = None, name: str = "wave-0.md", **kwargs: Any) -> list[Finding]:
        return lint_wave(self.parse(text, name), self.root, **kwargs)

    def config(self, **validation: Any) -> None:
        """Update ``validation`` keys (and ``lanes.main.runtimePolicy`` via ``runtime_policy=``)."""
        path = self.root / "wave.config.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        policy = validation.pop("runtime_policy", None)
        if policy is not None:
            data["lanes"]["main"]["runtimePolicy"].update(policy)
        data["validation"].update(validation)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        fresh()

    def edit_json(self, rel: str, change: Any) -> None:
        path = self.root / rel
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        fresh()


def fresh() -> None:
    clear_config_cache()
    clear_lint_caches()


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def only(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def line_of(text: str, needle: str, start: str | None = None) -> int:
    """1-based line of the first line containing ``needle`` (after the first line containing ``start``)."""
    lines = text.splitlines()
    begin = 0
    if start is not None:
        begin = next(i for i, line in enumerate(lines) if start in line)
    return next(i for i, line in enumerate(lines) if i >= begin and needle in line) + 1


def agent_block(text: str, agent_id: str) -> str:
    """The markdown of one ``## Agent`` section of ``text``."""
    start = text.index(f"## Agent {agent_id}:")
    end = text.find("\n## Agent ", start + 1)
    return text[start:] if end < 0 else text[start : end + 1]


def replace_in_agent(text: str, agent_id: str, old: str, new: str) -> str:
    block = agent_block(text, agent_id)
    assert old in block, f"{old!r} not in agent {agent_id}"
    return text.replace(block, block.replace(old, new, 1))

"""Role prompt files: their ``## Standing prompt`` block, and an agent's resolved prompt.

A role prompt file (``docs/agents/wave-evaluator-role.md``) holds a ``## Standing prompt`` heading;
the first fenced block after it is the standing prompt. An agent's *resolved* prompt is its role
prompts' standing blocks in order, then its local ``### Prompt``, empty parts dropped, joined by a
blank line (the Node.js tool's ``composeResolvedPrompt``). Validation and launches both use it.

Role prompt files are read once per (path, mtime, size): validating hundreds of waves that import
the same three role prompts reads each file once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_wave.errors import WaveError
from pytest_wave.model.wave import Agent

RolePromptStatus = Literal["ok", "missing", "no-standing-section", "no-fence"]

_STANDING = re.compile(r"^#{2,6}[ \t]+Standing prompt[ \t]*\r?\n(?:[ \t]*\r?\n)*", re.MULTILINE)
_FENCE = re.compile(r"```(?:[a-zA-Z0-9_-]+)?\r?\n([\s\S]*?)\r?\n```")


@dataclass(frozen=True)
class RolePrompt:
    """One role prompt file as far as it could be read."""

    path: str
    """Repo-relative, as the wave names it."""
    status: RolePromptStatus
    standing: str = ""
    """The standing prompt (trimmed) when ``status == "ok"``."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_Signature = tuple[int, int]
_cache: dict[str, tuple[_Signature, str, RolePrompt]] = {}
_joined: dict[tuple[str, str], str] = {}
_CACHE_LIMIT = 256


def clear_role_prompt_cache() -> None:
    _cache.clear()
    _joined.clear()


def load_role_prompt(repo_root: str | Path, rel_path: str) -> RolePrompt:
    """Read ``rel_path`` under ``repo_root`` and extract its standing prompt (cached by mtime and size)."""
    root = repo_root if isinstance(repo_root, str) else os.fspath(repo_root)
    full = _joined.get((root, rel_path))
    if full is None:
        full = _joined[(root, rel_path)] = os.path.join(root, rel_path)
    try:
        st = os.stat(full)
    except OSError:
        _cache.pop(full, None)
        return RolePrompt(rel_path, "missing")
    signature = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(full)
    if hit is not None and hit[0] == signature and hit[1] == rel_path:
        return hit[2]
    try:
        with open(full, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return RolePrompt(rel_path, "missing")
    result = parse_role_prompt(text, rel_path)
    if len(_cache) >= _CACHE_LIMIT and full not in _cache:
        _cache.pop(next(iter(_cache)))
        _joined.clear()
    _cache[full] = (signature, rel_path, result)
    return result


def parse_role_prompt(text: str, rel_path: str) -> RolePrompt:
    heading = _STANDING.search(text)
    if heading is None:
        return RolePrompt(rel_path, "no-standing-section")
    fence = _FENCE.search(text, heading.end())
    if fence is None:
        return RolePrompt(rel_path, "no-fence")
    return RolePrompt(rel_path, "ok", fence.group(1).strip())


def compose_prompt(standing: list[str], local: str) -> str:
    """Standing prompts then the local prompt, empty ones dropped, joined with a blank line."""
    return "\n\n".join(part for part in (*standing, local) if part)


def resolve_prompt(agent: Agent, repo_root: str | Path) -> tuple[str, list[RolePrompt]]:
    """The agent's resolved prompt and every role prompt it read (failed ones contribute nothing)."""
    prompts = [load_role_prompt(repo_root, entry.path) for entry in agent.role_prompts]
    return compose_prompt([p.standing for p in prompts if p.ok], agent.prompt), prompts


_PROBLEMS = {
    "missing": ("role prompt {path} does not exist", "create it or fix the path under ### Role prompts"),
    "no-standing-section": ('role prompt {path} has no "## Standing prompt" section', "add the heading"),
    "no-fence": ("role prompt {path} has no fenced block after '## Standing prompt'", "fence the prompt"),
}


def resolved_prompt(agent: Agent, repo_root: str | Path) -> str:
    """The resolved prompt, or :class:`WaveError` naming the first role prompt that did not read."""
    prompt, prompts = resolve_prompt(agent, repo_root)
    for role_prompt in prompts:
        if not role_prompt.ok:
            message, fix = _PROBLEMS[role_prompt.status]
            raise WaveError(message.format(path=role_prompt.path), path=role_prompt.path, fix=fix)
    return prompt

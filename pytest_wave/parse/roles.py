"""Role prompt files (``docs/agents/*.md``): their ``## Standing prompt`` block, read once per change.

An agent's *resolved* prompt is the standing prompts of the role files it imports, then its own
prompt, joined by blank lines; validation and launches both use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pytest_wave.errors import WaveError
from pytest_wave.model.wave import Agent

_STANDING = re.compile(r"^##\s+Standing prompt\s*$", re.MULTILINE)
_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)\n\1[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class RolePrompt:
    path: str
    text: str


_cache: dict[Path, tuple[int, int, RolePrompt | WaveError]] = {}


def read_role_prompt(repo_root: Path, rel_path: str) -> RolePrompt:
    """The standing prompt of one role file; raises :class:`WaveError` naming the file and the fix."""
    path = repo_root / rel_path
    try:
        stat = path.stat()
    except OSError:
        raise WaveError(
            f"role prompt {rel_path} does not exist", path=rel_path, fix="create it or fix the path"
        ) from None
    cached = _cache.get(path)
    if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
        result = cached[2]
    else:
        result = _parse(path, rel_path)
        _cache[path] = (stat.st_mtime_ns, stat.st_size, result)
    if isinstance(result, WaveError):
        raise result
    return result


def _parse(path: Path, rel_path: str) -> RolePrompt | WaveError:
    text = path.read_text(encoding="utf-8", errors="replace")
    heading = _STANDING.search(text)
    if not heading:
        return WaveError(
            'missing "## Standing prompt" section',
            path=rel_path,
            fix="add '## Standing prompt' followed by a fenced block",
        )
    fence = _FENCE.search(text, heading.end())
    if not fence:
        line = text.count("\n", 0, heading.start()) + 1
        return WaveError(
            "no fenced block after '## Standing prompt'",
            path=rel_path,
            line=line,
            fix="put the standing prompt in a ```text fenced block",
        )
    return RolePrompt(rel_path, fence.group(2).strip())


def resolved_prompt(agent: Agent, repo_root: Path) -> str:
    """Standing prompts of the imported roles, then the agent's own prompt (empty parts dropped)."""
    parts = [read_role_prompt(repo_root, entry.path).text for entry in agent.role_prompts]
    parts.append(agent.prompt)
    return "\n\n".join(part for part in parts if part)

"""Claude Code (``claude -p``), as measured with claude 2.1.197.

Launch: ``claude -p --no-session-persistence --output-format F [--verbose] [--model M] ...
--settings <overlay>/claude-settings.json --append-system-prompt-file <overlay>/claude-system-prompt.txt
[--mcp-config P...] [--allowedTools T...] [--disallowedTools T...]`` with the task prompt on stdin.

Why it looks like this (``spec/executors.md``, "Real agent CLIs", findings 4, 5 and 8):

* The prompt goes on stdin, not as the last argument: the variadic flags (``--allowedTools``,
  ``--mcp-config``) swallow a trailing positional prompt.
* Permission posture: ``-p`` never prompts (a denied tool comes back to the model as an error), so
  the only question is what is granted. Default ``--permission-mode acceptEdits``: file edits in the
  working tree are allowed, other tools only as the wave grants them (``allowed_tools``, settings).
  ``bypassPermissions`` is used only when the wave asks for it, and is refused up front as root
  unless ``IS_SANDBOX=1`` (claude would refuse it anyway, with a less useful message).
* Settings are always written to one overlay file: the ``settings`` file, ``settings_json``,
  ``hooks_json`` and ``allowed_http_hook_urls`` deep-merged. Hooks written in the Node.js tool's
  flat shape (``{"Stop": [{"command": "..."}]}``) are rewritten into the matcher/hooks shape Claude
  reads (``{"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "..."}]}]}``); the flat
  shape is silently ignored by Claude.
* ``--output-format stream-json`` requires ``--verbose`` in ``-p`` mode.
* Resolved skill bundles are appended to the system prompt file (they are in the task prompt too).
  No ``--add-dir`` for them: it would also let the agent edit the bundles, and their text is all there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_wave.engine.markers import scan_log
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import LaunchRequest, LaunchSpec
from pytest_wave.executors.common import (
    deep_merge,
    dumps,
    harness_text,
    read_json_object,
    repo_path,
    runtime_settings,
    skills_of,
    turn_limit,
)
from pytest_wave.executors.usage import claude_usage, read_log
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.markers import MarkerScan
from pytest_wave.model.result import Usage

SETTINGS_FILE = "claude-settings.json"
SYSTEM_PROMPT_FILE = "claude-system-prompt.txt"
DEFAULT_PERMISSION_MODE = "acceptEdits"
BYPASS_MODES = frozenset({"bypassPermissions"})
# An unattended agent must not replace its own binary halfway through a wave.
ENV = {"DISABLE_AUTOUPDATER": "1"}


def normalize_hooks(hooks: dict[str, Any]) -> dict[str, Any]:
    """Hooks in the shape Claude reads: ``{event: [{"matcher": m, "hooks": [{"type": ..., ...}]}]}``."""
    fixed: dict[str, Any] = {}
    for event, entries in hooks.items():
        items = entries if isinstance(entries, list) else [entries]
        out: list[Any] = []
        for entry in items:
            if isinstance(entry, str):
                entry = {"command": entry}
            if isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
                out.append({"matcher": entry.get("matcher", ""), **{k: v for k, v in entry.items() if k != "matcher"}})
            elif isinstance(entry, dict) and ("command" in entry or "url" in entry):
                hook = {k: v for k, v in entry.items() if k != "matcher"}
                hook.setdefault("type", "http" if "url" in entry and "command" not in entry else "command")
                out.append({"matcher": entry.get("matcher", ""), "hooks": [hook]})
            else:
                out.append(entry)  # unknown shape: pass it on, Claude decides
        fixed[event] = out
    return fixed


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class ClaudeExecutor:
    id = "claude"

    def command(self, lane: LaneConfig) -> str:
        return lane.executors.claude.command or "claude"

    def settings_document(self, request: LaunchRequest) -> dict[str, Any]:
        claude = runtime_settings(request, "claude")
        settings: dict[str, Any] = {}
        if claude.settings:
            settings = read_json_object(repo_path(request, claude.settings), "Claude settings file")
        if claude.settings_json:
            settings = deep_merge(settings, claude.settings_json)
        if claude.hooks_json:
            settings = deep_merge(settings, {"hooks": normalize_hooks(claude.hooks_json)})
        if claude.allowed_http_hook_urls:
            urls = [*settings.get("allowedHttpHookUrls", []), *claude.allowed_http_hook_urls]
            settings["allowedHttpHookUrls"] = list(dict.fromkeys(urls))
        return settings

    def build_launch(self, request: LaunchRequest) -> LaunchSpec:
        claude = runtime_settings(request, "claude")
        output = claude.output_format or "text"
        mode = claude.permission_mode or DEFAULT_PERMISSION_MODE
        if mode in BYPASS_MODES and is_root() and os.environ.get("IS_SANDBOX") != "1":
            raise WaveError(
                f"agent {request.task.agent_id}: claude refuses permission_mode {mode} as root",
                fix="use acceptEdits with allowed_tools / settings permissions, or set IS_SANDBOX=1 "
                "only on a throwaway sandbox machine",
            )
        overlay = request.overlay_dir
        model = request.model or claude.model
        max_turns = turn_limit(request, "claude")
        program = claude.command or self.command(request.lane)  # an agent or profile may name its own binary
        argv = [program, "-p", "--no-session-persistence", "--output-format", output]
        if output == "stream-json":
            argv.append("--verbose")
        if model:
            argv += ["--model", model]
        if claude.agent:
            argv += ["--agent", claude.agent]
        argv += ["--permission-mode", mode]
        if claude.permission_prompt_tool:
            argv += ["--permission-prompt-tool", claude.permission_prompt_tool]
        if max_turns is not None:
            argv += ["--max-turns", str(max_turns)]
        if claude.effort:
            argv += ["--effort", claude.effort]
        argv += ["--settings", str(overlay / SETTINGS_FILE)]
        if claude.strict_mcp_config:
            argv.append("--strict-mcp-config")
        replace = claude.append_system_prompt_mode == "replace"
        prompt_flag = "--system-prompt-file" if replace else "--append-system-prompt-file"
        argv += [prompt_flag, str(overlay / SYSTEM_PROMPT_FILE)]
        # Variadic flags last: nothing positional follows them (the prompt comes on stdin).
        if claude.mcp_config:
            argv += ["--mcp-config", *(str(repo_path(request, p)) for p in claude.mcp_config)]
        if claude.allowed_tools:
            argv += ["--allowedTools", *claude.allowed_tools]
        if claude.disallowed_tools:
            argv += ["--disallowedTools", *claude.disallowed_tools]
        skills = skills_of(request)
        return LaunchSpec(
            executor_id=self.id,
            argv=argv,
            cwd=request.repo_root,
            env=dict(ENV),
            stdin_path=request.prompt_path,
            overlay_files={
                SETTINGS_FILE: dumps(self.settings_document(request)),
                # Skill text goes into the system prompt too (spec: Claude sees it twice).
                SYSTEM_PROMPT_FILE: harness_text("claude", request)
                + (f"\n\n{skills.prompt_text.strip()}" if skills is not None else "")
                + "\n",
            },
        )

    def scan_output(self, log_path: Path) -> MarkerScan:
        return scan_log(log_path)

    def usage(self, log_path: Path) -> Usage | None:
        return claude_usage(read_log(log_path))

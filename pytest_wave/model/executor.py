"""Executor settings: what an agent's ``### Executor`` block (or a config profile) asks of a runtime.

One table, :data:`EXECUTOR_KEYS`, maps every markdown key to its model field and value kind.
The parser reads with it and the renderer writes with it, so the two can never drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ExecutorId = Literal["codex", "claude", "opencode", "local"]
EXECUTOR_IDS: tuple[str, ...] = ("codex", "claude", "opencode", "local")
VENDOR_RUNTIMES: tuple[str, ...] = ("codex", "claude", "opencode")
CODEX_SANDBOXES: tuple[str, ...] = ("read-only", "workspace-write", "danger-full-access")
CLAUDE_OUTPUT_FORMATS: tuple[str, ...] = ("text", "json", "stream-json")
OPENCODE_FORMATS: tuple[str, ...] = ("default", "json")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Budget(_Settings):
    turns: int | None = None
    minutes: int | None = None


class CodexSettings(_Settings):
    command: str | None = None
    sandbox: str | None = None
    profile_name: str | None = Field(default=None, alias="profileName")
    config: list[str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    add_dirs: list[str] = Field(default_factory=list, alias="addDirs")
    search: bool | None = None
    json_output: bool | None = Field(default=None, alias="json")
    ephemeral: bool | None = None


class ClaudeSettings(_Settings):
    command: str | None = None
    model: str | None = None
    agent: str | None = None
    append_system_prompt_mode: str | None = Field(default=None, alias="appendSystemPromptMode")
    permission_mode: str | None = Field(default=None, alias="permissionMode")
    permission_prompt_tool: str | None = Field(default=None, alias="permissionPromptTool")
    max_turns: int | None = Field(default=None, alias="maxTurns")
    mcp_config: list[str] = Field(default_factory=list, alias="mcpConfig")
    strict_mcp_config: bool | None = Field(default=None, alias="strictMcpConfig")
    settings: str | None = None
    settings_json: dict[str, Any] | None = Field(default=None, alias="settingsJson")
    hooks_json: dict[str, Any] | None = Field(default=None, alias="hooksJson")
    allowed_http_hook_urls: list[str] = Field(default_factory=list, alias="allowedHttpHookUrls")
    output_format: str | None = Field(default=None, alias="outputFormat")
    allowed_tools: list[str] = Field(default_factory=list, alias="allowedTools")
    disallowed_tools: list[str] = Field(default_factory=list, alias="disallowedTools")
    effort: str | None = None


class OpenCodeSettings(_Settings):
    command: str | None = None
    model: str | None = None
    agent: str | None = None
    attach: str | None = None
    files: list[str] = Field(default_factory=list)
    format: str | None = None
    steps: int | None = None
    instructions: list[str] = Field(default_factory=list)
    permission: Any = None
    config_json: dict[str, Any] | None = Field(default=None, alias="configJson")


class ExecutorSpec(_Settings):
    """The ``### Executor`` block of one agent, typed. ``None`` fields were not set."""

    line: int = 0
    id: str | None = None
    profile: str | None = None
    model: str | None = None
    fallbacks: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    budget: Budget = Field(default_factory=Budget)
    retry_policy: str | None = None
    codex: CodexSettings = Field(default_factory=CodexSettings)
    claude: ClaudeSettings = Field(default_factory=ClaudeSettings)
    opencode: OpenCodeSettings = Field(default_factory=OpenCodeSettings)
    # Markdown key as written -> source line, in file order (for errors and lint).
    key_lines: dict[str, int] = Field(default_factory=dict)

    def vendor_groups_used(self) -> set[str]:
        """Runtime blocks that carry at least one setting (``codex``, ``claude``, ``opencode``)."""
        return {key.split(".", 1)[0] for key in self.key_lines if "." in key}.intersection(VENDOR_RUNTIMES)


KeyKind = Literal["id", "str", "lower", "int", "bool", "list", "idlist", "json", "jsonobj", "enum"]


@dataclass(frozen=True)
class ExecutorKey:
    """How one markdown ``### Executor`` key is read and where it lands in :class:`ExecutorSpec`."""

    key: str
    group: str | None  # None for top-level fields, else "codex" / "claude" / "opencode" / "budget"
    field: str
    kind: KeyKind
    choices: tuple[str, ...] = ()


def _k(key: str, kind: KeyKind, choices: tuple[str, ...] = ()) -> ExecutorKey:
    group, _, name = key.rpartition(".")
    return ExecutorKey(key, group or None, name.replace("-", "_"), kind, choices)


EXECUTOR_KEYS: dict[str, ExecutorKey] = {
    spec.key: spec
    for spec in (
        _k("id", "id"),
        _k("profile", "lower"),
        _k("model", "str"),
        _k("fallbacks", "idlist"),
        _k("tags", "list"),
        _k("budget.turns", "int"),
        _k("budget.minutes", "int"),
        # Introduced by the Node.js tool after 0.5.x; real 0.7+ wave files use it.
        _k("retry-policy", "lower"),
        _k("codex.command", "str"),
        _k("codex.sandbox", "enum", CODEX_SANDBOXES),
        _k("codex.profile_name", "str"),
        _k("codex.config", "list"),
        _k("codex.images", "list"),
        _k("codex.add_dirs", "list"),
        _k("codex.search", "bool"),
        _k("codex.json", "bool"),
        _k("codex.ephemeral", "bool"),
        _k("claude.command", "str"),
        _k("claude.agent", "str"),
        _k("claude.permission_mode", "str"),
        _k("claude.permission_prompt_tool", "str"),
        _k("claude.settings", "str"),
        _k("claude.max_turns", "int"),
        _k("claude.mcp_config", "list"),
        _k("claude.allowed_http_hook_urls", "list"),
        _k("claude.allowed_tools", "list"),
        _k("claude.disallowed_tools", "list"),
        _k("claude.settings_json", "jsonobj"),
        _k("claude.hooks_json", "jsonobj"),
        _k("claude.output_format", "enum", CLAUDE_OUTPUT_FORMATS),
        _k("claude.effort", "lower"),
        _k("opencode.command", "str"),
        _k("opencode.agent", "str"),
        _k("opencode.attach", "str"),
        _k("opencode.files", "list"),
        _k("opencode.instructions", "list"),
        _k("opencode.format", "enum", OPENCODE_FORMATS),
        _k("opencode.steps", "int"),
        _k("opencode.permission", "json"),
        _k("opencode.config_json", "jsonobj"),
    )
}

# The Python attribute differs from the markdown name only here (``json`` shadows BaseModel API).
FIELD_OVERRIDES: dict[str, str] = {"codex.json": "json_output", "retry-policy": "retry_policy"}


def field_name(spec: ExecutorKey) -> str:
    return FIELD_OVERRIDES.get(spec.key, spec.field)

"""``wave.config.json`` / ``[tool.wave]``: the file schema (:class:`WaveConfig`) and one resolved lane.

:class:`WaveConfig` mirrors the file as written (camelCase aliases, snake_case names also accepted).
Lane override models keep pydantic's ``model_fields_set`` so a merge can tell "omitted" from
"set to the default"; that is how every lane merge rule below is implemented.
:class:`LaneConfig` is the flat, fully defaulted result that the rest of pytest-wave consumes.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pytest_wave.errors import WaveConfigError
from pytest_wave.model.executor import (
    CLAUDE_OUTPUT_FORMATS,
    CODEX_SANDBOXES,
    EXECUTOR_IDS,
    OPENCODE_FORMATS,
    Budget,
    ClaudeSettings,
    CodexSettings,
    OpenCodeSettings,
)

REPO_MODES: tuple[str, ...] = ("single-repo", "multi-lane")
APPEND_SYSTEM_PROMPT_MODES: tuple[str, ...] = ("append", "replace")
DEFAULT_PROMPT_REFERENCES: tuple[str, ...] = (
    "docs/reference/repository-guidance.md",
    "docs/research/agent-context-sources.md",
)
SHARED_PLAN_DOC_NAMES: tuple[str, ...] = ("current-state.md", "master-plan.md", "migration.md")

_LANE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SKILL_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")

# Validator messages are predicates ("must ...") so the loader can print "<key path> must ...".


# --------------------------------------------------------------------------- value helpers


def sanitize_lane_name(value: object) -> str:
    """Lane names as the anchor spells them: lowercase, runs of other characters become ``-``."""
    raw = "" if value is None else str(value)
    name = re.sub(r"[^a-z0-9_-]+", "-", raw.strip().lower())
    name = re.sub(r"-+", "-", name).strip("-")
    if not name:
        raise ValueError("Lane name is required")
    if not _LANE_RE.match(name):
        raise ValueError(f"Invalid lane: {raw}")
    return name


def normalize_repo_path(value: str, label: str | None = None) -> str:
    """Normalize a repo-relative POSIX path; reject anything that could leave the repository.

    Unlike the anchor we also reject a bare ``..``, a trailing ``/..`` and drive-letter paths:
    they escape the repository just as surely as ``../x`` does.
    """
    prefix = f"{label} " if label else ""
    text = re.sub(r"/+", "/", value.strip().replace("\\", "/"))
    if text.startswith("/") or _DRIVE_RE.match(text):
        raise ValueError(f"{prefix}must stay within the repository: {value}")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{prefix}must stay within the repository: {value}")
    if not parts:
        raise ValueError(f"{prefix}must not be empty")
    return "/".join(parts)


def _repo_path(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # let pydantic report the type error
    return normalize_repo_path(value)


def _optional_repo_path(value: Any) -> Any:
    # An empty string means "not set", so the key falls back to its default.
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _repo_path(value)


def _show(value: Any) -> str:
    """A value as the user wrote it in JSON (``true``, ``"soon"``), for error messages."""
    try:
        return json.dumps(value, ensure_ascii=False)[:60]
    except (TypeError, ValueError):
        return repr(value)[:60]


def _strict_int(value: Any) -> int | None:
    """An int, or a string of digits (the anchor used ``parseInt``); never a bool or float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _threshold(value: Any) -> int | None:
    # null disables a rule; TOML has no null, so ``false`` disables it too.
    if value is None or value is False:
        return None
    number = _strict_int(value)
    if number is None or number < 0:
        raise ValueError(f"must be a wave number (integer >= 0) or null to disable the rule (got: {_show(value)})")
    return number


def _mix_count(value: Any) -> int:
    number = _strict_int(value)
    if number is None or number < 0:
        raise ValueError(f"must be a non-negative integer (got: {_show(value)})")
    return number


def _positive_int(value: Any) -> Any:
    if value is None:
        return None
    number = _strict_int(value)
    if number is None or number < 1:
        raise ValueError(f"must be a positive integer (got: {_show(value)})")
    return number


def _executor_id(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text not in EXECUTOR_IDS:
        raise ValueError(f"must be one of: {', '.join(EXECUTOR_IDS)} (got: {value})")
    return text


def _executor_list(value: Any) -> Any:
    # Arrays or "claude, opencode" strings are both accepted (anchor compatibility).
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


def _lower_key(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if not text:
        raise ValueError("must not be an empty key")
    return text


def _skill_id(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if not _SKILL_RE.match(text):
        raise ValueError(f"must be a skill id matching {_SKILL_RE.pattern} (got: {value})")
    return text


def _one_or_many(value: Any) -> Any:
    # Some list settings also take a single string as one entry (not split on commas).
    return [value] if isinstance(value, str) else value


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


RepoPath = Annotated[str, BeforeValidator(_repo_path)]
OptRepoPath = Annotated[str | None, BeforeValidator(_optional_repo_path)]
Threshold = Annotated[int | None, BeforeValidator(_threshold)]
ExecutorIdStr = Annotated[str, BeforeValidator(_executor_id)]
ExecutorOrder = Annotated[list[ExecutorIdStr], BeforeValidator(_executor_list)]
MixCount = Annotated[int, BeforeValidator(_mix_count)]
LowerKey = Annotated[str, BeforeValidator(_lower_key)]
SkillId = Annotated[str, BeforeValidator(_skill_id)]
LaneName = Annotated[str, BeforeValidator(sanitize_lane_name)]
ProfileName = Annotated[str, BeforeValidator(_lower_key)]

_M = TypeVar("_M", bound=BaseModel)


def overlay_settings(base: _M, top: BaseModel, *, skip_none: bool = False) -> _M:
    """``base`` with every field that ``top`` explicitly set copied over (a shallow merge).

    Fields ``top`` omitted never override ``base``; with ``skip_none`` an explicit null is
    ignored as well (runtime blocks: the anchor's null-overwrite quirk is what we avoid).
    """
    update: dict[str, Any] = {}
    for name in top.model_fields_set:
        value = getattr(top, name)
        if skip_none and value is None:
            continue
        update[name] = copy.deepcopy(value)
    return base.model_copy(update=update) if update else base


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _drop_empty(data: Any) -> Any:
    # Keys that have a default fall back to it when null or empty (anchor behaviour).
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    return data


# --------------------------------------------------------------------------- sections


class PathsConfig(_Model):
    docs_dir: RepoPath = Field("docs", alias="docsDir")
    state_root: RepoPath = Field(".tmp", alias="stateRoot")
    orchestrator_state_dir: RepoPath = Field(".tmp/wave-orchestrator", alias="orchestratorStateDir")
    terminals_path: RepoPath = Field(".vscode/terminals.json", alias="terminalsPath")
    context7_bundle_index_path: RepoPath = Field("docs/context7/bundles.json", alias="context7BundleIndexPath")
    # None = not set: a lane then derives it from its own plans dir (the anchor's global
    # default always won, so non-default lanes shared docs/plans/... [quirk]).
    component_cutover_matrix_doc_path: OptRepoPath = Field(None, alias="componentCutoverMatrixDocPath")
    component_cutover_matrix_json_path: OptRepoPath = Field(None, alias="componentCutoverMatrixJsonPath")
    # Node.js 0.9: the eval benchmark catalog. Read so 0.9 configs load; pytest-wave has no use for it.
    benchmark_catalog_path: OptRepoPath = Field(None, alias="benchmarkCatalogPath")

    @model_validator(mode="before")
    @classmethod
    def _defaults_for_empty(cls, data: Any) -> Any:
        return _drop_empty(data)


# Node.js 0.9 renamed the evaluator "cont-QA"; its config keys are read as the evaluator's (aliases).
_RENAMED_ROLE_KEYS = {"contQaAgentId": "evaluatorAgentId", "contQaRolePromptPath": "evaluatorRolePromptPath"}
_ROLE_KEY_ALIASES: dict[str, tuple[str, ...]] = {"evaluator": ("cont-qa",)}


def _renamed_role_keys_schema(schema: dict[str, Any]) -> None:
    """The Node.js 0.9 names are accepted (validation aliases): say so in the JSON Schema too."""
    properties = schema.get("properties", {})
    for old, new in _RENAMED_ROLE_KEYS.items():
        if new in properties:
            properties[old] = {**properties[new], "description": f"Node.js 0.9 name of {new}"}


class RolesConfig(_Model):
    model_config = ConfigDict(json_schema_extra=_renamed_role_keys_schema)

    role_prompt_dir: RepoPath = Field("docs/agents", alias="rolePromptDir")
    evaluator_agent_id: str = Field(
        "A0",
        alias="evaluatorAgentId",
        validation_alias=AliasChoices("evaluatorAgentId", "contQaAgentId", "evaluator_agent_id"),
    )
    integration_agent_id: str = Field("A8", alias="integrationAgentId")
    documentation_agent_id: str = Field("A9", alias="documentationAgentId")
    evaluator_role_prompt_path: RepoPath = Field(
        "docs/agents/wave-evaluator-role.md",
        alias="evaluatorRolePromptPath",
        validation_alias=AliasChoices("evaluatorRolePromptPath", "contQaRolePromptPath", "evaluator_role_prompt_path"),
    )
    integration_role_prompt_path: RepoPath = Field(
        "docs/agents/wave-integration-role.md", alias="integrationRolePromptPath"
    )
    documentation_role_prompt_path: RepoPath = Field(
        "docs/agents/wave-documentation-role.md", alias="documentationRolePromptPath"
    )
    # Node.js 0.9 roles. The cont-eval agent (E0) runs as an implementation agent here, picking its
    # runtime by the ``cont-eval`` key of defaultExecutorByRole; the role prompt paths are kept
    # for what reads them (role prompts resolve from the wave's own ``### Role prompts``).
    cont_eval_agent_id: str | None = Field(None, alias="contEvalAgentId")
    cont_eval_role_prompt_path: OptRepoPath = Field(None, alias="contEvalRolePromptPath")
    security_role_prompt_path: OptRepoPath = Field(None, alias="securityRolePromptPath")
    design_role_prompt_path: OptRepoPath = Field(None, alias="designRolePromptPath")

    @model_validator(mode="before")
    @classmethod
    def _defaults_for_empty(cls, data: Any) -> Any:
        data = _drop_empty(data)
        if isinstance(data, dict) and any(old in data and new in data for old, new in _RENAMED_ROLE_KEYS.items()):
            # Both names given (the alias would reject the second as unknown): agree, or say so.
            data = dict(data)
            for old, new in _RENAMED_ROLE_KEYS.items():
                if old in data and new in data:
                    value = data.pop(old)
                    if _trimmed(data[new]) != _trimmed(value):
                        raise ValueError(f"{old} ({value}) and {new} ({data[new]}) name the same role; keep one")
        return data

    def role_keys(self, agent_id: str, role: str) -> list[str]:
        """The keys of per-role settings (``defaultExecutorByRole``, ``skills.byRole``) that name this
        agent's role, most specific first: ``cont-eval`` for the configured cont-eval agent, the
        role, then its Node.js 0.9 name (the evaluator is ``cont-qa`` there)."""
        keys = [role, *_ROLE_KEY_ALIASES.get(role, ())]
        if self.cont_eval_agent_id and agent_id == self.cont_eval_agent_id:
            keys.insert(0, "cont-eval")
        return keys

    @field_validator("cont_eval_agent_id", mode="before")
    @classmethod
    def _strip_optional_id(cls, value: Any) -> Any:
        return _trimmed(value)

    @field_validator("evaluator_agent_id", "integration_agent_id", "documentation_agent_id", mode="before")
    @classmethod
    def _strip_id(cls, value: Any) -> Any:
        return _trimmed(value)


class ClosureModeThresholds(_Model):
    """Node.js 0.9.12 ``validation.closureModeThresholds``: the wave numbers from which its closure
    is ``standard`` and ``strict`` (below ``standard``: ``bootstrap``)."""

    bootstrap: Annotated[int, Field(ge=0)] = 0
    standard: Annotated[int, Field(ge=0)] = 4
    strict: Annotated[int, Field(ge=0)] = 10


class AutoClosure(_Model):
    """Node.js 0.9.12 ``validation.autoClosure``: closure stages it let pass without their proof."""

    allow_inferred_integration: bool = Field(False, alias="allowInferredIntegration")
    allow_auto_doc_no_change: bool = Field(False, alias="allowAutoDocNoChange")
    allow_auto_doc_projection: bool = Field(False, alias="allowAutoDocProjection")
    allow_skip_cont_qa_in_bootstrap: bool = Field(False, alias="allowSkipContQaInBootstrap")

    def relaxations(self) -> list[str]:
        """The camelCase names of the relaxations switched on."""
        return [str(field.alias) for name, field in type(self).model_fields.items() if getattr(self, name) is True]


class ValidationConfig(_Model):
    """Prompt checks and the wave numbers from which each lint/gate rule applies (None = off)."""

    required_prompt_references: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROMPT_REFERENCES), alias="requiredPromptReferences"
    )
    require_documentation_steward_from_wave: Threshold = Field(0, alias="requireDocumentationStewardFromWave")
    require_context7_declarations_from_wave: Threshold = Field(6, alias="requireContext7DeclarationsFromWave")
    require_exit_contracts_from_wave: Threshold = Field(6, alias="requireExitContractsFromWave")
    require_integration_steward_from_wave: Threshold = Field(None, alias="requireIntegrationStewardFromWave")
    require_component_promotions_from_wave: Threshold = Field(0, alias="requireComponentPromotionsFromWave")
    require_agent_components_from_wave: Threshold = Field(0, alias="requireAgentComponentsFromWave")
    # Node.js 0.9.12's closure relaxations. Read so 0.9 configs load; never applied: a wave closes
    # only on proof (lint rule ``node-closure-relaxation`` says so where Node would have relaxed).
    closure_mode_thresholds: ClosureModeThresholds | None = Field(None, alias="closureModeThresholds")
    auto_closure: AutoClosure | None = Field(None, alias="autoClosure")

    @field_validator("required_prompt_references", mode="before")
    @classmethod
    def _references(cls, value: Any) -> Any:
        if value is None:
            return list(DEFAULT_PROMPT_REFERENCES)
        if isinstance(value, list):
            return [item.strip() if isinstance(item, str) else item for item in value]
        return value

    def active(self, rule_threshold: int | None, wave: int | None) -> bool:
        """Whether a rule with ``rule_threshold`` applies to wave number ``wave``."""
        if rule_threshold is None:
            return False
        if wave is None:
            # Example waves (wave-example-*.md) have no number, so we cannot know where they
            # fall; only rules that are on from wave 0 (always on) can fairly apply to them.
            return rule_threshold <= 0
        return wave >= rule_threshold


# --- executor runtime blocks: the shared executor.py models plus config-file checks.


class ProfileCodexSettings(CodexSettings):
    """A codex block as the config file accepts it; unset fields stay None (no defaults)."""

    @field_validator("config", "images", "add_dirs", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("sandbox")
    @classmethod
    def _sandbox(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in CODEX_SANDBOXES:
            raise ValueError(f"must be one of: {', '.join(CODEX_SANDBOXES)} (got: {value})")
        return value.strip().lower() if value is not None else None


class CodexConfig(ProfileCodexSettings):
    """``executors.codex``: lane-level codex settings with the anchor's code defaults."""

    command: str | None = "codex"
    sandbox: str | None = "danger-full-access"
    search: bool | None = False
    json_output: bool | None = Field(default=False, alias="json")
    ephemeral: bool | None = False


class _ClaudeChecked(ClaudeSettings):
    @field_validator("mcp_config", "allowed_http_hook_urls", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("max_turns", mode="before")
    @classmethod
    def _max_turns(cls, value: Any) -> Any:
        return _positive_int(value)

    @field_validator("output_format")
    @classmethod
    def _output_format(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in CLAUDE_OUTPUT_FORMATS:
            raise ValueError(f"must be one of: {', '.join(CLAUDE_OUTPUT_FORMATS)} (got: {value})")
        return value.strip().lower() if value is not None else None


class ProfileClaudeSettings(_ClaudeChecked):
    """A profile's claude block: the model comes from the profile, not from the block."""

    @field_validator("model", "append_system_prompt_mode")
    @classmethod
    def _not_in_profile(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("is not allowed in a profile claude block (set the profile's model instead)")
        return value


class ClaudeConfig(_ClaudeChecked):
    """``executors.claude`` with code defaults."""

    command: str | None = "claude"
    append_system_prompt_mode: str | None = Field(default="append", alias="appendSystemPromptMode")
    strict_mcp_config: bool | None = Field(default=False, alias="strictMcpConfig")
    output_format: str | None = Field(default="text", alias="outputFormat")

    @field_validator("append_system_prompt_mode")
    @classmethod
    def _append_mode(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in APPEND_SYSTEM_PROMPT_MODES:
            raise ValueError(f"must be one of: {', '.join(APPEND_SYSTEM_PROMPT_MODES)} (got: {value})")
        return value.strip().lower() if value is not None else None


class _OpenCodeChecked(OpenCodeSettings):
    @field_validator("files", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        return _positive_int(value)

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in OPENCODE_FORMATS:
            raise ValueError(f"must be one of: {', '.join(OPENCODE_FORMATS)} (got: {value})")
        return value.strip().lower() if value is not None else None

    @field_validator("permission")
    @classmethod
    def _permission(cls, value: Any) -> Any:
        # In the config file (unlike markdown) permission must be a JSON object.
        if value is not None and not isinstance(value, dict):
            raise ValueError("must be a JSON object")
        return value


class ProfileOpenCodeSettings(_OpenCodeChecked):
    @field_validator("model")
    @classmethod
    def _not_in_profile(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("is not allowed in a profile opencode block (set the profile's model instead)")
        return value


class OpenCodeConfig(_OpenCodeChecked):
    """``executors.opencode`` with code defaults."""

    command: str | None = "opencode"
    format: str | None = "default"


class ProfileBudget(Budget):
    @field_validator("turns", "minutes", mode="before")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        return _positive_int(value)


class ExecutorProfile(_Model):
    """``executors.profiles.<name>``. Runtime blocks hold only what the profile sets (None = unset)."""

    id: ExecutorIdStr | None = None
    model: str | None = None
    fallbacks: ExecutorOrder = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    budget: ProfileBudget = Field(default_factory=ProfileBudget)
    codex: ProfileCodexSettings = Field(default_factory=ProfileCodexSettings)
    claude: ProfileClaudeSettings = Field(default_factory=ProfileClaudeSettings)
    opencode: ProfileOpenCodeSettings = Field(default_factory=ProfileOpenCodeSettings)

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> Any:
        return _trimmed(value) or None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [item.strip() if isinstance(item, str) else item for item in value]
        return value


class ExecutorsConfig(_Model):
    default: ExecutorIdStr = "codex"
    profiles: dict[ProfileName, ExecutorProfile] = Field(default_factory=dict)
    codex: CodexConfig = Field(default_factory=CodexConfig)
    claude: ClaudeConfig = Field(default_factory=ClaudeConfig)
    opencode: OpenCodeConfig = Field(default_factory=OpenCodeConfig)


class SkillsConfig(_Model):
    dir: RepoPath = "skills"
    base: list[SkillId] = Field(default_factory=list)
    by_role: dict[LowerKey, list[SkillId]] = Field(default_factory=dict, alias="byRole")
    by_runtime: dict[LowerKey, list[SkillId]] = Field(default_factory=dict, alias="byRuntime")
    by_deploy_kind: dict[LowerKey, list[SkillId]] = Field(default_factory=dict, alias="byDeployKind")


COORDINATION_BACKENDS: tuple[str, ...] = ("jsonl", "redis")


class CoordinationBackendConfig(_Model):
    """``[tool.wave.coordination]``: where the coordination log lives (the reducer is the same)."""

    backend: str = "jsonl"  # the embedded JSONL file; "redis": a stream shared by every host of a wave
    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = Field("wave", alias="keyPrefix")
    connect_timeout: float = Field(5.0, alias="connectTimeout", gt=0)

    @field_validator("backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in COORDINATION_BACKENDS:
            return value.strip().lower()
        raise ValueError(f"must be one of: {', '.join(COORDINATION_BACKENDS)} (got: {_show(value)})")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"must be a redis://, rediss:// or unix:// URL (got: {value!r})")
        return value


class DistributedConfig(_Model):
    """``[tool.wave.distributed]``: how remote hosts (xdist ``--tx`` gateways) reach the repository."""

    # A git URL every host can clone from and push to; None: the controller's own repository path
    # (enough for hosts that share its filesystem, e.g. loopback socket servers).
    repo_url: str | None = Field(None, alias="repoUrl")
    branch_prefix: str = Field("wave", alias="branchPrefix")

    @field_validator("branch_prefix")
    @classmethod
    def _branch_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value) or ".." in value or value.endswith("/"):
            raise ValueError(f"must be a git branch name prefix like 'wave' (got: {value!r})")
        return value


class CapabilityRouting(_Model):
    preferred_agents: dict[LowerKey, list[str]] = Field(default_factory=dict, alias="preferredAgents")


class RuntimePolicy(_Model):
    runtime_mix_targets: dict[ExecutorIdStr, MixCount] = Field(default_factory=dict, alias="runtimeMixTargets")
    default_executor_by_role: dict[LowerKey, ExecutorIdStr] = Field(default_factory=dict, alias="defaultExecutorByRole")
    fallback_executor_order: ExecutorOrder = Field(default_factory=list, alias="fallbackExecutorOrder")


class LaneOverrides(_Model):
    """``lanes.<lane>``: everything optional; what a lane omits comes from the global config."""

    docs_dir: OptRepoPath = Field(None, alias="docsDir")
    plans_dir: OptRepoPath = Field(None, alias="plansDir")
    waves_dir: OptRepoPath = Field(None, alias="wavesDir")
    shared_plan_docs: list[RepoPath] | None = Field(None, alias="sharedPlanDocs")
    terminals_path: OptRepoPath = Field(None, alias="terminalsPath")
    state_root: OptRepoPath = Field(None, alias="stateRoot")
    orchestrator_state_dir: OptRepoPath = Field(None, alias="orchestratorStateDir")
    context7_bundle_index_path: OptRepoPath = Field(None, alias="context7BundleIndexPath")
    component_cutover_matrix_doc_path: OptRepoPath = Field(None, alias="componentCutoverMatrixDocPath")
    component_cutover_matrix_json_path: OptRepoPath = Field(None, alias="componentCutoverMatrixJsonPath")
    roles: RolesConfig = Field(default_factory=RolesConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    executors: ExecutorsConfig = Field(default_factory=ExecutorsConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    capability_routing: CapabilityRouting = Field(default_factory=CapabilityRouting, alias="capabilityRouting")
    runtime_policy: RuntimePolicy = Field(default_factory=RuntimePolicy, alias="runtimePolicy")
    # The three policy keys may also sit directly on the lane; they win over runtimePolicy.
    runtime_mix_targets: dict[ExecutorIdStr, MixCount] | None = Field(None, alias="runtimeMixTargets")
    default_executor_by_role: dict[LowerKey, ExecutorIdStr] | None = Field(None, alias="defaultExecutorByRole")
    fallback_executor_order: ExecutorOrder | None = Field(None, alias="fallbackExecutorOrder")
    # The lane's default for --wave-isolation / ini wave_isolation (either of those, when given, wins).
    wave_isolation: Literal["shared", "worktree"] | None = Field(None, alias="waveIsolation")


class AgenticPlannerConfig(_Model):
    """Node.js 0.9 ``planner.agentic``. ``executorProfile`` names the executor profile that plans
    (ad-hoc runs) when the lane has no profile called ``planner``; the rest is read and kept."""

    executor_profile: ProfileName | None = Field(None, alias="executorProfile")
    default_max_waves: Annotated[int, Field(ge=1)] | None = Field(None, alias="defaultMaxWaves")
    max_replan_iterations: Annotated[int, Field(ge=0)] | None = Field(None, alias="maxReplanIterations")
    context7_bundle: str | None = Field(None, alias="context7Bundle")
    context7_query: str | None = Field(None, alias="context7Query")
    core_context_paths: list[RepoPath] = Field(default_factory=list, alias="coreContextPaths")
    lessons_paths: list[RepoPath] = Field(default_factory=list, alias="lessonsPaths")
    research_topic_paths: list[RepoPath] = Field(default_factory=list, alias="researchTopicPaths")


class PlannerConfig(_Model):
    agentic: AgenticPlannerConfig = Field(default_factory=AgenticPlannerConfig)


# --------------------------------------------------------------------------- resolved lane


class LaneConfig(_Model):
    """One lane, fully resolved: repo-relative POSIX paths and merged settings. Treat as read-only
    (instances are cached and shared; use ``model_copy(update=...)`` to vary one)."""

    name: str
    version: int = 1
    project_name: str
    repo_mode: str
    docs_dir: str
    plans_dir: str
    waves_dir: str
    shared_plan_docs: list[str]
    state_root: str
    state_dir: str
    orchestrator_state_dir: str
    terminals_path: str
    context7_bundle_index_path: str
    component_matrix_doc_path: str
    component_matrix_json_path: str
    roles: RolesConfig
    validation: ValidationConfig
    executors: ExecutorsConfig
    skills: SkillsConfig
    capability_routing: CapabilityRouting
    runtime_policy: RuntimePolicy
    coordination: CoordinationBackendConfig = Field(default_factory=CoordinationBackendConfig)
    distributed: DistributedConfig = Field(default_factory=DistributedConfig)
    wave_isolation: Literal["shared", "worktree"] | None = None
    planner: PlannerConfig = Field(default_factory=PlannerConfig)


# --------------------------------------------------------------------------- the whole file


class WaveConfig(_Model):
    version: int = 1
    project_name: str = Field("Wave Orchestrator", alias="projectName")
    repo_mode: str = Field("single-repo", alias="repoMode")
    default_lane: LaneName = Field("main", alias="defaultLane")
    paths: PathsConfig = Field(default_factory=PathsConfig)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    executors: ExecutorsConfig = Field(default_factory=ExecutorsConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    capability_routing: CapabilityRouting = Field(default_factory=CapabilityRouting, alias="capabilityRouting")
    runtime_policy: RuntimePolicy = Field(default_factory=RuntimePolicy, alias="runtimePolicy")
    shared_plan_docs: list[RepoPath] | None = Field(None, alias="sharedPlanDocs")
    lanes: dict[LaneName, LaneOverrides] = Field(default_factory=dict)
    coordination: CoordinationBackendConfig = Field(default_factory=CoordinationBackendConfig)
    distributed: DistributedConfig = Field(default_factory=DistributedConfig)
    planner: PlannerConfig = Field(default_factory=PlannerConfig)

    _source: Path | None = PrivateAttr(default=None)
    _repo_root: Path | None = PrivateAttr(default=None)
    _lane_cache: dict[str, LaneConfig] = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if value is None:
            return 1
        number = _strict_int(value)
        if number is None or number < 0:
            raise ValueError(f"must be a positive integer (got: {_show(value)})")
        return number or 1  # the anchor treats 0 as 1

    @field_validator("project_name", mode="before")
    @classmethod
    def _project_name(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return "Wave Orchestrator"
        return _trimmed(value)

    @field_validator("repo_mode", mode="before")
    @classmethod
    def _repo_mode(cls, value: Any) -> Any:
        if value is None:
            return "single-repo"
        if not isinstance(value, str):
            return value
        mode = value.strip().lower()
        if mode not in REPO_MODES:
            raise ValueError(f"must be one of: {', '.join(REPO_MODES)} (got: {value})")
        return mode

    @field_validator("lanes", mode="before")
    @classmethod
    def _unique_lanes(cls, value: Any) -> Any:
        # "Main" and "main" sanitize to the same lane; refuse rather than silently drop one.
        if isinstance(value, dict):
            seen: dict[str, str] = {}
            for key in value:
                try:
                    name = sanitize_lane_name(key)
                except ValueError:
                    continue  # reported with its own key path by the key validator
                if name in seen:
                    raise ValueError(f"lanes {seen[name]!r} and {key!r} are the same lane ({name!r})")
                seen[name] = str(key)
        return value

    @field_validator("planner")
    @classmethod
    def _planner_profile_exists(cls, value: PlannerConfig, info: ValidationInfo) -> PlannerConfig:
        named = value.agentic.executor_profile
        executors, lanes = info.data.get("executors"), info.data.get("lanes")
        if named is None or executors is None or lanes is None:
            return value  # an earlier field failed: that error is the one to report
        known = set(executors.profiles)
        for lane in lanes.values():
            known.update(lane.executors.profiles)
        if named not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise ValueError(f"agentic.executorProfile names '{named}', which is not in executors.profiles ({shown})")
        return value

    # -- where it came from (set by pytest_wave.config.load_config)

    @property
    def source_path(self) -> Path | None:
        """The file this config was read from, or None when every default applies."""
        return self._source

    @property
    def repo_root(self) -> Path | None:
        return self._repo_root

    def attach_source(self, source: Path | None, repo_root: Path | None) -> None:
        self._source = source
        self._repo_root = repo_root
        self._lane_cache.clear()

    # -- lane resolution

    def resolve_lane(self, lane: str | None = None) -> LaneConfig:
        """Merge ``lanes.<lane>`` over the global settings (``None`` = the default lane). Cached."""
        try:
            name = sanitize_lane_name(self.default_lane if lane is None else lane)
        except ValueError as exc:
            raise WaveConfigError(str(exc), path=self._source, fix="lane names use a-z, 0-9, '-' and '_'") from None
        cached = self._lane_cache.get(name)
        if cached is None:
            cached = self._resolve(name)
            self._lane_cache[name] = cached
        return cached

    def _resolve(self, name: str) -> LaneConfig:
        over = self.lanes.get(name) or LaneOverrides()
        paths = self.paths

        if over.docs_dir is not None:
            docs_dir = over.docs_dir
        elif self.repo_mode == "single-repo" and name == self.default_lane:
            docs_dir = paths.docs_dir
        else:
            # The anchor ignored paths.docsDir here and always used docs/<lane> [quirk].
            docs_dir = f"{paths.docs_dir}/{name}"
        plans_dir = over.plans_dir or f"{docs_dir}/plans"
        waves_dir = over.waves_dir or self._waves_dir(docs_dir, plans_dir)
        shared_plan_docs = over.shared_plan_docs if over.shared_plan_docs is not None else self.shared_plan_docs
        if shared_plan_docs is None:
            shared_plan_docs = [f"{plans_dir}/{doc}" for doc in SHARED_PLAN_DOC_NAMES]
        state_root = over.state_root or paths.state_root

        return LaneConfig(
            name=name,
            version=self.version,
            project_name=self.project_name,
            repo_mode=self.repo_mode,
            docs_dir=docs_dir,
            plans_dir=plans_dir,
            waves_dir=waves_dir,
            shared_plan_docs=list(shared_plan_docs),
            state_root=state_root,
            state_dir=f"{state_root}/{name}-wave-launcher",
            orchestrator_state_dir=over.orchestrator_state_dir or paths.orchestrator_state_dir,
            terminals_path=over.terminals_path or paths.terminals_path,
            context7_bundle_index_path=over.context7_bundle_index_path or paths.context7_bundle_index_path,
            component_matrix_doc_path=over.component_cutover_matrix_doc_path
            or paths.component_cutover_matrix_doc_path
            or f"{plans_dir}/component-cutover-matrix.md",
            component_matrix_json_path=over.component_cutover_matrix_json_path
            or paths.component_cutover_matrix_json_path
            or f"{plans_dir}/component-cutover-matrix.json",
            roles=overlay_settings(self.roles, over.roles),
            # Keep explicit nulls: a lane may switch off a rule the global config turns on.
            validation=overlay_settings(self.validation, over.validation),
            executors=self._executors(over.executors),
            skills=self._skills(over.skills),
            capability_routing=overlay_settings(self.capability_routing, over.capability_routing),
            runtime_policy=self._runtime_policy(over),
            coordination=self.coordination,
            distributed=self.distributed,
            planner=self.planner,
            wave_isolation=over.wave_isolation,
        )

    def _waves_dir(self, docs_dir: str, plans_dir: str) -> str:
        preferred = f"{plans_dir}/waves"
        root = self._repo_root
        if root is not None:
            # Older repos keep waves in <docsDir>/waves; use it only if the new dir is absent.
            legacy = f"{docs_dir}/waves"
            if not (root / preferred).is_dir() and (root / legacy).is_dir():
                return legacy
        return preferred

    def _executors(self, lane: ExecutorsConfig) -> ExecutorsConfig:
        glob = self.executors
        profiles = {**glob.profiles, **lane.profiles}  # a lane profile replaces the same name
        return ExecutorsConfig(
            default=lane.default if "default" in lane.model_fields_set else glob.default,
            profiles=profiles,
            codex=overlay_settings(glob.codex, lane.codex, skip_none=True),
            claude=overlay_settings(glob.claude, lane.claude, skip_none=True),
            opencode=overlay_settings(glob.opencode, lane.opencode, skip_none=True),
        )

    def _skills(self, lane: SkillsConfig) -> SkillsConfig:
        glob = self.skills

        def union(first: list[str], second: list[str]) -> list[str]:
            return list(dict.fromkeys([*first, *second]))

        def union_map(first: dict[str, list[str]], second: dict[str, list[str]]) -> dict[str, list[str]]:
            merged = {key: list(values) for key, values in first.items()}
            for key, values in second.items():
                merged[key] = union(merged.get(key, []), values)
            return merged

        return SkillsConfig(
            dir=lane.dir if "dir" in lane.model_fields_set else glob.dir,
            base=union(glob.base, lane.base),
            by_role=union_map(glob.by_role, lane.by_role),
            by_runtime=union_map(glob.by_runtime, lane.by_runtime),
            by_deploy_kind=union_map(glob.by_deploy_kind, lane.by_deploy_kind),
        )

    def _runtime_policy(self, over: LaneOverrides) -> RuntimePolicy:
        policy = overlay_settings(self.runtime_policy, over.runtime_policy)
        direct: dict[str, Any] = {
            key: copy.deepcopy(value)
            for key in ("runtime_mix_targets", "default_executor_by_role", "fallback_executor_order")
            if (value := getattr(over, key)) is not None
        }
        return policy.model_copy(update=direct) if direct else policy

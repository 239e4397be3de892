"""Pydantic models for every file the planner reads or writes.

- ``.wave/project-profile.json``: :class:`ProjectProfile`
- ``<wavesDir>/specs/wave-<n>.json``: :class:`DraftSpec` (canonical; the wave markdown is rendered from it)
- ``<wavesDir>/specs/replan-<n>.json``: :class:`ReplanRecord`
- ``.wave/adhoc/runs/<run-id>/run.json``: :class:`AdhocRun`; ``spec.json`` next to it: :class:`DraftSpec`
  with ``wave: null``
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

PROFILE_SCHEMA_VERSION = 1
SPEC_SCHEMA_VERSION = 1

OversightMode = Literal["oversight", "dark-factory"]
TerminalSurface = Literal["vscode", "tmux"]
TEMPLATES: tuple[str, ...] = ("implementation", "qa", "infra", "release", "migration")
Template = Literal["implementation", "qa", "infra", "release", "migration"]
DEPLOY_KINDS: tuple[str, ...] = ("railway-mcp", "railway-cli", "docker-compose", "kubernetes", "ssh-manual", "custom")
DeployKind = Literal["railway-mcp", "railway-cli", "docker-compose", "kubernetes", "ssh-manual", "custom"]
ROLE_KINDS: tuple[str, ...] = ("implementation", "qa", "infra", "deploy", "research")
RoleKind = Literal["implementation", "qa", "infra", "deploy", "research"]

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f'"{value}" is not a valid id (lowercase letters, digits, ".", "_", "-")')
    return value


Id = Annotated[str, AfterValidator(_check_id)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- project profile


class ProfileDeployEnvironment(_Model):
    id: Id
    name: str
    kind: DeployKind = "custom"
    is_default: bool = Field(False, alias="isDefault")
    notes: str | None = None


class PlannerDefaults(_Model):
    template: Template = "implementation"
    lane: str = "main"


class ProfileSource(_Model):
    project_name: str = Field("", alias="projectName")
    config_path: str = Field("", alias="configPath")


class ProjectProfile(_Model):
    schema_version: Literal[1] = Field(1, alias="schemaVersion")
    initialized_at: str = Field(alias="initializedAt")
    updated_at: str = Field(alias="updatedAt")
    new_project: bool = Field(False, alias="newProject")
    default_oversight_mode: OversightMode = Field("oversight", alias="defaultOversightMode")
    default_terminal_surface: TerminalSurface = Field("vscode", alias="defaultTerminalSurface")
    deploy_environments: list[ProfileDeployEnvironment] = Field(default_factory=list, alias="deployEnvironments")
    planner_defaults: PlannerDefaults = Field(default_factory=PlannerDefaults, alias="plannerDefaults")
    source: ProfileSource = Field(default_factory=ProfileSource)

    @model_validator(mode="before")
    @classmethod
    def _coerce_surface(cls, data: object) -> object:
        # "none" is a valid launcher surface but not a profile default: it becomes vscode.
        if isinstance(data, dict) and data.get("defaultTerminalSurface") == "none":
            return {**data, "defaultTerminalSurface": "vscode"}
        return data

    @model_validator(mode="after")
    def _one_default(self) -> ProjectProfile:
        envs = self.deploy_environments
        ids = [env.id for env in envs]
        if len(set(ids)) != len(ids):
            raise ValueError("deploy environment ids must be unique")
        if envs:
            marked = [env for env in envs if env.is_default]
            keep = marked[0] if marked else envs[0]
            for env in envs:
                env.is_default = env is keep
        return self

    def default_environment(self) -> ProfileDeployEnvironment | None:
        return next((env for env in self.deploy_environments if env.is_default), None)


# --------------------------------------------------------------------------- draft spec


class SpecProjectProfile(_Model):
    project_name: str = Field(alias="projectName")
    new_project: bool = Field(alias="newProject")
    default_terminal_surface: TerminalSurface = Field(alias="defaultTerminalSurface")


class SpecContext7(_Model):
    bundle: str = "none"
    query: str | None = None


class SpecPromotion(_Model):
    component_id: Id = Field(alias="componentId")
    target_level: str = Field(alias="targetLevel")


class SpecComponent(_Model):
    component_id: Id = Field(alias="componentId")
    title: str
    current_level: str = Field(alias="currentLevel")
    target_level: str = Field(alias="targetLevel")
    canonical_docs: list[str] = Field(default_factory=list, alias="canonicalDocs")
    proof_surfaces: list[str] = Field(default_factory=list, alias="proofSurfaces")


class SpecExecutor(_Model):
    profile: str | None = None
    id: str | None = None


class SpecExitContract(_Model):
    completion: str
    durability: str
    proof: str
    doc_impact: str = Field(alias="docImpact")


class SpecAgent(_Model):
    agent_id: str = Field(alias="agentId")
    title: str
    role_prompt_paths: list[str] = Field(default_factory=list, alias="rolePromptPaths")
    skills: list[str] = Field(default_factory=list)
    executor: SpecExecutor = Field(default_factory=SpecExecutor)
    context7: SpecContext7 = Field(default_factory=SpecContext7)
    components: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    exit_contract: SpecExitContract | None = Field(None, alias="exitContract")
    primary_goal: str = Field(alias="primaryGoal")
    collaboration_notes: list[str] = Field(default_factory=list, alias="collaborationNotes")
    required_context: list[str] = Field(default_factory=list, alias="requiredContext")
    earlier_wave_outputs: list[str] = Field(default_factory=list, alias="earlierWaveOutputs")
    owned_paths: list[str] = Field(default_factory=list, alias="ownedPaths")
    # Files the agent must leave behind (``### Deliverables``); ``wave draft`` leaves it empty, ad-hoc
    # plans list each agent's report here so the gate checks it exists.
    deliverables: list[str] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list)
    validation_command: str | None = Field(None, alias="validationCommand")
    output_summary: str = Field("", alias="outputSummary")
    deploy_environment_id: str | None = Field(None, alias="deployEnvironmentId")


class DraftSpec(_Model):
    schema_version: Literal[1] = Field(1, alias="schemaVersion")
    generated_at: str = Field(alias="generatedAt")
    project_profile: SpecProjectProfile = Field(alias="projectProfile")
    template: Template
    lane: str
    wave: int | None = Field(ge=0)  # None: an ad-hoc plan (never a numbered wave)
    title: str
    commit_message: str = Field(alias="commitMessage")
    oversight_mode: OversightMode = Field(alias="oversightMode")
    sequencing_note: str | None = Field(None, alias="sequencingNote")
    reference_rule: str | None = Field(None, alias="referenceRule")
    deploy_environments: list[ProfileDeployEnvironment] = Field(default_factory=list, alias="deployEnvironments")
    context7_defaults: SpecContext7 = Field(default_factory=SpecContext7, alias="context7Defaults")
    component_promotions: list[SpecPromotion] = Field(default_factory=list, alias="componentPromotions")
    components_catalog: list[SpecComponent] = Field(default_factory=list, alias="componentsCatalog")
    agents: list[SpecAgent] = Field(default_factory=list)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"

    def wave_facts(self) -> dict[str, object]:
        """What the wave markdown carries (and so what a parse of it must give back)."""
        data = self.model_dump(by_alias=True, mode="json")
        for key in (
            "schemaVersion",
            "generatedAt",
            "projectProfile",
            "template",
            "lane",
            "oversightMode",
            "sequencingNote",
            "referenceRule",
            "componentsCatalog",
        ):
            data.pop(key, None)
        for env in data["deployEnvironments"]:
            env.pop("name", None)
        return data


# --------------------------------------------------------------------------- replanning


class ReplanChange(_Model):
    wave: int
    what: str
    why: str


class ReplanRecord(_Model):
    schema_version: Literal[1] = Field(1, alias="schemaVersion")
    generated_at: str = Field(alias="generatedAt")
    from_wave: int = Field(alias="fromWave")
    lane: str
    closed_waves: list[int] = Field(default_factory=list, alias="closedWaves")
    regenerated_waves: list[int] = Field(default_factory=list, alias="regeneratedWaves")
    changes: list[ReplanChange] = Field(default_factory=list)


# --------------------------------------------------------------------------- ad-hoc runs


class AdhocRun(_Model):
    schema_version: Literal[1] = Field(1, alias="schemaVersion")
    run_kind: Literal["adhoc"] = Field("adhoc", alias="runKind")
    run_id: str = Field(alias="runId")
    created_at: str = Field(alias="createdAt")
    lane: str
    requests: list[str]
    planner: Literal["template", "runtime"] = "template"
    planner_runtime: str | None = Field(None, alias="plannerRuntime")
    planner_note: str | None = Field(None, alias="plannerNote")
    wave_path: str = Field(alias="wavePath")
    status: Literal["planned", "running", "closed", "failed"] = "planned"
    reason: str | None = None
    finished_at: str | None = Field(None, alias="finishedAt")
    session_run_id: str | None = Field(None, alias="sessionRunId")
    agents: dict[str, str] = Field(default_factory=dict)

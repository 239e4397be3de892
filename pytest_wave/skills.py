"""Skill bundles: reusable guidance packs projected into agent prompts.

A bundle is ``<skills dir>/<id>/`` with ``skill.json`` (:class:`SkillManifest`), ``SKILL.md`` and optional
``adapters/<runtime>.md``. Bundles are looked up in the lane's ``skills.dir`` first, then in the starter
bundles shipped with pytest-wave (``skills/`` next to the package).

Per agent the ids are: ``skills.base``, then ``byRole[role]``, ``byRuntime[executor]``,
``byDeployKind[kind of the wave's default deploy environment]``, then the agent's ``### Skills``; first
seen wins on duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

import pytest_wave
from pytest_wave.errors import WaveError
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.wave import Agent, Wave
from pytest_wave.rendering import render

PACKAGE_SKILLS_DIR = Path(pytest_wave.__file__).resolve().parents[1] / "skills"
SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
RUNTIMES = ("codex", "claude", "opencode", "local")


class SkillManifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    description: str | None = None
    summary: str | None = None

    @model_validator(mode="after")
    def _has_text(self) -> SkillManifest:
        if not SKILL_ID.match(self.id):
            raise ValueError(f'"{self.id}" is not a valid skill id')
        if not (self.description or self.summary):
            raise ValueError("a skill needs a description or a summary")
        return self

    @property
    def text(self) -> str:
        return self.description or self.summary or ""


@dataclass(frozen=True)
class SkillBundle:
    manifest: SkillManifest
    path: Path
    instructions: str
    adapters: dict[str, str]
    bundle_hash: str

    @property
    def id(self) -> str:
        return self.manifest.id


def skill_dirs(repo_root: Path, lane: LaneConfig) -> list[Path]:
    return [repo_root / lane.skills.dir, PACKAGE_SKILLS_DIR]


def find_bundle(skill_id: str, dirs: list[Path]) -> Path | None:
    return next((d / skill_id for d in dirs if (d / skill_id).is_dir()), None)


def _hash_dir(folder: Path) -> str:
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        entries.append(f"{rel}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def load_bundle(skill_id: str, dirs: list[Path]) -> SkillBundle:
    folder = find_bundle(skill_id, dirs)
    if folder is None:
        shown = ", ".join(os.fspath(d) for d in dirs)
        raise WaveError(
            f'Missing skill bundle "{skill_id}" (looked in {shown})',
            fix=f"create {skill_id}/ with skill.json and SKILL.md",
        )
    manifest_path = folder / "skill.json"
    try:
        raw = manifest_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WaveError(f"skill manifest not found for {skill_id}", path=manifest_path) from None
    try:
        manifest = SkillManifest.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise WaveError(f"Invalid skill manifest JSON: {str(exc).splitlines()[0]}", path=manifest_path) from None
    if manifest.id != skill_id:
        raise WaveError(
            f'Skill manifest id mismatch: "{manifest.id}" in the bundle dir {skill_id}/', path=manifest_path
        )
    try:
        instructions = (folder / "SKILL.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WaveError(f"Missing SKILL.md in skill bundle {skill_id}", path=folder) from None
    adapters = {}
    for runtime in RUNTIMES:
        adapter = folder / "adapters" / f"{runtime}.md"
        if adapter.is_file():
            adapters[runtime] = adapter.read_text(encoding="utf-8")
    return SkillBundle(
        manifest=manifest, path=folder, instructions=instructions, adapters=adapters, bundle_hash=_hash_dir(folder)
    )


def default_deploy_kind(wave: Wave) -> str | None:
    envs = wave.deploy_environments
    if not envs:
        return None
    return next((e.kind for e in envs if e.is_default), envs[0].kind)


def resolve_skill_ids(lane: LaneConfig, wave: Wave, agent: Agent, role: str, executor_id: str) -> list[str]:
    config = lane.skills
    ids = [*config.base, *config.by_role.get(role, []), *config.by_runtime.get(executor_id, [])]
    kind = default_deploy_kind(wave)
    if kind:
        ids += config.by_deploy_kind.get(kind, [])
    ids += agent.skills
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class ResolvedSkills:
    bundles: list[SkillBundle]
    prompt_text: str

    @property
    def ids(self) -> list[str]:
        return [b.id for b in self.bundles]

    @property
    def prompt_hash(self) -> str:
        return hashlib.sha256(self.prompt_text.encode()).hexdigest() if self.prompt_text else ""


def resolve_skills(
    repo_root: Path, lane: LaneConfig, wave: Wave, agent: Agent, role: str, executor_id: str
) -> ResolvedSkills:
    """The agent's bundles and the prompt text they add (empty when it has none); a bad bundle raises."""
    dirs = skill_dirs(repo_root, lane)
    bundles = [load_bundle(i, dirs) for i in resolve_skill_ids(lane, wave, agent, role, executor_id)]
    if not bundles:
        return ResolvedSkills([], "")
    text = render("skills.md.j2", bundles=bundles, runtime=executor_id, repo_root=repo_root, relpath=_rel)
    return ResolvedSkills(bundles, text.strip() + "\n")


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else os.fspath(path)

"""Skill bundles: reusable guidance packs projected into agent prompts.

A bundle is ``<skills dir>/<id>/`` with ``skill.json`` (:class:`SkillManifest`), ``SKILL.md`` and optional
``adapters/<runtime>.md``. Bundles are looked up in the lane's ``skills.dir`` first, then in the starter
bundles shipped with pytest-wave (``skills/`` next to the package).

Per agent the ids are: ``skills.base``, then ``byRole[role]``, ``byRuntime[executor]``,
``byDeployKind[kind of the wave's default deploy environment]``, then the agent's ``### Skills``; first
seen wins on duplicates. A bundle whose ``skill.json`` lists ``runtimes`` applies only to those runtimes;
for any other runtime it is left out (and ``skills.resolved.md`` says so).

Projection (``spec/skills-context7.md``): every runtime gets the skill text in its task prompt; on top of
that claude gets it appended to its system prompt file (and each bundle dir as ``--add-dir``), codex gets
each bundle dir as ``--add-dir``, opencode gets it as an ``instructions`` file of its config. Each agent's
overlay folder holds ``skills.resolved.md`` (which bundles, and why), ``skills.metadata.json`` and
``<runtime>-skills.txt`` (the skill text).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    # The runtimes the bundle applies to; None: every runtime.
    runtimes: list[str] | None = Field(None)

    @model_validator(mode="after")
    def _has_text(self) -> SkillManifest:
        if not SKILL_ID.match(self.id):
            raise ValueError(f'"{self.id}" is not a valid skill id')
        if not (self.description or self.summary):
            raise ValueError("a skill needs a description or a summary")
        unknown = [r for r in self.runtimes or [] if r not in RUNTIMES]
        if unknown:
            raise ValueError(f"unsupported runtime {unknown[0]!r} in runtimes (use: {', '.join(RUNTIMES)})")
        return self

    def applies_to(self, runtime: str) -> bool:
        return self.runtimes is None or runtime in self.runtimes

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
    if not SKILL_ID.match(skill_id):
        return None  # "../x" from a wave file must not reach a folder outside the skill dirs
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
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        raise WaveError(
            f"Invalid skill manifest JSON: {detail.removeprefix('Value error, ')}",
            path=manifest_path,
            fix="see skills/wave-core/skill.json for the shape",
        ) from None
    except ValueError as exc:
        raise WaveError(f"Invalid skill manifest JSON: {str(exc).splitlines()[0]}", path=manifest_path) from None
    if manifest.id != skill_id:
        raise WaveError(
            f'Skill manifest id mismatch: "{manifest.id}" in the bundle dir {skill_id}/',
            path=manifest_path,
            fix=f'set "id": "{skill_id}" or rename the folder',
        )
    try:
        instructions = (folder / "SKILL.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WaveError(f"Missing SKILL.md in skill bundle {skill_id}", path=folder) from None
    adapters = {}
    adapter_dir = folder / "adapters"
    for adapter in sorted(adapter_dir.glob("*.md")) if adapter_dir.is_dir() else []:
        runtime = adapter.stem
        if runtime not in RUNTIMES:
            raise WaveError(
                f"skill bundle {skill_id} has an adapter for unsupported runtime {runtime!r}",
                path=adapter,
                fix=f"name adapters after a runtime: {', '.join(RUNTIMES)}",
            )
        if not manifest.applies_to(runtime):
            raise WaveError(
                f"skill bundle {skill_id} has a {runtime} adapter but skill.json runtimes excludes {runtime}",
                path=adapter,
                fix=f'add "{runtime}" to runtimes in skill.json or remove the adapter',
            )
        adapters[runtime] = adapter.read_text(encoding="utf-8")
    return SkillBundle(
        manifest=manifest, path=folder, instructions=instructions, adapters=adapters, bundle_hash=_hash_dir(folder)
    )


def default_deploy_kind(wave: Wave) -> str | None:
    envs = wave.deploy_environments
    if not envs:
        return None
    return next((e.kind for e in envs if e.is_default), envs[0].kind)


def skill_sources(lane: LaneConfig, wave: Wave, agent: Agent, role: str, executor_id: str) -> dict[str, list[str]]:
    """Skill id -> why it resolved (``base``, ``role implementation``, ...), in resolution order."""
    config = lane.skills
    role_key = next((key for key in lane.roles.role_keys(agent.id, role) if key in config.by_role), role)
    layers: list[tuple[str, list[str]]] = [
        ("base", config.base),
        (f"role {role_key}", config.by_role.get(role_key, [])),
        (f"runtime {executor_id}", config.by_runtime.get(executor_id, [])),
    ]
    kind = default_deploy_kind(wave)
    if kind:
        layers.append((f"deploy kind {kind}", config.by_deploy_kind.get(kind, [])))
    layers.append(("explicit (### Skills)", agent.skills))
    sources: dict[str, list[str]] = {}
    for why, ids in layers:
        for skill_id in ids:
            reasons = sources.setdefault(skill_id, [])
            if why not in reasons:
                reasons.append(why)
    return sources


def resolve_skill_ids(lane: LaneConfig, wave: Wave, agent: Agent, role: str, executor_id: str) -> list[str]:
    return list(skill_sources(lane, wave, agent, role, executor_id))


@dataclass(frozen=True)
class ResolvedSkills:
    bundles: list[SkillBundle]
    prompt_text: str
    runtime: str = "local"
    role: str = ""
    deploy_kind: str | None = None
    reasons: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # id -> why it was left out

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
    sources = skill_sources(lane, wave, agent, role, executor_id)
    bundles: list[SkillBundle] = []
    skipped: dict[str, str] = {}
    for skill_id in sources:
        bundle = load_bundle(skill_id, dirs)
        if bundle.manifest.applies_to(executor_id):
            bundles.append(bundle)
        else:
            skipped[skill_id] = f"for runtimes {', '.join(bundle.manifest.runtimes or [])} only"
    text = ""
    if bundles:
        rendered = render("skills.md.j2", bundles=bundles, runtime=executor_id, repo_root=repo_root, relpath=_rel)
        text = rendered.strip() + "\n"
    return ResolvedSkills(
        bundles=bundles,
        prompt_text=text,
        runtime=executor_id,
        role=role,
        deploy_kind=default_deploy_kind(wave),
        reasons={i: sources[i] for i in (b.id for b in bundles)},
        skipped=skipped,
    )


RESOLVED_FILE = "skills.resolved.md"
METADATA_FILE = "skills.metadata.json"


def runtime_file(runtime: str) -> str:
    """The overlay file holding the skill text for ``runtime`` (``claude-skills.txt``, ...)."""
    return f"{runtime}-skills.txt"


def overlay_files(skills: ResolvedSkills, repo_root: Path) -> dict[str, str]:
    """The skill artifacts of one agent's overlay folder: ``skills.resolved.md`` (always: it says which
    bundles resolved and why, or that none did), ``skills.metadata.json`` and ``<runtime>-skills.txt``."""
    files = {
        RESOLVED_FILE: render("skills-resolved.md.j2", skills=skills, repo_root=repo_root, relpath=_rel),
        METADATA_FILE: json.dumps(
            {
                "ids": skills.ids,
                "role": skills.role,
                "runtime": skills.runtime,
                "deployKind": skills.deploy_kind,
                "promptHash": skills.prompt_hash or None,
                "bundles": [
                    {
                        "id": b.id,
                        "title": b.manifest.title,
                        "path": _rel(b.path, repo_root),
                        "bundleHash": b.bundle_hash,
                        "reasons": skills.reasons.get(b.id, []),
                        "adapter": skills.runtime in b.adapters,
                    }
                    for b in skills.bundles
                ],
                "skipped": skills.skipped,
            },
            indent=2,
        )
        + "\n",
    }
    if skills.prompt_text:
        files[runtime_file(skills.runtime)] = skills.prompt_text
    return files


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else os.fspath(path)

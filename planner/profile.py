"""The project profile (``.wave/project-profile.json``): what the planner remembers about the project."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from planner.common import Repo, now, write_all
from planner.models import DEPLOY_KINDS, TEMPLATES, ProfileDeployEnvironment, ProjectProfile
from planner.prompter import Prompter
from planner.rendering import render
from pytest_wave.errors import WaveError

PROFILE_PATH = ".wave/project-profile.json"


def profile_path(root: Path) -> Path:
    return root / PROFILE_PATH


def load_profile(root: Path) -> ProjectProfile | None:
    """The saved profile, ``None`` when there is none; a corrupt one is a one-line error."""
    path = profile_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WaveError(f"cannot read the project profile: {exc.strerror}", path=PROFILE_PATH) from None
    try:
        return ProjectProfile.model_validate(json.loads(text))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            detail = f"{where}: {first['msg']}"
        else:
            detail = f"not valid JSON ({exc})"
        raise WaveError(
            f"corrupt project profile: {detail}",
            path=PROFILE_PATH,
            # Never overwritten silently: it may hold hand edits worth keeping.
            fix="fix the file, or delete it and run 'wave project setup' again",
        ) from None


def save_profile(root: Path, profile: ProjectProfile) -> None:
    write_all({profile_path(root): profile.model_dump_json(by_alias=True, indent=2) + "\n"})


@dataclass
class SetupAnswers:
    """Answers given as flags (``None``: ask)."""

    new_project: bool | None = None
    oversight_mode: str | None = None
    terminal_surface: str | None = None
    template: str | None = None
    lane: str | None = None
    deploy_envs: list[ProfileDeployEnvironment] | None = None
    env_count: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_env_flag(text: str) -> ProfileDeployEnvironment:
    """``id:kind[:default][:name=...][:notes=...]`` -> an environment (``--deploy-env``)."""
    parts = [part.strip() for part in text.split(":")]
    if len(parts) < 2 or not parts[0]:
        raise WaveError(f'--deploy-env "{text}" is malformed', fix="write --deploy-env ID:KIND[:default][:name=NAME]")
    env_id, kind, *rest = parts
    if kind not in DEPLOY_KINDS:
        raise WaveError(f'--deploy-env "{text}": unknown kind "{kind}"', fix=f"use one of: {', '.join(DEPLOY_KINDS)}")
    name, notes, is_default = env_id, None, False
    for part in rest:
        if part == "default":
            is_default = True
        elif part.startswith("name="):
            name = part[5:]
        elif part.startswith("notes="):
            notes = part[6:] or None
        else:
            raise WaveError(f'--deploy-env "{text}": unknown field "{part}"', fix="use default, name=..., notes=...")
    try:
        return ProfileDeployEnvironment(id=env_id, name=name, kind=kind, is_default=is_default, notes=notes)
    except ValidationError as exc:
        raise WaveError(f'--deploy-env "{text}": {exc.errors()[0]["msg"]}') from None


def run_setup(repo: Repo, prompter: Prompter, answers: SetupAnswers) -> ProjectProfile:
    """Ask the setup questions (flags answer them ahead) and return the profile (not yet saved)."""
    existing = load_profile(repo.root)
    lanes = repo.lanes()
    base = existing.planner_defaults if existing else None
    new_project = prompter.yes_no(
        "Treat this repository as a new project?",
        existing.new_project if existing else False,
        answers.new_project,
    )
    oversight = prompter.choice(
        "Default execution posture",
        ("oversight", "dark-factory"),
        existing.default_oversight_mode if existing else "oversight",
        answers.oversight_mode,
    )
    surface = prompter.choice(
        "Default terminal surface",
        ("vscode", "tmux"),
        existing.default_terminal_surface if existing else "vscode",
        "vscode" if answers.terminal_surface == "none" else answers.terminal_surface,
    )
    template = prompter.choice(
        "Default draft template", TEMPLATES, base.template if base else "implementation", answers.template
    )
    lane_default = base.lane if base and base.lane in lanes else repo.config.default_lane
    lane = prompter.choice("Default draft lane", lanes, lane_default, answers.lane)
    if answers.deploy_envs is not None:
        envs = answers.deploy_envs
    else:
        previous = existing.deploy_environments if existing else []
        count = prompter.integer(
            "How many deploy environments should the planner remember?", len(previous), 0, answers.env_count
        )
        envs = []
        for index in range(count):
            old = previous[index] if index < len(previous) else None
            env_id = prompter.text(
                f"Deploy environment {index + 1} id",
                old.id if old else ("default" if index == 0 else f"env-{index + 1}"),
            )
            name = prompter.text(f"Deploy environment {env_id} name", old.name if old else env_id)
            kind = prompter.choice(f"Deploy environment {env_id} provider", DEPLOY_KINDS, old.kind if old else "custom")
            is_default = prompter.yes_no(f"Mark {env_id} as the default?", old.is_default if old else index == 0)
            notes = prompter.text(f"Deploy environment {env_id} notes", (old.notes or "") if old else "")
            try:
                envs.append(
                    ProfileDeployEnvironment(
                        id=env_id, name=name, kind=kind, is_default=is_default, notes=notes or None
                    )
                )
            except ValidationError as exc:
                raise WaveError(f"deploy environment {env_id!r}: {exc.errors()[0]['msg']}") from None
    stamp = now()
    data = {
        "initializedAt": existing.initialized_at if existing else stamp,
        "updatedAt": stamp,
        "newProject": new_project,
        "defaultOversightMode": oversight,
        "defaultTerminalSurface": surface,
        "deployEnvironments": [env.model_dump(by_alias=True) for env in envs],
        "plannerDefaults": {"template": template, "lane": lane},
        "source": {"projectName": repo.config.project_name, "configPath": repo.config_path()},
    }
    try:
        return ProjectProfile.model_validate(data)
    except ValidationError as exc:
        raise WaveError(f"invalid project profile: {exc.errors()[0]['msg']}") from None


def show_profile(profile: ProjectProfile, root: Path) -> str:
    return render("profile.txt.j2", profile=profile, path=PROFILE_PATH, root=root)

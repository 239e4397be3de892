"""``wave init`` and ``wave upgrade``: seed a repository for pytest-wave, and refresh what it seeded.

Init never overwrites a file: each starter file is written only where nothing exists, and the report
says which it kept. Where files go follows the repository's config (written first on a fresh init,
read as it is with ``--adopt``), so an adopted Node.js-tool layout gets its missing pieces in its own
places. Every file init writes is recorded with its template and hash in ``.wave/install-state.json``;
``wave upgrade`` re-renders those whose bytes still match (the user did not edit them) and leaves the
rest alone.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from pytest_wave import __version__
from pytest_wave.config import clear_config_cache, load_config, resolve_lane
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.errors import WaveError
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.install import InstallEvent, InstallState, StarterFile
from pytest_wave.model.run_state import now_iso
from pytest_wave.rendering import render

STATE_PATH = Path(".wave") / "install-state.json"
ROLE_TEMPLATES = {
    "evaluator": "init/wave-evaluator-role.md.j2",
    "integration": "init/wave-integration-role.md.j2",
    "documentation": "init/wave-documentation-role.md.j2",
}
PLAN_TEMPLATES = {
    "current-state.md": "init/current-state.md.j2",
    "master-plan.md": "init/master-plan.md.j2",
    "migration.md": "init/migration.md.j2",
}
# Files whose presence means "a Node.js-tool (or earlier) layout is here": init then needs --adopt.
NODE_MARKERS = ("wave.config.json", "docs/agents/wave-evaluator-role.md", "docs/plans/waves")


@dataclass
class InitReport:
    mode: str
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    config_note: str | None = None
    state_path: str = str(STATE_PATH)

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "written": self.written, "kept": self.kept, "statePath": self.state_path}


@dataclass
class UpgradeReport:
    refreshed: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"refreshed": self.refreshed, "current": self.current, "edited": self.edited, "missing": self.missing}


@dataclass(frozen=True)
class Starter:
    path: str  # repository-relative POSIX path
    template: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def load_state(root: Path) -> InstallState | None:
    path = root / STATE_PATH
    try:
        return InstallState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        raise WaveError(
            f"cannot read install state: {str(exc).splitlines()[0]}",
            path=path,
            fix="restore it from version control, or delete it and run `wave init --adopt`",
        ) from None


def save_state(root: Path, state: InstallState) -> None:
    write_text_atomic(root / STATE_PATH, state.model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n")


# --------------------------------------------------------------------------- what to write


def starters(root: Path, lane: LaneConfig) -> list[Starter]:
    """Every starter file for this lane's layout (role prompts, plan docs, matrix, starter wave)."""
    roles = lane.roles
    found = [
        Starter(roles.evaluator_role_prompt_path, ROLE_TEMPLATES["evaluator"]),
        Starter(roles.integration_role_prompt_path, ROLE_TEMPLATES["integration"]),
        Starter(roles.documentation_role_prompt_path, ROLE_TEMPLATES["documentation"]),
    ]
    for doc in lane.shared_plan_docs:
        template = PLAN_TEMPLATES.get(PurePosixPath(doc).name)
        if template is not None:
            found.append(Starter(doc, template))
    found.append(Starter(lane.component_matrix_json_path, "init/component-cutover-matrix.json.j2"))
    found.append(Starter(lane.component_matrix_doc_path, "init/component-cutover-matrix.md.j2"))
    waves = root / lane.waves_dir
    has_waves = waves.is_dir() and any(waves.glob("wave-*.md"))
    starter_wave = f"{lane.waves_dir}/wave-0.md"
    if not has_waves or (root / starter_wave).exists():
        found.append(Starter(starter_wave, "init/wave-0.md.j2"))
    found.append(Starter(".gitignore", "init/gitignore.j2"))
    return found


def render_starter(root: Path, lane: LaneConfig, template: str) -> str:
    shared = list(lane.shared_plan_docs)
    return render(
        template,
        project=lane.project_name if lane.project_name != "Wave Orchestrator" else root.name,
        waves_dir=lane.waves_dir,
        references=list(lane.validation.required_prompt_references),
        evaluator_prompt=lane.roles.evaluator_role_prompt_path,
        integration_prompt=lane.roles.integration_role_prompt_path,
        documentation_prompt=lane.roles.documentation_role_prompt_path,
        shared_docs=shared,
        status_doc=shared[0] if shared else "docs/plans/current-state.md",
        matrix_json=lane.component_matrix_json_path,
        matrix_doc=lane.component_matrix_doc_path,
    )


# --------------------------------------------------------------------------- init


def _has_tool_wave(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WaveError(
            f"cannot read it: {exc}", path=pyproject, fix="fix the TOML, then run `wave init` again"
        ) from None
    tool = data.get("tool")
    return isinstance(tool, dict) and "wave" in tool


def _seed_config(root: Path, config_format: str, report: InitReport) -> None:
    json_path = root / "wave.config.json"
    pyproject = root / "pyproject.toml"
    if json_path.exists():
        report.kept.append("wave.config.json")
        return
    if pyproject.exists() and _has_tool_wave(pyproject):
        report.kept.append("pyproject.toml [tool.wave]")
        return
    project = root.name
    if config_format == "json":
        write_text_atomic(json_path, render("init/wave.config.json.j2", project=project))
        report.written.append("wave.config.json")
        return
    block = render("init/tool-wave.toml.j2", project=project)
    if pyproject.exists():
        existing = pyproject.read_text(encoding="utf-8")
        separator = "" if existing.endswith("\n") or not existing else "\n"
        write_text_atomic(pyproject, existing + separator + block)
        report.written.append("pyproject.toml [tool.wave] (added to the existing file)")
    else:
        write_text_atomic(pyproject, block.lstrip("\n"))
        report.written.append("pyproject.toml [tool.wave]")


def init(root: Path, *, adopt: bool = False, config_format: str = "toml") -> InitReport:
    root = root.resolve()
    if not root.is_dir():
        raise WaveError("not a directory", path=root, fix="pass the repository root with --repo-root")
    state = load_state(root)
    if state is None and not adopt:
        found = [marker for marker in NODE_MARKERS if (root / marker).exists()]
        if found:
            raise WaveError(
                f"an existing wave layout is here ({', '.join(found)})",
                path=root,
                fix="run `wave init --adopt` to keep it and write only what is missing",
            )
    mode = state.init_mode if state is not None else ("adopt-existing" if adopt else "fresh")
    report = InitReport(mode=mode)
    _seed_config(root, config_format, report)
    clear_config_cache()
    lane = resolve_lane(load_config(root), None)
    new_state = state or InstallState(installed_version=__version__, initialized_at=now_iso(), init_mode=mode)
    for starter in starters(root, lane):
        target = root / starter.path
        if target.exists():
            report.kept.append(starter.path)
            if state is None and adopt:
                new_state.adopted_files.append(starter.path)
            continue
        text = render_starter(root, lane, starter.template)
        write_text_atomic(target, text)
        report.written.append(starter.path)
        new_state.seeded_files.append(starter.path)
        new_state.starter_files[starter.path] = StarterFile(template=starter.template, sha256=_sha(text))
    if state is None or report.written:
        if state is None:
            action = "init-adopt-existing" if adopt else "init-fresh"
            new_state.history.append(InstallEvent(at=now_iso(), action=action, version=__version__))
        save_state(root, new_state)
        if state is None:
            report.written.append(str(STATE_PATH))
    return report


# --------------------------------------------------------------------------- upgrade


def upgrade(root: Path) -> UpgradeReport:
    root = root.resolve()
    state = load_state(root)
    if state is None:
        raise WaveError("this repository was not set up by `wave init`", path=root / STATE_PATH, fix="run `wave init`")
    clear_config_cache()
    lane = resolve_lane(load_config(root), None)
    report = UpgradeReport()
    for rel, record in sorted(state.starter_files.items()):
        target = root / rel
        now = _file_sha(target)
        if now is None:
            report.missing.append(rel)
            continue
        if now != record.sha256:
            report.edited.append(rel)
            continue
        try:
            text = render_starter(root, lane, record.template)
        except Exception as exc:  # a template this version no longer ships
            raise WaveError(f"cannot render {record.template}: {exc}", path=root / STATE_PATH) from None
        if _sha(text) == now:
            report.current.append(rel)
            continue
        write_text_atomic(target, text)
        state.starter_files[rel] = StarterFile(template=record.template, sha256=_sha(text))
        report.refreshed.append(rel)
    previous = state.installed_version
    state.installed_version = __version__
    state.last_upgrade_at = now_iso()
    state.history.append(
        InstallEvent(
            at=state.last_upgrade_at,
            action="upgrade",
            version=__version__,
            report=report.as_dict(),
            fromVersion=previous,  # an extra field, in the Node.js tool's shape
        )
    )
    save_state(root, state)
    return report


def json_report(data: dict[str, object] | dict[str, list[str]]) -> str:
    return json.dumps(data, indent=2)

"""Planning an ad-hoc run with the configured planner runtime: an agent that writes a JSON draft spec.

The planner runtime is the lane's executor profile named ``planner`` (``executors.profiles.planner``,
with an ``id`` of ``claude``, ``codex`` or ``opencode`` and optionally a ``model`` and runtime settings),
else the profile a Node.js 0.9 config names in ``planner.agentic.executorProfile``.
It is launched exactly like a wave agent: the executor builds the launch (argv, env, overlay files), the
engine's :func:`~pytest_wave.engine.process.run_process` runs it with its log, and the prompt asks for one
file, ``<run folder>/planner/draft-spec.json``. What it wrote is only a proposal: the caller validates it
like any ``wave draft`` spec and falls back to the deterministic template when it is missing or invalid.

Everything the planner run leaves (prompt, task, overlay files, launch preview, log, the spec) stays in
``<run folder>/planner/`` so a rejected plan can be inspected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from planner.common import Repo
from planner.draft import spec_error
from planner.models import DraftSpec
from planner.rendering import render
from pytest_wave.engine import baseline
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.engine.process import run_process
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import Executor, find_command
from pytest_wave.executors.common import AgentLaunchRequest
from pytest_wave.executors.redact import Redactor, redact_env
from pytest_wave.executors.registry import builtin_executor
from pytest_wave.model.config import ExecutorProfile, LaneConfig
from pytest_wave.model.task import AgentTask

PLANNER_PROFILE = "planner"
PLANNER_AGENT = "planner"
SPEC_NAME = "draft-spec.json"
DEFAULT_TIMEOUT = 600.0  # seconds; the profile's budget.minutes lowers or raises it

ExecutorLookup = Callable[[str], Executor | None]


class PlannerUnavailable(Exception):
    """No planner runtime can run (none configured, no model, binary missing): the template plans."""


class PlannerFailed(Exception):
    """The planner ran but left no usable spec: the template plans instead."""


@dataclass(frozen=True)
class PlannerRuntime:
    executor_id: str
    profile: ExecutorProfile
    impl: Executor


def configured_planner(lane: LaneConfig, lookup: ExecutorLookup = builtin_executor) -> PlannerRuntime:
    """The lane's planner runtime, or :class:`PlannerUnavailable` saying why there is none."""
    profile = lane.executors.profiles.get(PLANNER_PROFILE)
    named = lane.planner.agentic.executor_profile  # Node.js 0.9: planner.agentic.executorProfile
    if profile is None and named:
        profile = lane.executors.profiles.get(named)
        if profile is None:
            raise PlannerUnavailable(
                f"planner.agentic.executorProfile names '{named}', which is not in executors.profiles"
            )
    if profile is None or not profile.id:
        raise PlannerUnavailable(
            f"no planner runtime configured (executors.profiles.{PLANNER_PROFILE}.id, "
            "or planner.agentic.executorProfile)"
        )
    if profile.id == "local":
        raise PlannerUnavailable("the planner profile names the local runtime, which has no model")
    impl = lookup(profile.id)
    if impl is None:
        raise PlannerUnavailable(f"no executor is registered for the planner runtime '{profile.id}'")
    return PlannerRuntime(executor_id=profile.id, profile=profile, impl=impl)


def run_planner(
    repo: Repo,
    lane: LaneConfig,
    runtime: PlannerRuntime,
    *,
    folder: Path,
    wave_rel: str,
    prompt_context: dict[str, object],
) -> DraftSpec:
    """Launch the planner agent and return the draft spec it wrote (parsed, not yet validated)."""
    planner_dir = folder / "planner"
    spec_path = planner_dir / SPEC_NAME
    spec_rel = os.path.relpath(spec_path, repo.root)
    prompt_path = planner_dir / "planner.prompt.md"
    log_path = planner_dir / "planner.log"
    task = AgentTask(
        wave=None,
        wave_path=wave_rel,
        lane=lane.name,
        agent_id=PLANNER_AGENT,
        title="Plan an ad-hoc run",
        role="research",
        executor_id=runtime.executor_id,
        attempt=1,
        repo_root=str(repo.root),
        prompt_path=str(prompt_path),
        log_path=str(log_path),
        owned_paths=[spec_rel],
        deliverables=[spec_rel],
    )
    profile = runtime.profile
    request = AgentLaunchRequest(
        task=task,
        task_path=planner_dir / "task.json",
        prompt_path=prompt_path,
        overlay_dir=planner_dir,
        repo_root=repo.root,
        lane=lane,
        model=profile.model,
        profile=profile,
        budget_turns=profile.budget.turns,
        budget_minutes=profile.budget.minutes,
    )
    try:
        launch = runtime.impl.build_launch(request)
    except WaveError as exc:
        raise PlannerUnavailable(exc.one_line()) from None
    program = launch.argv[0] if launch.argv else ""
    if find_command(program) is None:
        raise PlannerUnavailable(f"the planner runtime '{runtime.executor_id}' needs '{program}', which is not on PATH")
    prompt = render("adhoc-planner.md.j2", repo_root=repo.root, spec_path=spec_rel, **prompt_context)
    redactor = Redactor()
    try:
        planner_dir.mkdir(parents=True, exist_ok=True)
        redactor.write(prompt_path, prompt)
        write_text_atomic(request.task_path, task.model_dump_json(indent=2) + "\n")
        for name, text in launch.overlay_files.items():
            write_text_atomic(planner_dir / name, text)
        preview = {**launch.preview(), "env": redact_env(launch.preview()["env"])}
        redactor.write(planner_dir / "launch-preview.json", json.dumps(preview, indent=2) + "\n")
    except OSError as exc:
        raise PlannerUnavailable(f"cannot write {planner_dir}: {exc.strerror or exc}") from None
    timeout = float(profile.budget.minutes * 60) if profile.budget.minutes else DEFAULT_TIMEOUT
    before = baseline.snapshot(repo.root)  # the planner may write its spec (under .wave/) and nothing else
    try:
        process = run_process(
            launch.argv,
            cwd=launch.cwd,
            log_path=log_path,
            env={**os.environ, "WAVE_LANE": lane.name, "WAVE_AGENT_ID": PLANNER_AGENT, **launch.env},
            timeout=timeout,
            stdin_path=launch.stdin_path,
        )
    except OSError as exc:  # the binary exists but cannot start (permissions, a broken shebang, ...)
        raise PlannerUnavailable(f"cannot start {program}: {exc.strerror or exc}") from None
    redactor.file(log_path)
    stray = baseline.changed(before, baseline.snapshot(repo.root))
    if stray:
        # Not a fallback case: the tree is no longer what the request was planned against.
        raise WaveError(
            f"the {runtime.executor_id} planner runtime changed files outside its spec: {', '.join(stray[:10])}",
            fix="review and revert those changes; a planner may only write its spec",
        )
    if not spec_path.is_file():
        raise PlannerFailed(f"the planner wrote no {spec_rel} ({process.describe()}; log: {_rel(log_path, repo)})")
    try:
        return DraftSpec.model_validate_json(spec_path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise PlannerFailed(f"{spec_rel} is not a valid draft spec: {spec_error(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlannerFailed(f"cannot read {spec_rel}: {exc}") from None


def _rel(path: Path, repo: Repo) -> str:
    return os.path.relpath(path, repo.root)

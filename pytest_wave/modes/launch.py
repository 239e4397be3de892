"""An agent's launch without the launch: its task, prompt, fingerprint and executor spec.

This is what :func:`pytest_wave.engine.agent_run._launch_and_judge` computes before it starts the
process, built from the same functions in the same order, so ``--wave-dry-run`` writes the exact
prompt and launch preview a live attempt would, and ``--wave-gate`` computes the fingerprint a live
attempt would record. Keep the two in step (``tests/traces/test_dry_run.py`` compares them).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wave.engine import isolation
from pytest_wave.engine.agent_run import AttemptSetupError, _skills_and_docs, build_launch, build_task, launch_request
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_model, write_text_atomic
from pytest_wave.engine.prompt import prompt_fingerprint, render_prompt
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import LaunchSpec
from pytest_wave.executors.redact import Redactor, redact_env
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent
from pytest_wave.parse.roles import resolved_prompt


@dataclass
class PreparedLaunch:
    task: AgentTask
    task_path: Path
    prompt_path: Path
    overlay_dir: Path
    prompt_text: str
    fingerprint: str
    spec: LaunchSpec
    preview: dict[str, Any]

    @property
    def preview_path(self) -> Path:
        return self.overlay_dir / "launch-preview.json"

    def files(self) -> list[Path]:
        """Every file :func:`write_launch` writes."""
        overlays = [self.overlay_dir / name for name in sorted(self.spec.overlay_files)]
        return [self.prompt_path, self.task_path, *overlays, self.preview_path]


def offline(ctx: WaveContext) -> WaveContext:
    """The same wave with network prefetches (Context7) disabled, as in a dry run; paths move to dry-run/."""
    return dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, dry_run=True))


def prompt_and_fingerprint(ctx: WaveContext, agent: Agent, task: AgentTask, coordination: str = "") -> tuple[str, str]:
    """The execution prompt and its fingerprint (the coordination text is not part of the fingerprint)."""
    try:
        body = resolved_prompt(agent, ctx.repo_root)
        skills, docs, extra = _skills_and_docs(ctx, agent, task, body)
    except AttemptSetupError as exc:
        raise WaveError(str(exc)) from None
    text = render_prompt(task, body, ctx.roles, coordination=coordination, skills=skills, context7=docs)
    return text, prompt_fingerprint(task, body, extra)


def prepare_launch(
    ctx: WaveContext,
    agent: Agent,
    *,
    run_id: str,
    attempt: int,
    coordination: str = "",
    executor: ResolvedExecutor | None = None,
) -> PreparedLaunch:
    """Task, prompt, fingerprint and launch spec of an attempt; raises :class:`WaveError` when it cannot start."""
    executor = executor or ctx.executor_for(agent)
    impl = ctx.executor_impl(executor.id)
    if impl is None:
        raise WaveError(
            f"no executor is registered for runtime '{executor.id}'",
            fix="run with --wave-executor local, or install the plugin that provides it",
        )
    paths = ctx.paths
    task = build_task(ctx, agent, executor, run_id, attempt)
    root = ctx.repo_root
    if isolation.uses_worktree(ctx, agent):
        # Where a real run would put this agent: its own worktree, under the live state folder (a
        # dry run's paths point at dry-run/). Nothing is created; the launch creates it.
        live = dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, dry_run=False))
        root = isolation.worktree_path(live, agent)
        task = task.model_copy(update={"repo_root": str(root)})
    overlay = paths.overlay_dir(ctx.wave.number, agent.slug)
    text, fingerprint = prompt_and_fingerprint(ctx, agent, task, coordination)
    request = launch_request(ctx, agent, executor, task, overlay=overlay, repo_root=root)
    spec = build_launch(ctx, impl, request)
    return PreparedLaunch(
        task=task,
        task_path=request.task_path,
        prompt_path=request.prompt_path,
        overlay_dir=overlay,
        prompt_text=text,
        fingerprint=fingerprint,
        spec=spec,
        preview={**spec.preview(), "env": redact_env(spec.preview()["env"])},
    )


def write_launch(prepared: PreparedLaunch) -> None:
    """Write the prompt, task, overlay files and launch preview (secrets redacted), as a launch would."""
    redactor = Redactor()
    redactor.write(prepared.prompt_path, prepared.prompt_text)
    write_model(prepared.task_path, prepared.task)
    for name, text in prepared.spec.overlay_files.items():
        write_text_atomic(prepared.overlay_dir / name, text)
    redactor.write(prepared.preview_path, json.dumps(prepared.preview, indent=2) + "\n")

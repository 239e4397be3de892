"""One agent attempt, start to verdict: write its task and prompt, launch it, read the proof, judge.

Everything an attempt writes lives in its own attempt folder, and its result is judged only from
that folder, the repository tree and commands the orchestrator runs: nothing from an earlier
attempt can satisfy a gate.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from pytest_wave.engine import gates, resume
from pytest_wave.engine.cli_shim import with_shim
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import point_link, write_model, write_text_atomic
from pytest_wave.engine.isolation import open_workspace
from pytest_wave.engine.process import run_process
from pytest_wave.engine.prompt import prompt_fingerprint, render_prompt
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.engine.semaphore import slot
from pytest_wave.engine.validation import run_validation
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import Executor, LaunchSpec, find_command
from pytest_wave.executors.budget import check_wave_budget
from pytest_wave.executors.common import AgentLaunchRequest
from pytest_wave.executors.ratelimit import RateLimitPolicy, record_switch, run_with_rate_limits
from pytest_wave.executors.redact import Redactor, redact_env
from pytest_wave.model.result import AgentResult, Check
from pytest_wave.model.status import AgentStatus
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent
from pytest_wave.parse.roles import resolved_prompt
from pytest_wave.skills import overlay_files as skill_overlay_files
from pytest_wave.skills import resolve_skills

ExtraChecks = Callable[[AgentTask], list[Check]]


class AttemptSetupError(Exception):
    """The attempt could not start: carries the one-line reason for the item."""


def _summary(check: Check) -> str:
    return f"{check.name}: expected {check.expected}, found {check.found}"


def build_task(ctx: WaveContext, agent: Agent, executor: ResolvedExecutor, run_id: str, attempt: int) -> AgentTask:
    paths = ctx.paths
    safe = paths.safe(ctx.wave.number, agent.slug)
    attempt_dir = paths.attempt_dir(ctx.wave.number, run_id, attempt)
    role = ctx.role(agent)
    return AgentTask(
        wave=ctx.wave.number,
        wave_path=str(ctx.wave_path),
        lane=ctx.lane.name,
        agent_id=agent.id,
        title=agent.title,
        role=role,
        executor_id=executor.id,
        attempt=attempt,
        repo_root=str(ctx.repo_root),
        prompt_path=str(paths.prompt(safe)),
        log_path=str(attempt_dir / f"{safe}.log"),
        owned_paths=agent.owned,
        deliverables=agent.deliverable_paths,
        components=ctx.owned_components(agent),
        promotions=ctx.wave.promoted,
        exit_contract=agent.exit_contract if role not in ("evaluator", "integration", "documentation") else None,
        evaluator_report_path=ctx.evaluator_report(agent) if role == "evaluator" else None,
        component_matrix_json_path=ctx.lane.component_matrix_json_path,
        validation_commands=[v.command for v in agent.validation],
    )


def run_agent_attempt(
    ctx: WaveContext,
    agent: Agent,
    *,
    run_id: str,
    attempt: int,
    executor: ResolvedExecutor | None = None,
    extra_checks: ExtraChecks | None = None,
) -> AgentResult:
    """Run one attempt of ``agent`` and return its judged result (also written to disk).

    A try that fails on a rate limit or overload is relaunched inside the attempt (backoff, then
    the agent's fallbacks); see :mod:`pytest_wave.executors.ratelimit`.
    """
    executor = executor or ctx.executor_for(agent)
    result = run_with_rate_limits(
        executor,
        lambda current: _try_once(ctx, agent, current, run_id, attempt, extra_checks),
        policy=RateLimitPolicy.from_env(),
        available=lambda candidate: _runnable(ctx, candidate),
        on_switch=lambda switch, given_up: record_switch(ctx, switch, given_up),
    )
    result = resume.seal(ctx, agent, result)  # proof hashes: what a later run checks before reusing it
    _store(ctx, result)
    _coordinate(ctx, result)
    return result


def _coordinate(ctx: WaveContext, result: AgentResult) -> None:
    """The result becomes coordination records (its seed request closes when its proof landed)."""
    from pytest_wave.coordination import engine as coordination

    try:
        coordination.record_result(ctx, result)
    except (OSError, ValueError, WaveError) as exc:
        # The verdict stands; only the blackboard missed it, and the next refresh retries the seed.
        result.reason = (result.reason or "") + f" (coordination not updated: {exc})"


def _coordination_section(ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> str:
    """The agent's compiled inbox and the shared summary, for its prompt."""
    from pytest_wave.coordination import engine as coordination

    try:
        return coordination.prompt_section(ctx, agent, run_id, attempt)
    except (OSError, ValueError, WaveError) as exc:
        return f"Coordination state unavailable this attempt: {exc}"


def launch_request(
    ctx: WaveContext,
    agent: Agent,
    executor: ResolvedExecutor,
    task: AgentTask,
    *,
    overlay: Path,
    repo_root: Path,
    with_skills: bool = True,
) -> AgentLaunchRequest:
    """What a runtime needs to build this agent's launch: the same for a run, a dry run and doctor."""
    skills = None
    if with_skills:
        skills = resolve_skills(ctx.repo_root, ctx.lane, ctx.wave, agent, task.role, task.executor_id)
    return AgentLaunchRequest(
        task=task,
        task_path=overlay / "task.json",
        prompt_path=Path(task.prompt_path),
        overlay_dir=overlay,
        repo_root=repo_root,
        lane=ctx.lane,
        model=executor.model,
        agent_executor=agent.executor,
        profile=ctx.lane.executors.profiles.get(executor.profile) if executor.profile else None,
        budget_turns=executor.budget_turns,
        budget_minutes=executor.budget_minutes,
        skills=skills,
    )


def build_launch(ctx: WaveContext, impl: Executor, request: AgentLaunchRequest) -> LaunchSpec:
    """The runtime's launch spec, with the resolved skills' overlay files added."""
    spec = impl.build_launch(request)
    if request.skills is not None:
        spec.overlay_files = {**skill_overlay_files(request.skills, ctx.repo_root), **spec.overlay_files}
    return spec


def fingerprint_now(ctx: WaveContext, agent: Agent, executor: ResolvedExecutor) -> str:
    """The prompt fingerprint an attempt of ``agent`` would have now (the same steps as a launch, but
    Context7 is only selected, not fetched: the fingerprint covers the selection, not the docs)."""
    task = build_task(ctx, agent, executor, "fingerprint", 1)
    try:
        body = resolved_prompt(agent, ctx.repo_root)
    except WaveError as exc:
        raise AttemptSetupError(exc.one_line()) from None
    _, _, extra = _skills_and_docs(ctx, agent, task, body, fetch=False)
    return prompt_fingerprint(task, body, extra)


def _skills_and_docs(
    ctx: WaveContext, agent: Agent, task: AgentTask, prompt_body: str, *, fetch: bool = True
) -> tuple[str, str, dict[str, str]]:
    """The agent's skill text and Context7 docs for its prompt, and their hashes for the fingerprint.

    A missing or broken skill bundle stops the attempt (it is a plan error); Context7 never does.
    ``fetch=False`` selects the Context7 bundle without fetching it (no network, no notice)."""
    from pytest_wave import context7
    from pytest_wave.skills import resolve_skills

    try:
        skills = resolve_skills(ctx.repo_root, ctx.lane, ctx.wave, agent, task.role, task.executor_id)
    except WaveError as exc:
        raise AttemptSetupError(exc.one_line()) from None
    docs = ""
    selection_hash = ""
    try:
        index = context7.load_bundle_index(ctx.repo_root / ctx.lane.context7_bundle_index_path, strict=False)
        wave_c7 = ctx.wave.context7_defaults
        selection = context7.select(
            index or context7.NONE_INDEX,
            lane=ctx.lane.name,
            agent_bundle=agent.context7.bundle if agent.context7 else None,
            agent_query=agent.context7.query if agent.context7 else None,
            wave_bundle=wave_c7.bundle if wave_c7 else None,
            wave_query=wave_c7.query if wave_c7 else None,
            prompt=agent.prompt,
            title=agent.title,
        )
        selection_hash = selection.selection_hash if selection.bundle_id != "none" else ""
        if not fetch:
            return skills.prompt_text, "", {"skills": skills.prompt_hash, "context7": selection_hash}
        cache_dir = ctx.paths.state_dir / "context7-cache"
        fetched = context7.prefetch(selection, cache_dir, disabled=ctx.options.dry_run)
        context7.record_notice(cache_dir, agent.id, fetched)  # the controller says it once per session
        docs = fetched.prompt_block()
    except WaveError as exc:
        docs = f"Context7 docs not attached ({exc.message})."
    return skills.prompt_text, docs, {"skills": skills.prompt_hash, "context7": selection_hash}


def _runnable(ctx: WaveContext, executor_id: str) -> bool:
    impl = ctx.executor_impl(executor_id)
    return impl is not None and find_command(impl.command(ctx.lane)) is not None


def _try_once(
    ctx: WaveContext,
    agent: Agent,
    executor: ResolvedExecutor,
    run_id: str,
    attempt: int,
    extra_checks: ExtraChecks | None,
) -> AgentResult:
    task = build_task(ctx, agent, executor, run_id, attempt)
    result = AgentResult(
        wave=task.wave,
        wave_path=task.wave_path,
        lane=task.lane,
        run_id=run_id,
        attempt=attempt,
        agent_id=agent.id,
        title=agent.title,
        role=task.role,
        executor_id=executor.id,
        status="failed",
        started_at=time.time(),
        prompt_path=task.prompt_path,
        log_path=task.log_path,
    )
    try:
        check_wave_budget(ctx.paths.run_dir(ctx.wave.number, run_id))
        result = _launch_and_judge(ctx, agent, task, executor, result, extra_checks)
    except (AttemptSetupError, WaveError) as exc:
        message = exc.one_line() if isinstance(exc, WaveError) else str(exc)
        result = result.model_copy(update={"status": "failed", "reason": message, "finished_at": time.time()})
    return result


def _store(ctx: WaveContext, result: AgentResult) -> None:
    target = ctx.paths.attempt_dir(result.wave, result.run_id, result.attempt) / f"{result.agent_id}.json"
    try:
        write_model(target, result)
    except OSError as exc:
        # The verdict itself still reaches the report; only the on-disk copy is missing.
        result.reason = (result.reason or "") + f" (could not record result: {exc.strerror})"


def _launch_and_judge(
    ctx: WaveContext,
    agent: Agent,
    task: AgentTask,
    executor: ResolvedExecutor,
    result: AgentResult,
    extra_checks: ExtraChecks | None,
) -> AgentResult:
    impl = ctx.executor_impl(executor.id)
    if impl is None:
        raise AttemptSetupError(
            f"no executor is registered for runtime '{executor.id}' "
            "(fix: run with --wave-executor local, or install the plugin that provides it)"
        )
    command = impl.command(ctx.lane)
    if find_command(command) is None:
        raise AttemptSetupError(
            f"executor '{executor.id}' needs '{command}', which is not on PATH "
            f"(fix: install it, or run with --wave-executor local)"
        )
    try:
        prompt_body = resolved_prompt(agent, ctx.repo_root)
        workspace = open_workspace(ctx, agent, result.run_id, task.attempt)  # the tree, or its own worktree
    except WaveError as exc:
        raise AttemptSetupError(exc.one_line()) from None
    task = task.model_copy(update={"repo_root": str(workspace.root)})
    paths = ctx.paths
    safe = paths.safe(ctx.wave.number, agent.slug)
    overlay = paths.overlay_dir(ctx.wave.number, agent.slug)
    task_path = overlay / "task.json"
    prompt_path = Path(task.prompt_path)
    log_path = Path(task.log_path)
    skills_text, context7_text, extra_hashes = _skills_and_docs(ctx, agent, task, prompt_body)
    prompt_text = render_prompt(
        task,
        prompt_body,
        ctx.roles,
        coordination=_coordination_section(ctx, agent, result.run_id, task.attempt),
        skills=skills_text,
        context7=context7_text,
    )
    fingerprint = prompt_fingerprint(task, prompt_body, extra_hashes)
    request = launch_request(ctx, agent, executor, task, overlay=overlay, repo_root=workspace.root)
    spec = build_launch(ctx, impl, request)  # a WaveError here fails the attempt with its one line
    redactor = Redactor()
    status_path = paths.status(safe)
    try:
        redactor.write(prompt_path, prompt_text)
        write_model(task_path, task)
        for name, text in spec.overlay_files.items():
            write_text_atomic(overlay / name, text)
        preview = {**spec.preview(), "env": redact_env(spec.preview()["env"])}
        redactor.write(overlay / "launch-preview.json", json.dumps(preview, indent=2) + "\n")
        status_path.unlink(missing_ok=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.touch()
        point_link(paths.log(safe), log_path)
    except OSError as exc:
        raise AttemptSetupError(
            f"cannot write runtime state under {paths.state_dir}: {exc.strerror or exc} "
            "(fix: make it writable or set paths.stateRoot)"
        ) from None
    env = {
        **os.environ,
        "WAVE_LANE": ctx.lane.name,
        "WAVE_NUMBER": "" if task.wave is None else str(task.wave),
        "WAVE_AGENT_ID": agent.id,
        "WAVE_RUN_ID": result.run_id,
        "WAVE_ATTEMPT": str(task.attempt),
        "WAVE_REPO_ROOT": str(workspace.root),
        "WAVE_STATE_DIR": str(paths.state_dir),
        "WAVE_EXECUTOR_MODE": executor.id,
        **spec.env,
    }
    try:
        env = with_shim(env, paths.state_dir)  # `wave` in the agent's shell is ours (see cli_shim.py)
    except OSError as exc:
        raise AttemptSetupError(
            f"cannot write runtime state under {paths.state_dir}: {exc.strerror or exc} "
            "(fix: make it writable or set paths.stateRoot)"
        ) from None
    with slot(paths.locks_dir(), "agents", ctx.options.max_parallel):
        try:
            workspace.start()
        except WaveError as exc:
            raise AttemptSetupError(exc.one_line()) from None
        process = run_process(
            spec.argv,
            cwd=spec.cwd,
            log_path=log_path,
            env=env,
            timeout=ctx.timeout_for(executor),
            stdin_path=spec.stdin_path,
            pid_path=paths.state_dir / "pids" / f"{safe}.pid",
        )
    status = AgentStatus(
        code=process.exit_code if process.exit_code is not None else -(process.signal or 1),
        prompt_hash=fingerprint,
        orchestrator_id=f"{ctx.lane.name}-pytest-wave",
        completed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(process.finished_at)),
    )
    write_text_atomic(status_path, status.to_json())  # reconcile reads it (engine/status_reconcile.py)
    redactor.file(log_path)  # the CLI wrote it; nothing it echoed (keys, tokens) may stay on disk
    scan = impl.scan_output(log_path)
    usage_of = getattr(impl, "usage", None)  # optional: vendor runtimes report tokens and cost
    usage = usage_of(log_path) if callable(usage_of) else None
    log = str(log_path)
    checks = [gates.process_check(process, log_path)]
    role = task.role
    if role == "evaluator":
        report = workspace.root / task.evaluator_report_path if task.evaluator_report_path else None
        checks += gates.evaluator_checks(scan, log, report)
    elif role == "integration":
        checks += gates.integration_marker_checks(scan, log)
    elif role == "documentation":
        checks += gates.documentation_marker_checks(scan, log)
    else:
        checks += gates.implementation_checks(task, scan, log)
    checks += gates.deliverable_checks(task, workspace.root, agent.owns)
    if process.ok and task.validation_commands:
        checks += run_validation(
            task.validation_commands,
            cwd=workspace.root,
            log_dir=log_path.parent / f"{safe}.validation",
            timeout=ctx.options.validation_timeout,
        )
        for validation_log in (log_path.parent / f"{safe}.validation").glob("*"):
            redactor.file(validation_log)
    checks += workspace.finish()  # what the attempt changed, from the tree (or its branch) itself
    if extra_checks is not None:
        checks += extra_checks(task)
    failed = gates.first_failure(checks)
    kept = workspace.kept_note() if failed is not None else None
    return result.model_copy(
        update={
            "status": "passed" if failed is None else "failed",
            "reason": None if failed is None else _summary(failed) + (f" ({kept})" if kept else ""),
            "exit_code": process.exit_code,
            "signal": process.signal,
            "timed_out": process.timed_out,
            "started_at": process.started_at,
            "finished_at": time.time(),
            "prompt_hash": fingerprint,
            "task_path": str(task_path),
            "markers": [marker.canonical for marker in scan.accepted],
            "checks": checks,
            "usage": usage,
        }
    )

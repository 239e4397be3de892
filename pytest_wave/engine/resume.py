"""Resume: reuse an earlier run's still-valid proof instead of running the agent again.

A run that was killed (``kill -9``, a dead machine, Ctrl-C) or that closed is rerun with the same
``pytest waves/wave-N.md``; every run has its own run id and attempt folders, so nothing is
overwritten. Before an agent is launched in attempt 1 of a run, the latest result of that agent in
an earlier run of the same wave file and lane is looked up. It is reused only when

* it passed (or was itself a valid reuse);
* the prompt fingerprint is unchanged (:func:`pytest_wave.engine.prompt.prompt_fingerprint`:
  prompt, executor, contract, deliverables, validation, skills, Context7 selection);
* its proof still stands: the sha256 of every deliverable and every file under its owned paths,
  recomputed now, equals what was recorded when it passed;
* for a closure stage, the proof it judged (every earlier agent's fingerprint and hashes) is the
  same, and the orchestrator's own checks of that stage (ownership of changed files, the
  blackboard, the component matrix) pass again now.

A reused result is written into the current run's attempt folder with status ``reused`` and the
earlier result's run, attempt and path as evidence, so closure (which reads only the current run)
sees it. ``--wave-fresh`` reuses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from pytest_wave.coordination.log import LogReader
from pytest_wave.coordination.store import WaveCoordination
from pytest_wave.engine import baseline, orphans
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.files import write_model
from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.executors.redact import Redactor
from pytest_wave.model.result import AgentResult, Check, ReuseEvidence, WaveOutcome
from pytest_wave.model.resume import RunStart, StoppedProcess
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent

ExtraChecks = Callable[[AgentTask], list[Check]]
FINGERPRINT_CHECK = "prompt fingerprint unchanged"
FILES_CHECK = "proof unchanged since it passed"
INPUTS_CHECK = "judged proof unchanged"
REUSE_CHECKS = frozenset({FINGERPRINT_CHECK, FILES_CHECK, INPUTS_CHECK})
RUN_START = "resume.json"
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- proof hashes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path, folder: Path) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in baseline.SKIP_DIRS)
        base = Path(current)
        found += [(base / name).relative_to(root).as_posix() for name in files]
    return found


def proof_hashes(ctx: WaveContext, agent: Agent, root: Path | None = None) -> dict[str, str]:
    """Repo-relative path -> sha256 of each deliverable and each file under the agent's owned paths.

    ``root``: the tree to read (default the repository; an agent's own worktree when it worked in one).
    A declared path that is missing reads ``missing``; one that resolves outside the tree (a symlink,
    ``..``) reads ``outside`` and is never opened.
    """
    root = root or ctx.repo_root
    real_root = root.resolve()
    paths = set(agent.deliverable_paths)
    for owned in agent.owned:
        target = root / owned
        if target.is_dir() and target.resolve().is_relative_to(real_root):
            paths.update(_files_under(root, target))
        elif not owned.endswith("/"):  # an owned folder that does not exist holds no proof
            paths.add(owned)
    hashes: dict[str, str] = {}
    for rel in sorted(paths):
        path = root / rel
        try:
            if not path.resolve().is_relative_to(real_root):
                hashes[rel] = "outside"
            elif path.is_file():
                hashes[rel] = _sha256(path)
            elif not path.exists():
                hashes[rel] = "missing"
        except OSError:
            hashes[rel] = "unreadable"
    return hashes


def inputs_digest(ctx: WaveContext, agent: Agent, results: dict[str, AgentResult]) -> str:
    """What a closure stage judged: every agent before it in the wave, by fingerprint and proof hashes."""
    closure = ctx.closure_agents()
    before = closure[: closure.index(agent)] if agent in closure else []
    payload: list[list[object]] = []
    for upstream in [*ctx.implementation_agents(), *before]:
        result = results.get(upstream.id)
        if result is None:
            payload.append([upstream.id, None, None, None])
        else:
            payload.append([upstream.id, result.ok, result.prompt_hash, result.proof_hashes])
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _run_results(ctx: WaveContext, run_id: str) -> dict[str, AgentResult]:
    from pytest_wave.engine.wave_run import WaveRun  # wave_run imports this module

    return WaveRun(ctx, run_id).results()


def _worked_in(result: AgentResult) -> Path | None:
    """The tree the attempt worked in (its task's repo root: a git worktree in worktree isolation).

    Hashing there at pass time is what the main tree holds once integration merged the branch, so a
    later run can reuse the proof; an unmerged branch leaves the main tree different: no reuse."""
    try:
        root = Path(AgentTask.model_validate_json(Path(result.task_path or "").read_bytes()).repo_root)
    except (OSError, ValidationError, ValueError):
        return None
    return root if root.is_dir() else None


def seal(ctx: WaveContext, agent: Agent, result: AgentResult) -> AgentResult:
    """Add what a later run needs to reuse a passed result: proof hashes and, for closure, its inputs."""
    if result.status != "passed":
        return result
    update: dict[str, object] = {"proof_hashes": proof_hashes(ctx, agent, _worked_in(result))}
    if ctx.is_closure(agent):
        update["inputs_digest"] = inputs_digest(ctx, agent, _run_results(ctx, result.run_id))
    return result.model_copy(update=update)


# --------------------------------------------------------------------------- earlier runs


def _wave_dir(ctx: WaveContext) -> Path:
    return ctx.paths.run_dir(ctx.wave.number, "_").parent


def _attempts(run_dir: Path) -> list[tuple[int, Path]]:
    found = []
    for folder in run_dir.glob("attempt-*"):
        number = folder.name.split("-", 1)[1]
        if number.isdigit():
            found.append((int(number), folder))
    return sorted(found, reverse=True)


def earlier_runs(ctx: WaveContext, run_id: str) -> list[Path]:
    """Run folders of this wave other than ``run_id``, newest first (run ids start with the UTC time)."""
    folder = _wave_dir(ctx)
    if not folder.is_dir():
        return []
    runs = [p for p in folder.iterdir() if p.is_dir() and p.name != run_id]
    return sorted(runs, key=lambda p: p.name, reverse=True)


def latest_earlier_result(ctx: WaveContext, agent_id: str, run_id: str) -> tuple[AgentResult, Path] | None:
    """The agent's most recent result in an earlier run of this wave file, with its path."""
    wave_path = str(ctx.wave_path)
    for run_dir in earlier_runs(ctx, run_id):
        for _, folder in _attempts(run_dir):
            path = folder / f"{agent_id}.json"
            try:
                result = AgentResult.model_validate_json(path.read_bytes())
            except (OSError, ValidationError, ValueError):
                continue  # absent, or torn by a kill: not proof of anything
            if result.wave_path != wave_path or result.agent_id != agent_id:
                continue
            return result, path
    return None


def current_fingerprint(ctx: WaveContext, agent: Agent, executor: ResolvedExecutor) -> str:
    """The prompt fingerprint an attempt of ``agent`` would have now."""
    from pytest_wave.engine.agent_run import fingerprint_now  # the same steps as a launch

    return fingerprint_now(ctx, agent, executor)


# --------------------------------------------------------------------------- reuse


def _check(name: str, expected: str, found: str, evidence: str | None = None) -> Check:
    return Check(name=name, ok=True, expected=expected, found=found, evidence=evidence)


def _still_valid(
    ctx: WaveContext, agent: Agent, run_id: str, executor: ResolvedExecutor
) -> tuple[AgentResult, Path, dict[str, str]] | None:
    """The agent's latest earlier result when it passed and its fingerprint and files are unchanged."""
    from pytest_wave.engine.agent_run import AttemptSetupError

    if ctx.options.fresh:
        return None
    found = latest_earlier_result(ctx, agent.id, run_id)
    if found is None:
        return None
    earlier, path = found
    if not earlier.ok or earlier.proof_hashes is None or earlier.prompt_hash is None:
        return None
    try:
        if current_fingerprint(ctx, agent, executor) != earlier.prompt_hash:
            return None
    except (AttemptSetupError, WaveError, OSError):
        return None  # the launch reports it properly
    hashes = proof_hashes(ctx, agent)
    if hashes != earlier.proof_hashes:
        return None
    return earlier, path, hashes


def agents_to_run(wave_path: Path, options: RunOptions) -> int | None:
    """How many implementation agents of the wave have no reusable proof (None: cannot tell).

    Read-only (nothing is stopped or written): the pytest layer sizes its worker pool with it, so a
    rerun with nothing to redo does not start xdist workers only to report "reused".
    """
    if options.fresh or options.dry_run:
        return None
    try:
        ctx = WaveContext.load(wave_path, options)
        agents = ctx.implementation_agents()
        return sum(1 for a in agents if _still_valid(ctx, a, "", ctx.executor_for(a)) is None)
    except (WaveError, OSError, ValueError):
        return None


def reusable(
    ctx: WaveContext,
    agent: Agent,
    run_id: str,
    executor: ResolvedExecutor,
    extra_checks: ExtraChecks | None = None,
) -> AgentResult | None:
    """The reused result for ``agent`` in attempt 1 of ``run_id``, or None when it must run."""
    from pytest_wave.engine.agent_run import build_task

    valid = _still_valid(ctx, agent, run_id, executor)
    if valid is None:
        return None
    earlier, path, hashes = valid
    fingerprint = (earlier.prompt_hash or "")[:16]
    reuse_checks = [
        _check(FINGERPRINT_CHECK, fingerprint, fingerprint),
        _check(
            FILES_CHECK,
            f"{len(hashes)} file(s) with the recorded sha256",
            f"{len(hashes)} file(s) match",
            str(path),
        ),
    ]
    now: list[Check] = []
    if ctx.is_closure(agent):
        digest = inputs_digest(ctx, agent, _run_results(ctx, run_id))
        if digest != earlier.inputs_digest:
            return None
        reuse_checks.append(_check(INPUTS_CHECK, "same agents, prompts and files", "same"))
        if extra_checks is not None:
            now = extra_checks(build_task(ctx, agent, executor, run_id, 1))
            if not all(check.ok for check in now):
                return None  # the stage runs and reports why
    # The earlier attempt's own checks stay (replay re-judges them from its log); the orchestrator's
    # checks of a closure stage are the ones made now, against this run; then why reuse was allowed.
    replaced = {check.name for check in now} | REUSE_CHECKS
    checks = [c for c in earlier.checks if c.name not in replaced] + now + reuse_checks
    origin = earlier.reused_from or ReuseEvidence(
        run_id=earlier.run_id,
        attempt=earlier.attempt,
        result_path=str(path),
        log_path=earlier.log_path,
        finished_at=earlier.finished_at,
    )
    now_ts = time.time()
    result = earlier.model_copy(
        update={
            "run_id": run_id,
            "attempt": 1,
            "status": "reused",
            "reason": f"reused: proof of run {origin.run_id} attempt {origin.attempt} still valid",
            "started_at": now_ts,
            "finished_at": now_ts,
            "checks": checks,
            "usage": None,  # spent by the earlier run, not this one
            "executor_switches": [],
            "reused_from": origin,
        }
    )
    write_model(ctx.paths.attempt_dir(ctx.wave.number, run_id, 1) / f"{agent.id}.json", result)
    _coordinate(ctx, earlier, result)
    return result


def _coordinate(ctx: WaveContext, earlier: AgentResult, result: AgentResult) -> None:
    """The earlier result's record is already on the blackboard: append it only if the kill lost it."""
    from pytest_wave.coordination import engine as coordination
    from pytest_wave.coordination.seeds import seed_id

    try:
        board = coordination.for_context(ctx)
        if board is None:
            return
        number = ctx.wave.number or 0
        origin = result.reused_from
        ids = {seed_id(number, f"result-{result.agent_id}-attempt-{earlier.attempt}")}
        if origin is not None:
            ids.add(seed_id(number, f"result-{result.agent_id}-attempt-{origin.attempt}"))
        if any(_recorded_status(board, rid) == "resolved" for rid in ids):
            return
        coordination.record_result(ctx, result)
    except (OSError, ValueError, WaveError) as exc:
        result.reason = (result.reason or "") + f" (coordination not updated: {exc})"


_STATUS_LOCK = threading.Lock()
# Coordination log -> (incremental reader, record id -> latest status): one read of the log per process,
# instead of a full blackboard refresh (projections rewritten) for every reused agent.
_STATUSES: dict[str, tuple[LogReader, dict[str, str]]] = {}


def _recorded_status(board: WaveCoordination, record_id: str) -> str | None:
    key = str(board.paths.log)
    with _STATUS_LOCK:
        reader, statuses = _STATUSES.get(key) or (board.log.reader(), {})
        _STATUSES[key] = (reader, statuses)
        for entry in reader.poll().entries:
            if entry.set_keys is None or "status" in entry.set_keys:  # a partial update may leave it as is
                statuses[entry.record["id"]] = entry.record["status"]
        return statuses.get(record_id)


def before_launch(
    ctx: WaveContext,
    agent: Agent,
    run_id: str,
    attempt: int,
    executor: ResolvedExecutor,
    extra_checks: ExtraChecks | None = None,
) -> AgentResult | None:
    """Stop what a dead session left running of this agent; in attempt 1, reuse valid earlier proof."""
    orphans.stop_orphans(ctx.paths.state_dir, name=ctx.paths.safe(ctx.wave.number, agent.slug))
    if attempt != 1 or ctx.options.dry_run:
        return None
    return reusable(ctx, agent, run_id, executor, extra_checks)


# --------------------------------------------------------------------------- run start


def start_run(ctx: WaveContext, run_id: str) -> tuple[baseline.Snapshot | None, RunStart]:
    """At the start of a run: stop the wave's orphaned agents and pick the baseline to keep.

    An earlier run that did not close (killed, interrupted, gates failed) started the work this run
    resumes, so its baseline stays the reference: files it changed outside every agent's ownership
    are still caught. After a closed run (or with ``--wave-fresh``) the tree is snapshotted anew.
    """
    stopped = orphans.stop_orphans(ctx.paths.state_dir, prefix=f"wave-{_num(ctx)}-")
    start = RunStart(
        run_id=run_id,
        fresh=ctx.options.fresh,
        stopped=[
            StoppedProcess(pid=s.pid, agent_id=s.agent_id, run_id=s.run_id, pid_file=s.name + ".pid") for s in stopped
        ],
    )
    start.logs_redacted = redact_dead_runs(ctx, run_id)
    inherited: baseline.Snapshot | None = None
    if not ctx.options.fresh:
        for run_dir in earlier_runs(ctx, run_id):
            before = baseline.load(run_dir / "baseline.json")
            if before is None:
                continue
            if not _closed(run_dir):
                later = _later_wave_run(ctx, run_dir.name, run_id)
                if later is None:
                    inherited = before
                    start.baseline_from = run_dir.name
                else:
                    start.baseline_dropped = f"{run_dir.name}: {later} ran since"
            break
    return inherited, start


LOGS_REDACTED = "logs-redacted"  # marker in a run folder: its agent logs were redacted after it died


def redact_dead_runs(ctx: WaveContext, run_id: str) -> list[str]:
    """Redact the agent logs of earlier runs that died before their verdict (``wave.json``).

    A log is redacted when its agent exits; a run killed with its agents (``kill -9``, a lost
    host) never got there, so the credentials an agent CLI echoed would stay on disk. Each dead
    run is handled once (a marker file); returns the logs that held something, relative to the
    state folder.
    """
    redactor = Redactor()
    cleaned: list[str] = []
    state_dir = ctx.paths.state_dir
    for run_dir in earlier_runs(ctx, run_id):
        if (run_dir / "wave.json").exists() or (run_dir / LOGS_REDACTED).exists():
            continue
        for log in sorted(run_dir.rglob("*.log")):
            if log.is_file() and not log.is_symlink() and redactor.file(log):
                cleaned.append(str(log.relative_to(state_dir)))
        with contextlib.suppress(OSError):  # else tried again next time
            (run_dir / LOGS_REDACTED).touch()
    return cleaned


def _later_wave_run(ctx: WaveContext, since: str, run_id: str) -> str | None:
    """Another wave's run that took its baseline after run ``since`` (not this session's own run):
    the tree moved on under other work, so the unfinished run's baseline no longer tells this
    wave's changes apart (reconcile, or an operator, let later waves run past it)."""
    results = ctx.paths.state_dir / "results"
    own = _wave_dir(ctx).name
    try:
        waves = [d for d in results.iterdir() if d.is_dir() and d.name != own]
    except OSError:
        return None
    for wave_dir in sorted(waves):
        for run_dir in wave_dir.iterdir():
            # Run ids start with the UTC time, so a greater id started later.
            if run_dir.name > since and run_dir.name != run_id and (run_dir / "baseline.json").exists():
                return f"{wave_dir.name} (run {run_dir.name})"
    return None


def _closed(run_dir: Path) -> bool:
    try:
        return WaveOutcome.model_validate_json((run_dir / "wave.json").read_bytes()).closed
    except (OSError, ValidationError, ValueError):
        return False  # killed before it recorded a verdict


def record_start(ctx: WaveContext, run_id: str, start: RunStart) -> None:
    write_model(ctx.paths.run_dir(ctx.wave.number, run_id) / RUN_START, start)


def read_start(ctx: WaveContext, run_id: str) -> RunStart | None:
    try:
        return RunStart.model_validate_json((ctx.paths.run_dir(ctx.wave.number, run_id) / RUN_START).read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def _num(ctx: WaveContext) -> str:
    return "x" if ctx.wave.number is None else str(ctx.wave.number)

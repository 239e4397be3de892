"""A remote attempt's proof travels in its pytest report, and the controller writes it in its run folder.

Why the report and not the shared store: the report is what xdist already carries to the controller,
in order, exactly once per attempt, and it arrives before xdist counts the item as done; a host that
dies after reporting has lost nothing. The payload holds the :class:`AgentResult` JSON, the attempt
log (its last :data:`LOG_LIMIT` bytes), the branch the agent's work was pushed to, and the host.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from pytest_wave.engine.confine import unsafe_id
from pytest_wave.engine.files import write_model, write_text_atomic
from pytest_wave.engine.paths import LanePaths
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, Check

PROPERTY = "wave_remote"  # user_properties key of the payload (removed on the controller once written)
LOG_LIMIT = 1 << 20  # bytes of the attempt log carried back; the rest stays on the host


class RemoteAttempt(BaseModel):
    """What a remote worker sends back about one attempt."""

    host: str
    host_root: str
    result: AgentResult
    log: str | None = None
    branch: str | None = None
    commit: str | None = None
    push_error: str | None = None


def build(
    result: AgentResult,
    *,
    host: str,
    host_root: Path,
    branch: str | None,
    commit: str | None,
    push_error: str | None,
) -> str:
    log: str | None = None
    if result.log_path:
        try:
            with open(result.log_path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - LOG_LIMIT))
                log = handle.read().decode("utf-8", errors="replace")
        except OSError:
            log = None
    payload = RemoteAttempt(
        host=host,
        host_root=str(host_root),
        result=result,
        log=log,
        branch=branch,
        commit=commit,
        push_error=push_error,
    )
    return payload.model_dump_json()


def parse(text: object) -> RemoteAttempt | None:
    if not isinstance(text, str):
        return None
    try:
        return RemoteAttempt.model_validate_json(text)
    except ValidationError:
        return None


def land(attempt: RemoteAttempt, paths: LanePaths, wave_path: Path) -> AgentResult:
    """Write the attempt's result (and log) where the controller's closure reads results; returns it.

    Paths in the result are rewritten to the controller's; a push that failed makes the result fail
    (its deliverables are not on the controller), so closure reruns the agent.
    """
    result = attempt.result.model_copy(deep=True)
    # The payload comes from another host: its ids become file names here, so they must be plain names.
    problem = unsafe_id(result.agent_id) or unsafe_id(result.run_id)
    if problem is not None:
        raise WaveError(f"refused a result from {attempt.host}: {problem}", fix="check that host's pytest-wave")
    folder = paths.attempt_dir(result.wave, result.run_id, result.attempt)
    result.wave_path = str(wave_path)
    if attempt.log is not None:
        name = Path(result.log_path).name if result.log_path else f"{result.agent_id}.log"
        if unsafe_id(name) is not None:
            name = f"{result.agent_id}.log"
        log_copy = folder / name
        write_text_atomic(log_copy, attempt.log)
        result.log_path = str(log_copy)
    if attempt.push_error is not None and result.ok:
        result.status = "failed"
        result.reason = f"deliverables did not reach the controller: {attempt.push_error}"
        result.checks.append(
            Check(
                name="deliverables pushed to the controller",
                ok=False,
                expected=f"branch {attempt.branch} pushed from {attempt.host}",
                found=attempt.push_error,
                code="remote-push-failed",
                evidence=attempt.host,
            )
        )
    write_model(folder / f"{result.agent_id}.json", result)
    return result


def fail_merge(result: AgentResult, paths: LanePaths, branch: str, why: str) -> AgentResult:
    """Record that an agent's branch could not be merged: its result fails, so closure reruns it here."""
    failed = result.model_copy(deep=True)
    failed.status = "failed"
    failed.reason = f"branch {branch} did not merge: {why}"
    failed.checks.append(
        Check(
            name="agent branch merged",
            ok=False,
            expected=f"{branch} merges into the controller's branch",
            found=why,
            code="remote-merge-conflict",
            evidence=branch,
        )
    )
    write_model(paths.attempt_dir(failed.wave, failed.run_id, failed.attempt) / f"{failed.agent_id}.json", failed)
    return failed

"""Run a child process in its own process group, with a log file, a deadline and a clean tree kill.

Agents and validation commands start grandchildren (shells, test runners, dev servers). Killing
only the direct child would leave those running, so every kill goes to the whole tree: SIGTERM,
a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from pytest_wave.engine.pidfiles import remove as remove_pid_files
from pytest_wave.engine.pidfiles import write_record

GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    timed_out: bool
    started_at: float
    finished_at: float
    pid: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.finished_at - self.started_at:.1f}s and was killed"
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = str(self.signal)
            return f"died from signal {name}"
        return f"exit status {self.exit_code}"


def kill_tree(pid: int, grace: float = GRACE_SECONDS) -> int | None:
    """SIGTERM the process group and every descendant, then SIGKILL whatever is left.

    Returns the root's exit status as psutil saw it (``-signal`` when killed), or None: when the
    root is our child psutil reaps it, so ``Popen.wait`` afterwards can only report a bogus 0.
    """
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    gone, alive = psutil.wait_procs(procs, timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    gone_late, _ = psutil.wait_procs(alive, timeout=grace)
    codes = [getattr(proc, "returncode", None) for proc in [*gone, *gone_late] if proc.pid == pid]
    return int(codes[0]) if codes and codes[0] is not None else None


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin_path: Path | None = None,
    pid_path: Path | None = None,
) -> ProcessResult:
    """Run ``argv`` to completion (or its deadline) with stdout and stderr in ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("wb"))
        stdin = stack.enter_context(stdin_path.open("rb")) if stdin_path else subprocess.DEVNULL
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: the tree can be killed as one
        )
        if pid_path is not None:
            pid_path.parent.mkdir(parents=True, exist_ok=True)
            pid_path.write_text(f"{proc.pid}\n")
            write_record(pid_path, proc.pid, env)  # start time + owner: lets a rerun stop it if we die
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            killed_code = kill_tree(proc.pid)
            proc.wait()
            if killed_code is not None:
                proc.returncode = killed_code  # psutil reaped it: Popen's own code would read 0
        except BaseException:
            # Ctrl-C or a failing worker: never leave the agent running behind us.
            kill_tree(proc.pid)
            proc.wait()
            raise
        finally:
            if pid_path is not None:
                remove_pid_files(pid_path)
    code = proc.returncode
    return ProcessResult(
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=timed_out,
        started_at=started,
        finished_at=time.time(),
        pid=proc.pid,
    )

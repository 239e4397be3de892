"""Real servers on loopback for the distributed tests: ``redis-server`` and execnet socket servers.

A tool that is missing fails the test naming it (never a skip): install ``redis-server`` from Debian.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 30.0  # seconds; generous: the machine is shared


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before listening: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {START_TIMEOUT}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def start_redis(workdir: Path) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: install the Debian package redis-server (apt-get install redis-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "redis.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--protected-mode",
                "yes",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_for_port(port, proc, "redis-server", log)
    return RedisServer(port, proc)


@dataclass
class SocketHost:
    """An execnet socket server standing in for one host: its own working directory."""

    name: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes]
    chdir: str | None = None  # the gateway's directory under workdir (xdist's default: pyexecnetcache)

    @property
    def tx(self) -> str:
        chdir = f"//chdir={self.chdir}" if self.chdir else ""
        return f"socket=127.0.0.1:{self.port}//id={self.name}{chdir}"

    @property
    def clone(self) -> Path:
        return self.workdir / (self.chdir or "pyexecnetcache") / "repo"


def start_socket_host(name: str, workdir: Path, env: dict[str, str] | None = None) -> SocketHost:
    """``python -m execnet.script.socketserver 127.0.0.1:PORT`` run from ``workdir`` (loop mode).

    ``env``: extra variables of the host (e.g. ``WAVE_LOCAL_FAULTS`` to slow its agents down).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir.parent / f"{name}-socketserver.log"
    host_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
    host_env.update(env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "execnet.script.socketserver", f"127.0.0.1:{port}"],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=host_env,
            start_new_session=True,  # killed as a whole host: the server and the worker it runs
        )
    _wait_for_port(port, proc, f"execnet socket server {name}", log)
    return SocketHost(name, port, workdir, proc)

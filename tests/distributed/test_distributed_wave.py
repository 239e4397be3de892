"""One wave on two "hosts": real execnet socket servers and a real redis-server, all on loopback.

Each socket server runs from its own directory (standing in for a machine), gets its clone of the
controller's repository over the gateway, runs its share of a 6-agent wave and pushes each agent's
branch back; the controller merges them and runs closure over the shared Redis log.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from e2ekit import PROJECT_ROLE_PROMPTS, PYPROJECT, impl_ids, wave_text
from servers import RedisServer, SocketHost, start_socket_host, stop

from pytest_wave.coordination.redis_store import open_log
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.model.config import CoordinationBackendConfig

pytestmark = pytest.mark.slow

AGENTS = 6
RUN_TIMEOUT = 300.0


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def make_controller_repo(root: Path, redis: RedisServer) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git not found: install git")
    (root / "docs" / "agents").mkdir(parents=True)
    for prompt in PROJECT_ROLE_PROMPTS.glob("wave-*-role.md"):
        shutil.copy(prompt, root / "docs" / "agents" / prompt.name)
    (root / "pyproject.toml").write_text(
        PYPROJECT + f'\n[tool.wave.coordination]\nbackend = "redis"\nurl = "{redis.url}"\nkeyPrefix = "t"\n'
    )
    (root / "waves").mkdir()
    (root / "waves" / "wave-1.md").write_text(wave_text(1, AGENTS))
    (root / ".gitignore").write_text(".tmp/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "plan")
    return root


@dataclass
class Cluster:
    repo: Path
    redis: RedisServer
    hosts: list[SocketHost]

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
        args = [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider", "-p", "no:randomly"]
        for host in self.hosts:
            args += ["--tx", host.tx]
        return subprocess.run(
            [*args, *extra], cwd=self.repo, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env
        )

    def start(self, *extra: str) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
        args = [sys.executable, "-m", "pytest", "waves/wave-1.md", "-p", "no:cacheprovider"]
        for host in self.hosts:
            args += ["--tx", host.tx]
        return subprocess.Popen(
            [*args, *extra], cwd=self.repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )


def _kill_tree_under(folder: Path) -> None:
    """Agents a killed host left behind (their own process groups) must not outlive the test."""
    for proc in psutil.process_iter(["cwd"]):
        try:
            if proc.info["cwd"] and Path(proc.info["cwd"]).is_relative_to(folder):
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer) -> Iterator[Cluster]:
    repo = make_controller_repo(tmp_path / "controller" / "repo", redis_server)
    hosts = [start_socket_host(name, tmp_path / name) for name in ("hostA", "hostB")]
    try:
        yield Cluster(repo, redis_server, hosts)
    finally:
        for host in hosts:
            stop(host.proc)
            _kill_tree_under(host.workdir)


def deliverables_on_branch(repo: Path) -> set[str]:
    names = set(git(repo, "ls-tree", "-r", "--name-only", "HEAD").split())
    return {f"out/a{i}/part.py" for i in impl_ids(AGENTS)} - names


def stream_lines(cluster: Cluster) -> list[bytes]:
    settings = CoordinationBackendConfig.model_validate(
        {"backend": "redis", "url": cluster.redis.url, "keyPrefix": "t"}
    )
    log = open_log(settings, cluster.repo / "x.jsonl", project="e2e", lane="main", wave=1, where="pyproject.toml")
    batch = log.read_all()
    assert batch.all_issues() == []
    state = CoordinationState(None)
    state.apply_all((e.record, e.set_keys) for e in batch.entries)
    for i in impl_ids(AGENTS):  # every agent's seed request closed: its proof landed in the shared log
        assert state.latest[f"wave-1-agent-A{i}-request"]["status"] == "resolved"
    versions = Counter((e.record["id"], e.record["status"]) for e in batch.entries)
    assert [key for key, count in versions.items() if count > 1] == []  # no record state appended twice
    return log.raw_lines()


def test_a_six_agent_wave_split_across_two_hosts_closes(cluster: Cluster) -> None:
    cluster.hosts[1].chdir = "wave-work"
    done = cluster.run()
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "wave waves/wave-1.md: CLOSED" in out
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert deliverables_on_branch(cluster.repo) == set()
    merges = git(cluster.repo, "log", "--merges", "--format=%s").splitlines()
    assert len(merges) == AGENTS, merges
    hosts = Counter(subject.split(" from ", 1)[1].split()[0] for subject in merges)
    assert set(hosts) == {"hostA", "hostB"}, hosts  # both hosts did part of the wave
    assert git(cluster.repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    lines = stream_lines(cluster)
    assert len(lines) == len(set(lines))  # no record appended twice
    branches = git(cluster.repo, "branch", "--list", "wave/*", "--format=%(refname:short)").split()
    assert len(branches) == AGENTS
    for host in cluster.hosts:  # each host worked in its own clone (hostB's in its //chdir=)
        assert (host.clone / ".git").is_dir()


def test_a_host_killed_mid_wave_loses_nothing_and_the_wave_closes(cluster: Cluster) -> None:
    # Agents take a while on both hosts, so hostA is surely inside its second agent when it dies.
    cluster.hosts = [_restart_slow(host) for host in cluster.hosts]
    dying = cluster.hosts[0]
    proc = cluster.start()
    clone = dying.clone
    deadline = time.monotonic() + RUN_TIMEOUT
    while len(list(clone.glob(".tmp/main-wave-launcher/results/wave-1/*/attempt-1/*.log"))) < 2:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "hostA never started a second agent"
        time.sleep(0.05)
    finished = {p.stem for p in clone.glob(".tmp/main-wave-launcher/results/wave-1/*/attempt-1/A*.json")}
    os.killpg(dying.proc.pid, signal.SIGKILL)  # the whole host: its server, its worker, its agents
    _kill_tree_under(dying.workdir)
    out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, out
    assert "wave waves/wave-1.md: CLOSED" in out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert "host hostA is gone" in out
    assert "1 rerun" in out  # the agent it was running went to hostB
    merged = next(line for line in out.splitlines() if "merged 6 agent branch(es)" in line)
    assert finished, "hostA finished no agent before it died"
    for agent in finished:  # what hostA finished before dying was kept: its branch, its result
        assert f"{agent}@hostA" in merged, (finished, merged)
    assert deliverables_on_branch(cluster.repo) == set()
    lines = stream_lines(cluster)
    assert len(lines) == len(set(lines))


def _restart_slow(host: SocketHost) -> SocketHost:
    stop(host.proc)
    return start_socket_host(host.name, host.workdir, {"WAVE_LOCAL_FAULTS": "*=slow=2"})


def _preflight(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WAVE_"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "waves/wave-1.md",
            "-p",
            "no:cacheprovider",
            "--tx",
            "socket=127.0.0.1:9//id=h",
            *extra,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=env,
    )


def _error_line(done: subprocess.CompletedProcess[str]) -> str:
    out = done.stdout + done.stderr
    assert done.returncode == 4, out  # a usage error: nothing was started
    assert "Traceback" not in out and "INTERNALERROR" not in out
    lines = [line for line in out.splitlines() if line.startswith("ERROR: ")]
    assert len(lines) == 1, out
    return lines[0]


def test_what_a_distributed_wave_needs_is_checked_first_in_one_line(tmp_path: Path, redis_server: RedisServer) -> None:
    repo = make_controller_repo(tmp_path / "repo", redis_server)
    config = (repo / "pyproject.toml").read_text()

    (repo / "waves" / "wave-1.md").write_text(wave_text(1, 2))
    assert "waves/wave-1.md: not committed; remote hosts start from commit" in _error_line(_preflight(repo))
    git(repo, "commit", "-qam", "two agents")

    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "out/a2/\n")
    git(repo, "commit", "-qam", "ignore a2's output")
    line = _error_line(_preflight(repo))  # git would never carry it back from a host
    assert "a wave on several hosts carries work through git, but git ignores these deliverables: out/a2/" in line
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text().replace("out/a2/\n", ""))
    git(repo, "commit", "-qam", "carry a2's output again")

    (repo / "pyproject.toml").write_text(config.replace('backend = "redis"', 'backend = "jsonl"'))
    git(repo, "commit", "-qam", "file log")
    line = _error_line(_preflight(repo))
    assert "needs a coordination log they all share" in line and 'backend = "redis"' in line

    stop(redis_server.proc)  # the server is down
    (repo / "pyproject.toml").write_text(config)
    git(repo, "commit", "-qam", "redis log")
    line = _error_line(_preflight(repo))
    assert line.startswith(f"ERROR: cannot reach the coordination server {redis_server.url}: ")
    assert f"fix [tool.wave.coordination] url in {repo / 'pyproject.toml'}" in line

    line = _error_line(_preflight(repo.parent, str(repo / "waves" / "wave-1.md")))
    assert "a wave on several hosts needs a git repository" in line or "relative to the directory" in line


def test_a_host_that_cannot_clone_stops_the_run_with_one_line(cluster: Cluster) -> None:
    config = cluster.repo / "pyproject.toml"
    config.write_text(config.read_text() + '\n[tool.wave.distributed]\nrepoUrl = "/nonexistent/project.git"\n')
    git(cluster.repo, "commit", "-qam", "unreachable repository")
    cluster.hosts = cluster.hosts[:1]
    line = _error_line(cluster.run())
    assert line.startswith("ERROR: host hostA: cannot prepare its clone of /nonexistent/project.git at ")
    assert "repoUrl" in line

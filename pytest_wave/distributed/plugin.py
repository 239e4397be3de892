"""pytest-xdist wiring of a wave on several machines (``--tx socket=HOST:PORT`` / ``--tx ssh=HOST``).

Controller (the machine you run pytest on):

- before anything starts: the wave files and the config must be committed (hosts work from
  ``HEAD``), the coordination log must be the shared Redis stream, and its server must answer;
- each new remote gateway: :mod:`.checkout` runs on the host and prepares its clone at ``HEAD``;
  the worker then starts inside that clone, so it resolves the same relative arguments and collects
  the same node ids (xdist requires equal collections);
- each remote report: the attempt's result and log (:mod:`.carry`) are written in the controller's
  run folder, where closure reads them;
- a host that dies: xdist hands its running agent to ``pytest_handlecrashitem``, which puts it back in
  the queue of the remaining hosts (reported as ``rerun``); its queued agents move there too, and
  xdist's attempt to replace the dead worker fails quietly instead of ending the session;
- after the loop, before closure: each passing agent's branch is merged into the checked-out branch,
  in the wave's agent order (deterministic history); a conflict fails that agent so closure reruns it.

Remote worker: after an agent's attempt passed, its work is committed on ``<prefix>/<run>/<agent>``
and pushed to the controller's repository (:mod:`.gitops`) before the report leaves the host.

xdist has no public API for two things this needs, so two private attributes are used, both marked
``xdist-private``: the node manager's ``roots`` (so relative wave paths are passed to hosts as they
are, instead of xdist's "not relative to an rsync root" error) and the session's ``_clone_node``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_wave.config import load_config
from pytest_wave.controller import discover_wave_files
from pytest_wave.distributed import carry, checkout, gitops
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.engine.isolation import refuse_ignored_deliverables
from pytest_wave.errors import WaveError
from pytest_wave.items import AgentItem, ClosureItem
from pytest_wave.model.result import AgentResult
from pytest_wave.state import session_state

WORKER_KEY = "wave_remote"  # workerinput: what a remote worker needs to know (repo, base, branch prefix)
ROOT_KEY = "wave_rootdir"  # workeroutput: the worker's rootdir, to map its paths to the controller's
PREPARE_TIMEOUT = 900.0  # seconds for a host to clone or fetch the repository
MAX_CRASH_RESCHEDULES = 2  # an agent whose hosts keep dying is left to closure's retry instead


def is_remote(spec: Any) -> bool:
    """A gateway on another machine (socket, ssh, vagrant, or popen via a proxy): not a local ``popen``."""
    return not getattr(spec, "popen", False) or bool(getattr(spec, "via", None))


def remote_specs(config: pytest.Config) -> list[str]:
    if getattr(config.option, "dist", "no") == "no":
        return []
    import execnet

    return [tx for tx in config.getoption("tx", None) or [] if is_remote(execnet.XSpec(tx.split("*", 1)[-1]))]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``--tx`` alone means "distribute": xdist would otherwise run everything on the controller."""
    option = config.option
    if hasattr(config, "workerinput"):
        return  # a worker: xdist turned distribution off here, keep it off
    if getattr(option, "tx", None) and getattr(option, "dist", "no") == "no" and not getattr(option, "numprocesses", 0):
        option.dist = "load"


@pytest.hookimpl(trylast=True)  # after pytest_wave.plugin put the session state in the stash
def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        info = workerinput.get(WORKER_KEY)
        if info:
            config.workeroutput[ROOT_KEY] = str(config.rootpath)  # type: ignore[attr-defined]
            config.pluginmanager.register(RemoteWorker(config, WorkerInfo(**info)), "wave-remote-worker")
        return
    if session_state(config).mode is not None or config.getoption("wave_lint"):
        return
    if remote_specs(config):
        config.pluginmanager.register(RemoteController(config, plan_distribution(config)), "wave-remote-controller")
    elif not config.option.collectonly and discover_wave_files(config):
        check_coordination_server(config)


def check_coordination_server(config: pytest.Config) -> None:
    """One machine with ``backend = "redis"``: an unreachable server is one line now, not a failure per agent."""
    try:
        settings = load_config(config.rootpath)
    except WaveError:
        return  # the wave's ::plan item reports a bad config, with its line
    if settings.coordination.backend != "redis":
        return
    from pytest_wave.coordination.redis_store import CoordinationServerError, connect

    where = str(settings.source_path or config.rootpath / "pyproject.toml")
    try:
        connect(settings.coordination, where=where).close()
    except CoordinationServerError as exc:
        raise _usage(str(exc)) from None


# --------------------------------------------------------------------------- controller


@dataclass(frozen=True)
class Distribution:
    toplevel: Path  # the controller's git work tree
    subdir: str  # where pytest was started, relative to it ("" or "a/b")
    base: str  # the commit every host starts from
    url: str  # where hosts clone from and push to
    branch_prefix: str
    arg_roots: tuple[Path, ...]  # first parts of relative path arguments (see RemoteController.setupnodes)


def _usage(message: str) -> pytest.UsageError:
    return pytest.UsageError(" ".join(message.split()))


def plan_distribution(config: pytest.Config) -> Distribution:
    """Check what a distributed wave needs before any host is contacted; each problem is one line."""
    start = Path(config.invocation_params.dir)
    try:
        toplevel = Path(gitops.git(start, "rev-parse", "--show-toplevel")).resolve()
        base = gitops.base_commit(toplevel)
    except WaveError as exc:
        raise _usage(f"a wave on several hosts needs a git repository: {exc.one_line()}") from None
    waves = discover_wave_files(config)
    roots: dict[Path, None] = {}
    for arg in config.invocation_params.args:
        text = str(arg)
        if text.startswith("-") or not text:
            continue
        path = Path(text.split("::")[0])
        if not (start / path).exists():
            continue
        if path.is_absolute() or path.parts[0] in (".", ".."):
            raise _usage(
                f"{text}: on remote hosts, name wave files relative to the directory pytest runs in "
                "(e.g. waves/wave-1.md), without '.' or '..'"
            )
        roots[Path(path.parts[0])] = None
    try:
        settings = load_config(config.rootpath)
    except WaveError as exc:
        raise _usage(exc.usage_line()) from None
    where = str(settings.source_path or config.rootpath / "pyproject.toml")
    tracked = [os.path.relpath(p, toplevel) for p in waves]
    if settings.source_path is not None:
        tracked.append(os.path.relpath(settings.source_path, toplevel))
    try:
        dirty = gitops.uncommitted(toplevel, tracked)
    except WaveError as exc:
        raise _usage(exc.usage_line()) from None
    if dirty:
        raise _usage(
            f"{', '.join(dirty)}: not committed; remote hosts start from commit {base[:12]} "
            "and would run another plan (fix: git commit them first)"
        )
    for wave in waves:
        try:
            ctx = WaveContext.load(wave, RunOptions(lane=config.getoption("wave_lane")))
            refuse_ignored_deliverables(ctx, "a wave on several hosts", "or run the wave on one machine")
        except WaveError as exc:
            raise _usage(exc.usage_line()) from None
    coordination = settings.coordination
    if coordination.backend != "redis":
        raise _usage(
            "a wave on several hosts needs a coordination log they all share "
            f'(fix: set [tool.wave.coordination] backend = "redis" and url in {where})'
        )
    from pytest_wave.coordination.redis_store import CoordinationServerError, connect

    try:
        connect(coordination, where=where).close()
    except CoordinationServerError as exc:
        raise _usage(str(exc)) from None
    subdir = os.path.relpath(start.resolve(), toplevel)
    return Distribution(
        toplevel=toplevel,
        subdir="" if subdir == "." else subdir,
        base=base,
        url=settings.distributed.repo_url or str(toplevel),
        branch_prefix=settings.distributed.branch_prefix,
        arg_roots=tuple(roots),
    )


@dataclass
class Merge:
    agent_id: str
    commit: str
    branch: str
    host: str
    result: AgentResult


class RemoteController:
    def __init__(self, config: pytest.Config, plan: Distribution) -> None:
        self.config = config
        self.plan = plan
        self.clones: dict[str, str] = {}  # gateway id -> its clone on the host
        self.contexts: dict[Path, WaveContext] = {}
        self.merges: dict[Path, dict[str, Merge]] = {}
        self.crashes: dict[str, int] = {}
        self.hosts_lost: list[str] = []

    @property
    def rootpath(self) -> Path:
        return self.config.rootpath

    def context(self, wave_path: Path) -> WaveContext:
        found = self.contexts.get(wave_path)
        if found is None:
            state = session_state(self.config)
            found = self.contexts[wave_path] = WaveContext.load(wave_path, state.options, lookup=state.lookup)
        return found

    # -- setting hosts up ------------------------------------------------------------------------
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: list[Any]) -> None:
        dsession: Any = config.pluginmanager.getplugin("dsession")
        manager = dsession.nodemanager
        # xdist-private: xdist maps each existing path argument onto an rsync root and refuses the
        # rest. A root named like the argument's first part maps "waves/wave-1.md" onto itself, and
        # marking it as already sent keeps xdist from copying the tree: hosts get it from git.
        for root in self.plan.arg_roots:
            if root not in manager.roots:
                manager.roots.append(root)
            for spec in specs:
                manager._rsynced_specs.add((spec, root))
        # xdist-private: replacing a crashed worker reconnects to its host; a dead host cannot answer,
        # and the exception would end the session. The remaining hosts carry on instead.
        original = dsession._clone_node

        def clone_or_carry_on(node: Any) -> Any:
            try:
                return original(node)
            except Exception as exc:
                host = getattr(node.gateway, "id", "?")
                self.hosts_lost.append(host)
                dsession.report_line(
                    f"[wave] host {host} is gone ({' '.join(str(exc).split())[:160]}); "
                    "its agents continue on the remaining hosts"
                )
                return None

        dsession._clone_node = clone_or_carry_on

    def pytest_xdist_newgateway(self, gateway: Any) -> None:
        if not is_remote(gateway.spec):
            return
        plan = self.plan
        channel = gateway.remote_exec(checkout)
        channel.send(
            {
                "url": plan.url,
                "commit": plan.base,
                "name": plan.toplevel.name,
                "run": session_state(self.config).run_id,
            }
        )
        answer = channel.receive(PREPARE_TIMEOUT)
        if "error" in answer:
            raise _usage(
                f"host {gateway.id}: cannot prepare its clone of {plan.url} at {plan.base[:12]}: {answer['error']} "
                "(fix: push HEAD there, or set [tool.wave.distributed] repoUrl to a URL the host can clone and push to)"
            )
        self.clones[gateway.id] = answer["root"]

    def pytest_configure_node(self, node: Any) -> None:
        gateway = node.gateway
        if not is_remote(gateway.spec):
            return
        # Start the worker inside its clone (after xdist's file sync, which writes into the gateway's
        # directory): relative arguments, rootdir and node ids then match the controller's.
        channel = gateway.remote_exec("import os; os.chdir(channel.receive())")
        channel.send(os.path.join(self.clones[gateway.id], self.plan.subdir))
        channel.waitclose(PREPARE_TIMEOUT)
        node.workerinput[WORKER_KEY] = {
            "url": self.plan.url,
            "base": self.plan.base,
            "branch_prefix": self.plan.branch_prefix,
            "host": gateway.id,
        }

    # -- results coming back ---------------------------------------------------------------------
    def _wave_path(self, nodeid: str) -> Path:
        return self.rootpath / nodeid.split("::", 1)[0]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)
        if node is None or not is_remote(node.gateway.spec) or "::" not in report.nodeid:
            return
        wave_path = self._wave_path(report.nodeid)
        props = list(report.user_properties)
        payload = next((value for key, value in props if key == carry.PROPERTY), None)
        attempt = carry.parse(payload) if payload is not None else None
        landed: AgentResult | None = None
        if attempt is not None:
            try:
                ctx = self.context(wave_path)
                landed = carry.land(attempt, ctx.paths, wave_path)
            except (OSError, WaveError) as exc:
                self._say(f"{report.nodeid}: could not record the result from {attempt.host}: {exc}")
            if landed is not None and landed.ok and attempt.commit and attempt.branch:
                self.merges.setdefault(wave_path, {})[landed.agent_id] = Merge(
                    landed.agent_id, attempt.commit, attempt.branch, attempt.host, landed
                )
        kept: list[tuple[str, object]] = []
        for key, value in props:
            if key == carry.PROPERTY:
                continue
            if key == "wave":
                value = str(wave_path)  # the controller's path, not the host's
            elif key == "log" and landed is not None and landed.log_path:
                value = landed.log_path
            kept.append((key, value))
        if attempt is not None:
            kept.append(("host", attempt.host))
            if attempt.branch and attempt.commit:
                kept.append(("branch", attempt.branch))
        report.user_properties[:] = kept

    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """An agent whose host died goes back to the queue of the remaining hosts."""
        if "::" not in crashitem or not hasattr(sched, "mark_test_pending"):
            return
        try:
            ctx = self.context(self._wave_path(crashitem))
        except WaveError:
            return
        agent_id = crashitem.split("::", 1)[1]
        if agent_id not in {a.id for a in ctx.implementation_agents()}:
            return
        count = self.crashes.get(crashitem, 0)
        if count >= MAX_CRASH_RESCHEDULES:
            return
        self.crashes[crashitem] = count + 1
        sched.mark_test_pending(crashitem)
        report.outcome = "rerun"  # type: ignore[assignment]
        host = getattr(getattr(report, "node", None), "gateway", None)
        report.longrepr = (
            f"host {getattr(host, 'id', '?')} died while running {agent_id}; rescheduled on the remaining hosts"
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Map a host's wave paths (closure items it collected) onto the controller's."""
        output = getattr(node, "workeroutput", None) or {}
        root, held = output.get(ROOT_KEY), output.get("wave_held_closure")
        if not root or not isinstance(held, dict):
            return
        mapped: dict[str, list[str]] = {}
        for key, nodeids in held.items():
            try:
                mapped[str(self.rootpath / Path(key).relative_to(root))] = nodeids
            except ValueError:
                mapped[key] = nodeids
        output["wave_held_closure"] = mapped

    # -- merging, before closure -----------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        # trylast: the innermost wrapper, so this runs after xdist's loop and before the closure
        # that pytest_wave.controller runs in its own wrapper around this one.
        result = yield
        self.merge_all()
        return result

    def merge_all(self) -> None:
        """Merge every passing remote agent's branch, in wave order, with worktree isolation's merge."""
        from pytest_wave.engine.worktree import merge_agent_branches

        repo = self.plan.toplevel
        for wave_path in sorted(self.merges):
            ctx = self.context(wave_path)
            pending = self.merges[wave_path]
            merged: list[str] = []
            for agent in ctx.implementation_agents():  # the wave's order: the same history every time
                item = pending.get(agent.id)
                if item is None:
                    continue
                try:
                    self._fetch(item.branch)
                    report = merge_agent_branches(
                        repo, [item.branch], message=f"wave {ctx.wave.number}: {agent.id} from {item.host} ({{branch}})"
                    )
                    why = "; ".join(entry.describe() for entry in report.conflicted) or None
                except WaveError as exc:
                    why = exc.one_line()
                if why is None:
                    merged.append(f"{agent.id}@{item.host}")
                    continue
                carry.fail_merge(item.result, ctx.paths, item.branch, why)
                self._say(f"{agent.id}: branch {item.branch} did not merge ({why}); closure reruns it here")
            if merged:
                self._say(f"wave {ctx.wave.number}: merged {len(merged)} agent branch(es): {', '.join(merged)}")

    def _fetch(self, branch: str) -> None:
        """Hosts pushed to ``repoUrl``; when that is not this repository, bring the branch here first."""
        url = self.plan.url
        local = "://" not in url and (":" not in url or url.startswith("/"))  # not scheme://, not host:path
        if local and Path(url).resolve() == self.plan.toplevel:
            return  # hosts pushed straight into this repository
        gitops.git(self.plan.toplevel, "fetch", "--quiet", url, f"+refs/heads/{branch}:refs/heads/{branch}")

    def _say(self, line: str) -> None:
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[wave] {line}")


# --------------------------------------------------------------------------- remote worker


@dataclass(frozen=True)
class WorkerInfo:
    url: str
    base: str
    branch_prefix: str
    host: str
    extra: dict[str, Any] = field(default_factory=dict)


class RemoteWorker:
    """On a host: after a passing attempt, its work becomes a branch in the controller's repository."""

    def __init__(self, config: pytest.Config, info: WorkerInfo) -> None:
        self.config = config
        self.info = info

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if (
            report.when == "call"
            and isinstance(item, AgentItem)
            and not isinstance(item, ClosureItem)
            and item.result is not None
        ):
            report.user_properties.append((carry.PROPERTY, self.payload(item, item.result)))
        return report

    def payload(self, item: AgentItem, result: AgentResult) -> str:
        ctx = item.wave_file.context()
        branch = commit = push_error = None
        if result.ok:
            branch = f"{self.info.branch_prefix}/{result.run_id}/{item.agent.id}"
            try:
                top = Path(gitops.git(ctx.repo_root, "rev-parse", "--show-toplevel")).resolve()
                commit = gitops.commit_agent_work(
                    top,
                    self.info.base,
                    self._selector(ctx, item, top),
                    f"wave {ctx.wave.number}: {item.agent.id} ({item.agent.title}) on {self.info.host}",
                )
                if commit is not None:
                    gitops.push(top, self.info.url, commit, f"refs/heads/{branch}")
            except WaveError as exc:
                push_error = exc.one_line()
        return carry.build(
            result,
            host=self.info.host,
            host_root=ctx.repo_root,
            branch=branch,
            commit=commit,
            push_error=push_error,
        )

    @staticmethod
    def _selector(ctx: WaveContext, item: AgentItem, top: Path) -> Any:
        prefix = os.path.relpath(ctx.repo_root.resolve(), top)
        prefix = "" if prefix == "." else prefix + "/"
        state = tuple(
            f"{p.rstrip('/')}/" for p in (ctx.lane.state_root, ctx.lane.orchestrator_state_dir, ctx.lane.state_dir)
        )
        agents = ctx.wave.agents

        def select(path: str) -> bool:
            if prefix and not path.startswith(prefix):
                return False
            rel = path[len(prefix) :]
            if rel.startswith(state):
                return False  # runtime state stays on the host
            # Its own files, and changes nobody owns (the controller's ownership check names those).
            return item.agent.owns(rel) or not any(agent.owns(rel) for agent in agents)

        return select

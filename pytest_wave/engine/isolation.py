"""Where an agent attempt works, and what it changed there.

``shared`` (the default): every agent works in the repository itself; writes are attributed with
the window rule of :mod:`.ownership`. ``worktree``: each implementation agent works in its own git
worktree on ``wave/<lane>/wave-<n>/<agent>``, branched from the wave's base commit (HEAD when the
run started); after each attempt the orchestrator commits what the agent left on that branch and
judges the branch's whole diff. The integration stage merges the branches into the main tree in
wave order (:func:`merge_for_integration`); a merged branch's worktree is removed, a branch that does
not merge, or whose agent failed, keeps its worktree for a human. Closure stewards always work in
the main tree, one at a time.

Worktrees live under ``<state dir>/worktrees/wave-<n>/<agent slug>`` (the orchestrator writes only
inside the repository and its state folder).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import os
import posixpath
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_wave.engine import baseline, ownership, worktree
from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_model
from pytest_wave.errors import WaveError
from pytest_wave.model.result import Check
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Agent

ISOLATION_MODES = ("shared", "worktree")
LOCK_TIMEOUT = 300.0  # seconds; a worktree add or a merge takes far less
_GLOB = set("*?[")


class WorktreeBase(BaseModel):
    """``results/wave-N/<run>/worktree-base.json``: the commit every agent branch of the run starts from."""

    model_config = ConfigDict(extra="forbid")

    commit: str
    toplevel: str
    # Changes in the main tree that were not committed when the run started: agents do not see them.
    uncommitted: list[str] = Field(default_factory=list)


class Workspace:
    """The folder an attempt works in (its repository root) and the check of what it changed there.

    :meth:`start` runs right before the agent process starts, :meth:`finish` after the orchestrator's
    validation commands (their writes are the attempt's too)."""

    root: Path
    worktree: Path | None = None
    branch: str | None = None

    def start(self) -> None:
        """Mark the start of the attempt's writes."""

    def finish(self) -> list[Check]:
        """The ownership checks of what the attempt changed."""
        return []

    def kept_note(self) -> str | None:
        """Where a failed attempt's work stays, for its report (None in the shared tree)."""
        if self.worktree is None:
            return None
        return f"work kept in worktree {self.worktree} on branch {self.branch}"


def owns(agent: Agent, path: str) -> bool:
    """``path`` (repo-relative POSIX) is one of the agent's owned paths, under an owned directory
    (with or without a trailing ``/``), or matches an owned glob."""
    for raw in agent.owned:
        entry = raw.strip().strip("`'\"").strip()
        while entry.startswith("./"):
            entry = entry[2:]
        if not entry:
            continue
        if _GLOB & set(entry):
            if fnmatch.fnmatchcase(path, entry) or fnmatch.fnmatchcase(path, entry.rstrip("/") + "/*"):
                return True
            continue
        base = posixpath.normpath(entry)
        if path == base or (base != "." and path.startswith(base + "/")):
            return True
    return False


def mode(ctx: WaveContext) -> str:
    """``--wave-isolation`` / ini ``wave_isolation`` when given, else the lane's ``waveIsolation``, else shared."""
    return ctx.options.isolation or ctx.lane.wave_isolation or "shared"


def uses_worktree(ctx: WaveContext, agent: Agent | None = None) -> bool:
    """Whether ``agent`` (or, without one, any implementation agent) works in its own worktree."""
    return mode(ctx) == "worktree" and (agent is None or not ctx.is_closure(agent))


def worktree_path(ctx: WaveContext, agent: Agent) -> Path:
    return (
        ctx.paths.state_dir / "worktrees" / f"wave-{'x' if ctx.wave.number is None else ctx.wave.number}" / agent.slug
    )


def branch_for(ctx: WaveContext, agent: Agent) -> str:
    return worktree.branch_name(ctx.lane.name, ctx.wave.number, agent.id)


@contextlib.contextmanager
def _lock(ctx: WaveContext) -> Iterator[None]:
    """One git worktree/merge operation per repository at a time (git locks its admin files)."""
    path = ctx.paths.locks_dir() / "git-worktrees.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path), timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise WaveError(
            f"another process held {path} for {LOCK_TIMEOUT:g}s", fix="check for a stuck git process"
        ) from None
    except OSError as exc:
        raise WaveError(
            f"cannot use worktrees under {ctx.paths.state_dir}: {exc.strerror or exc}",
            fix="make it writable or set paths.stateRoot",
        ) from None


def _base_path(ctx: WaveContext, run_id: str) -> Path:
    return ctx.paths.run_dir(ctx.wave.number, run_id) / "worktree-base.json"


def record_base(ctx: WaveContext, run_id: str) -> WorktreeBase:
    """The run's base commit, recorded once (the controller does it before any agent starts)."""
    path = _base_path(ctx, run_id)
    with _lock(ctx):
        try:
            return WorktreeBase.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            pass
        top = worktree.require_repo(ctx.repo_root)
        refuse_ignored_deliverables(ctx, "worktree isolation", "or run with --wave-isolation shared")
        base = WorktreeBase(
            commit=worktree.head_commit(top),
            toplevel=str(top),
            uncommitted=worktree.uncommitted(top, ctx.paths.state_dir),
        )
        write_model(path, base)
        return base


def uncommitted_warning(ctx: WaveContext, run_id: str) -> str | None:
    """One line when worktree agents start from a commit that lacks changes in the main tree."""
    if not uses_worktree(ctx):
        return None
    try:
        base = WorktreeBase.model_validate_json(_base_path(ctx, run_id).read_bytes())
    except (OSError, ValidationError):
        return None
    if not base.uncommitted:
        return None
    shown = ", ".join(base.uncommitted[:5]) + (", ..." if len(base.uncommitted) > 5 else "")
    return (
        f"WARNING: {ctx.wave.path}: worktree isolation: agents start from commit {base.commit[:12]} and do not "
        f"see {len(base.uncommitted)} uncommitted change(s) in the main tree ({shown}); commit or stash them "
        "first, or use --wave-isolation shared"
    )


def refuse_ignored_deliverables(ctx: WaveContext, mode: str, alternative: str) -> None:
    """Worktree (and remote host) work reaches the main tree only through git: a deliverable git ignores
    would be checked where the agent worked, then lost. Refuse before any agent starts."""
    declared = {d.path: (a.id, d.line) for a in ctx.implementation_agents() for d in a.deliverables}
    lost = worktree.ignored(ctx.repo_root, sorted(declared))
    if lost:
        shown = ", ".join(f"{path} ({declared[path][0]})" for path in lost[:5])
        raise WaveError(
            f"{mode} carries work through git, but git ignores these deliverables: {shown}",
            path=ctx.wave.path,
            line=declared[lost[0]][1] or None,
            fix=f"un-ignore them (.gitignore), {alternative}",
        )


def open_workspace(ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> Workspace:
    """Set up where this attempt works; raises :class:`WaveError` (one line) when it cannot."""
    if uses_worktree(ctx, agent):
        return _worktree_workspace(ctx, agent, run_id, attempt)
    return _shared_workspace(ctx, agent, run_id, attempt)


def _owners(ctx: WaveContext) -> dict[str, ownership.Owns]:
    return {a.id: functools.partial(owns, a) for a in ctx.wave.agents}


def _shared_workspace(ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> Workspace:
    return SharedWorkspace(ctx, agent, run_id, attempt)


def _worktree_workspace(ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> Workspace:
    base = record_base(ctx, run_id)
    path = worktree_path(ctx, agent)
    branch = branch_for(ctx, agent)
    with _lock(ctx):
        worktree.ensure_worktree(Path(base.toplevel), path, branch, base.commit)
    return WorktreeWorkspace(
        agent,
        base,
        path,
        branch,
        f"wave {ctx.wave.number} {agent.id} attempt {attempt} (pytest-wave run {run_id})",
        ctx.repo_root,
    )


class SharedWorkspace(Workspace):
    """The repository itself; writes are attributed by the window rule of :mod:`.ownership`."""

    def __init__(self, ctx: WaveContext, agent: Agent, run_id: str, attempt: int) -> None:
        self.root = ctx.repo_root
        self.ctx, self.agent, self.attempt = ctx, agent, attempt
        self.ledger = ownership.WindowLedger(ctx.paths.run_dir(ctx.wave.number, run_id) / "windows")
        self.before: baseline.Snapshot = {}
        self.window: tuple[Path, ownership.Window] | None = None

    def start(self) -> None:
        try:
            # Snapshot first, then open the window: a write in between has an mtime before the window.
            self.before = tree_snapshot(self.ctx)
            self.window = self.ledger.open(self.agent.id, self.attempt)
        except OSError as exc:
            raise WaveError(
                f"cannot record the attempt's window under {self.ctx.paths.state_dir}: {exc.strerror or exc}",
                fix="make it writable or set paths.stateRoot",
            ) from None

    def finish(self) -> list[Check]:
        if self.window is None:
            return []
        window_path, window = self.window
        try:
            closed = self.ledger.close(window_path, window)
        except OSError:
            closed = window  # left open: still running as far as other agents can tell
        # Close the window, then snapshot: a later write has an mtime after the window.
        after = tree_snapshot(self.ctx)
        changes = ownership.changes_between(self.before, after)
        found = ownership.attribute(self.agent.id, closed, changes, self.ledger.windows(), _owners(self.ctx))
        note = ownership.ambiguity_note(found.ambiguous)
        return [ownership.outside_check(self.agent.owned, found.outside, evidence=str(window_path), note=note)]


class WorktreeWorkspace(Workspace):
    """The agent's own worktree: everything its branch changed since the base is its own."""

    def __init__(
        self, agent: Agent, base: WorktreeBase, path: Path, branch: str, message: str, repo_root: Path
    ) -> None:
        self.prefix = os.path.relpath(repo_root.resolve(), base.toplevel)
        self.root = path if self.prefix == "." else path / self.prefix
        self.worktree, self.branch = path, branch
        self.agent, self.base, self.message = agent, base, message

    def finish(self) -> list[Check]:
        assert self.worktree is not None and self.branch is not None
        evidence = f"branch {self.branch} in {self.worktree}"
        try:
            on = worktree.current_branch(self.worktree)
            worktree.commit_all(self.worktree, self.message, exclude=sorted(baseline.SKIP_DIRS))
            changed = [_repo_relative(p, self.prefix) for p in worktree.changed_files(self.worktree, self.base.commit)]
        except WaveError as exc:
            return [
                Check(
                    name="worktree commit",
                    ok=False,
                    expected=f"the agent's changes committed on {self.branch}",
                    found=exc.one_line(),
                    code="worktree-error",
                    evidence=evidence,
                )
            ]
        outside = [p for p in changed if not owns(self.agent, p)]
        checks = [ownership.outside_check(self.agent.owned, outside, evidence=evidence)]
        if on != self.branch:
            checks.append(
                Check(
                    name="worktree branch",
                    ok=False,
                    expected=f"the worktree still on {self.branch}",
                    found=f"on {on or 'a detached HEAD'} (its changes were committed there)",
                    code="worktree-branch-switched",
                    evidence=evidence,
                )
            )
        return checks


def _repo_relative(top_relative: str, prefix: str) -> str:
    """A path git reported (relative to the worktree top) as the wave sees it (relative to its repo root)."""
    if prefix == ".":
        return top_relative
    return posixpath.relpath(top_relative, prefix)


def merge_for_integration(ctx: WaveContext, run_id: str) -> list[Check]:
    """Worktree isolation: merge every implementation agent's branch into the main tree, in wave order,
    before the integration steward starts. One check per branch; a conflict fails its check naming the
    files and the branch, which stays (with its worktree) for a human. Shared tree: nothing to do."""
    if not uses_worktree(ctx):
        return []
    run_dir = ctx.paths.run_dir(ctx.wave.number, run_id)
    agents = ctx.implementation_agents()
    branches = [branch_for(ctx, agent) for agent in agents]
    try:
        with _lock(ctx):
            report = worktree.merge_agent_branches(
                ctx.repo_root, branches, message=f"wave {ctx.wave.number}: merge {{branch}} (pytest-wave)"
            )
    except WaveError as exc:
        return [
            Check(
                name="merge agent branches",
                ok=False,
                expected="every agent branch merged into the main tree",
                found=exc.one_line(),
                code="merge-unavailable",
            )
        ]
    report_path = run_dir / "merge.json"
    with contextlib.suppress(OSError):  # the checks below carry the same facts to the report
        write_model(report_path, report)
    checks: list[Check] = []
    top = Path(report.repo_root)
    for agent, entry in zip(agents, report.entries, strict=True):
        ok = entry.status in ("merged", "up-to-date")
        found = entry.describe()
        if ok:
            try:
                worktree.remove_worktree(top, worktree_path(ctx, agent))
            except WaveError as exc:
                found += f" (worktree not removed: {exc.message})"
        elif worktree_path(ctx, agent).exists():
            found += f"; worktree kept at {worktree_path(ctx, agent)}"
        checks.append(
            Check(
                name=f"merge {agent.id}",
                ok=ok,
                expected=f"{entry.branch} merges cleanly into the main tree",
                found=found,
                code=None if ok else f"merge-{entry.status}",
                evidence=str(report_path),
            )
        )
    _prune_empty(worktree_path(ctx, agents[0]).parent if agents else None)
    _record_blockers(ctx, list(zip(agents, report.entries, strict=True)), report_path)
    return checks


def merge_blocker_id(ctx: WaveContext, agent: Agent) -> str:
    return f"merge-conflict-wave-{ctx.wave.number}-{agent.slug}"


def _record_blockers(ctx: WaveContext, pairs: list[tuple[Agent, worktree.MergeEntry]], report_path: Path) -> None:
    """A branch that did not merge opens a closure-critical ``blocker`` record for the integration
    steward (so its prompt and ``wave coord`` show it); a later clean merge resolves that record."""
    from pytest_wave.coordination import engine as coordination
    from pytest_wave.coordination.records import make_record

    try:
        store = coordination.for_context(ctx)
        if store is None:
            return
        store.refresh()
        steward = ctx.roles.integration
        records = []
        for agent, entry in pairs:
            rid = merge_blocker_id(ctx, agent)
            current = store.state.get(rid)
            is_open = current is not None and current.get("status") == "open"
            ok = entry.status in ("merged", "up-to-date")
            if ok == (not is_open):
                continue  # nothing new: merged and no blocker, or still blocked and already recorded
            records.append(
                make_record(
                    id=rid,
                    kind="blocker",
                    wave=ctx.wave.number or 0,
                    lane=ctx.lane.name,
                    agent_id=agent.id,
                    targets=[f"agent:{steward}"],
                    status="resolved" if ok else "open",
                    priority="high",
                    severity="closure-critical",
                    summary=f"{entry.branch} merged" if ok else f"merge of {agent.id}'s branch: {entry.describe()}",
                    detail="" if ok else f"resolve by merging {entry.branch} by hand, then rerun the wave",
                    artifact_refs=[str(report_path), *entry.files],
                    closure_condition=f"{entry.branch} merged into the main tree",
                    source="launcher",
                )
            )
        if records:
            store.append(records)
            store.refresh()
    except Exception:  # the record is a courtesy; the failed merge check is what keeps the wave open
        return


def _prune_empty(folder: Path | None) -> None:
    for path in (folder, folder.parent if folder else None):
        if path is not None:
            with contextlib.suppress(OSError):  # not empty: a kept worktree lives there
                path.rmdir()


def tree_snapshot(ctx: WaveContext) -> baseline.Snapshot:
    """The repository's files, without the lane's state folder and the orchestrator's folder."""
    return ownership.tree_snapshot(ctx.repo_root, ctx.paths.state_dir, ctx.repo_root / ctx.lane.orchestrator_state_dir)


def with_checks(
    first: list[Check], extra: Callable[[AgentTask], list[Check]] | None
) -> Callable[[AgentTask], list[Check]]:
    """``extra`` with ``first`` (checks already computed, e.g. the merge's) in front."""

    def checks(task: AgentTask) -> list[Check]:
        return [*first, *(extra(task) if extra is not None else [])]

    return checks


def describe_stray(ctx: WaveContext, run_id: str, paths: list[str], after: baseline.Snapshot) -> list[str]:
    """Unowned changed paths for the whole-wave check, each with who was running when it was written."""
    ledger = ownership.WindowLedger(ctx.paths.run_dir(ctx.wave.number, run_id) / "windows")
    return ownership.describe_unowned(paths, after, ledger.windows())

"""Paths and names a wave gives the orchestrator stay inside the repository.

Deliverables and owned paths are repo-relative: one that leaves the repository through ``..``, an
absolute path or a symlink would let a wave file (or a planner's mistake) point the run at files it
must not touch. Agent ids become file names. The same checks run again when a run starts and at
check time (:mod:`pytest_wave.engine.confine`); these give the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_wave.engine.confine import path_problem, unsafe_id
from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.lint.roles import path_escapes_repo
from pytest_wave.model.findings import Finding

FIX_PATH = "use a path relative to the repository root, without '..', and not through a symlink that leads out"


@lint_rule(
    "repo-paths",
    category="validation",
    ids=("deliverable-outside-repo", "path-leaves-repo", "unsafe-agent-id"),
)
def repo_paths(ctx: LintContext) -> Iterator[Finding]:
    """Deliverables and owned paths stay inside the repository; agent ids are plain names."""
    links: dict[str, bool | None] = {}  # what each path prefix is on disk, shared by all the wave's paths
    seen: dict[str, str | None] = {}  # path -> its problem
    for agent in ctx.wave.agents:
        problem = unsafe_id(agent.id)
        if problem is not None:
            yield ctx.finding(
                "unsafe-agent-id", problem, line=agent.line, fix="name the agent like A1, A2a or A10", agent=agent
            )
        for entry in agent.deliverables:
            if path_escapes_repo(entry.path):
                yield ctx.finding(
                    "deliverable-outside-repo",
                    f'Deliverable "{entry.path}" for agent {agent.id} is outside the repository',
                    line=entry.line,
                    fix=FIX_PATH,
                    agent=agent,
                )
                continue
            yield from _leaves(ctx, agent.id, "Deliverable", entry.path, entry.line, links, seen)
        for entry in agent.owned_paths:
            if not path_escapes_repo(entry.path):  # those are owned-path-outside-repo already
                yield from _leaves(ctx, agent.id, "Owned path", entry.path, entry.line, links, seen)


def _leaves(
    ctx: LintContext,
    agent_id: str,
    kind: str,
    path: str,
    line: int,
    links: dict[str, bool | None],
    seen: dict[str, str | None],
) -> Iterator[Finding]:
    # Deliverables are usually owned paths too: one look per distinct path.
    if path not in seen:
        seen[path] = path_problem(ctx.repo_root, path, links)
    problem = seen[path]
    if problem is not None:
        yield ctx.finding(
            "path-leaves-repo",
            f'{kind} "{path}" for agent {agent_id} is refused: {problem}',
            line=line,
            fix=FIX_PATH,
            agent=agent_id,
        )


PATH_RULES = (repo_paths,)

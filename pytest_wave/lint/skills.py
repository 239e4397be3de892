"""The skill lint rule: every skill bundle an agent resolves must load, and fit the agent's runtime.

Each agent's ids are resolved the way a launch resolves them (:func:`pytest_wave.skills.skill_sources`:
lane ``skills`` base, by role, by runtime, by deploy kind, then its ``### Skills``), and each bundle is
loaded as a launch would load it. Problems are errors, because the attempt would fail on them:

- ``unknown-skill``: no ``<id>/`` bundle in the lane's skills dir or pytest-wave's starter bundles;
- ``invalid-skill-bundle``: ``skill.json`` missing, not JSON, without a description, with an id that is
  not its folder's name or an unsupported runtime; ``SKILL.md`` missing; an adapter for an unknown runtime;
- ``skill-runtime-mismatch``: the agent names a bundle whose ``skill.json`` ``runtimes`` excludes the
  runtime the agent runs on (a launch would leave it out silently).

An id from the agent's ``### Skills`` is reported at that section; an id from the lane config once per
wave, at the wave heading (the fix is in the config file, not the wave).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pytest_wave.errors import WaveError
from pytest_wave.lint.base import lint_rule
from pytest_wave.lint.context import LintContext
from pytest_wave.model.findings import Finding
from pytest_wave.skills import RUNTIMES, SkillBundle, find_bundle, load_bundle, skill_dirs, skill_sources

EXPLICIT = "explicit (### Skills)"

# (bundle folder) -> (file signature, bundle or the error loading it): linting many waves loads each once.
_cache: dict[str, tuple[tuple[int, ...], SkillBundle | WaveError]] = {}


def _signature(folder: Path) -> tuple[int, ...]:
    stamps: list[int] = []
    for path in (folder, folder / "skill.json", folder / "SKILL.md", folder / "adapters"):
        try:
            st = os.stat(path)
        except OSError:
            stamps += [-1, -1]
            continue
        stamps += [st.st_mtime_ns, st.st_size]
    return tuple(stamps)


def _load(skill_id: str, dirs: list[Path]) -> SkillBundle | WaveError | None:
    folder = find_bundle(skill_id, dirs)
    if folder is None:
        return None
    key = os.fspath(folder)
    signature = _signature(folder)
    hit = _cache.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    try:
        result: SkillBundle | WaveError = load_bundle(skill_id, [folder.parent])
    except WaveError as exc:
        result = exc
    _cache[key] = (signature, result)
    return result


@lint_rule(
    "skill-bundles",
    ids=("unknown-skill", "invalid-skill-bundle", "skill-runtime-mismatch"),
)
def skill_bundles(ctx: LintContext) -> Iterator[Finding]:
    """Every skill an agent resolves is a loadable bundle that supports the agent's runtime."""
    lane = ctx.lane
    config = lane.skills
    if not (config.base or config.by_role or config.by_runtime or config.by_deploy_kind) and not any(
        agent.skills for agent in ctx.wave.agents
    ):
        return  # nothing names a skill: the common case stays free
    dirs = skill_dirs(ctx.repo_root, lane)
    reported: set[tuple[str, str]] = set()  # config-sourced problems, once per wave
    for agent in ctx.wave.agents:
        runtime = ctx.executor_id(agent)
        sources = skill_sources(lane, ctx.wave, agent, ctx.role(agent), runtime)
        for skill_id, reasons in sources.items():
            explicit = EXPLICIT in reasons
            line = ctx.section_line(agent, "Skills") if explicit else ctx.wave_line
            origin = "### Skills" if explicit else f"the lane's skills config ({', '.join(reasons)})"
            loaded = _load(skill_id, dirs)
            problem: tuple[str, str, str] | None = None
            if loaded is None:
                problem = (
                    "unknown-skill",
                    f'Agent {agent.id} uses skill "{skill_id}" (from {origin}), which is not a bundle in '
                    f"{lane.skills.dir}/ or pytest-wave's starter skills",
                    f"create {lane.skills.dir}/{skill_id}/ with skill.json and SKILL.md, or fix the id",
                )
            elif isinstance(loaded, WaveError):
                where = loaded.path or ""
                shown = os.path.relpath(where, ctx.root) if os.path.isabs(where) else where
                problem = (
                    "invalid-skill-bundle",
                    f'Agent {agent.id} uses skill "{skill_id}" (from {origin}): {loaded.message}'
                    + (f" ({shown})" if shown else ""),
                    loaded.fix or f"repair the bundle {skill_id}/",
                )
            elif explicit and not loaded.manifest.applies_to(runtime):
                allowed = ", ".join(loaded.manifest.runtimes or RUNTIMES)
                problem = (
                    "skill-runtime-mismatch",
                    f'Agent {agent.id} runs on {runtime}, but skill "{skill_id}" is for {allowed} only',
                    f"use the {runtime} counterpart of the bundle, or run the agent on {allowed}",
                )
            if problem is None:
                continue
            rule_id, message, fix = problem
            if not explicit:
                if (rule_id, skill_id) in reported:
                    continue
                reported.add((rule_id, skill_id))
            yield ctx.finding(rule_id, message, line=line, fix=fix, agent=agent if explicit else None)

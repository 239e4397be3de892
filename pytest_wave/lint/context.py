"""Everything a rule may look at, loaded lazily and cached.

One :class:`LintContext` is built per wave being linted. Files it reads (the component matrix, role
prompts, the Context7 bundle index, skill directories) go through module-level caches keyed by file
identity, so linting many waves of one repository reads each of them once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest_wave
from pytest_wave.engine.resolve import ResolvedExecutor, RoleIds, infer_role, resolve_executor
from pytest_wave.errors import WaveError
from pytest_wave.lint.roles import role_prompt_path_allowed
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.findings import Finding, Severity
from pytest_wave.model.matrix import ComponentMatrix, load_matrix
from pytest_wave.model.task import AgentRole
from pytest_wave.model.wave import Agent, Wave
from pytest_wave.parse.roles import RolePrompt, compose_prompt, load_role_prompt

PACKAGE_SKILLS_DIR = Path(pytest_wave.__file__).resolve().parents[1] / "skills"
"""Skill bundles shipped next to the package (``<pytest-wave checkout>/skills``)."""

_MISSING = object()


@dataclass
class LintContext:
    """The wave under check plus its repository, lane and lazily loaded side files."""

    wave: Wave
    repo_root: Path
    lane: LaneConfig
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _prompts: dict[str, RolePrompt] = field(default_factory=dict, repr=False)
    _executors: dict[int, ResolvedExecutor] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        roles = self.lane.roles
        self.root: str = os.fspath(self.repo_root)
        self.path: str = self.wave.path
        self._number = self.wave.number
        self._rule_active = self.lane.validation.active
        self.evaluator_id: str = roles.evaluator_agent_id
        self.integration_id: str = roles.integration_agent_id
        self.documentation_id: str = roles.documentation_agent_id
        self.closure_ids: frozenset[str] = frozenset((self.evaluator_id, self.integration_id, self.documentation_id))

    # -- small helpers ---------------------------------------------------------------------------

    @property
    def number(self) -> int | None:
        return self.wave.number

    @property
    def label(self) -> str:
        """``Wave 3`` (``Wave ?`` for a wave without a number)."""
        return f"Wave {self.wave.number if self.wave.number is not None else '?'}"

    @property
    def wave_line(self) -> int:
        """Where wave-level findings point: the ``# Wave`` heading, else line 1."""
        return self.wave.heading_line or 1

    def active(self, threshold: int | None) -> bool:
        """Whether a rule with this lane threshold applies to this wave."""
        return self._rule_active(threshold, self._number)

    @cached_property
    def promoted(self) -> dict[str, str]:
        """:attr:`Wave.promoted <pytest_wave.model.wave.Wave.promoted>`, built once (do not mutate)."""
        return self.wave.promoted

    @cached_property
    def matrix_wanted(self) -> bool:
        """Whether the component matrix is in play: promotions are required or declared, or agent
        components are required (validation rules 1, 5, 6 and 13 look at it only then)."""
        validation = self.lane.validation
        return (
            self.active(validation.require_component_promotions_from_wave)
            or bool(self.wave.component_promotions)
            or self.active(validation.require_agent_components_from_wave)
        )

    def is_closure(self, agent: Agent) -> bool:
        return agent.id in self.closure_ids

    def section_line(self, agent: Agent, heading: str) -> int:
        """Line of the agent's ``### <heading>`` (any case), else the agent heading."""
        wanted = heading.lower()
        for title, line in agent.section_lines.items():
            if title.lower() == wanted:
                return line
        return agent.line

    def wave_section_line(self, heading: str) -> int:
        """Line of the wave's ``## <heading>`` (any case), else :attr:`wave_line`."""
        wanted = heading.lower()
        for title, line in self.wave.section_lines.items():
            if title.lower() == wanted:
                return line
        return self.wave_line

    def finding(
        self,
        rule_id: str,
        message: str,
        *,
        line: int | None,
        fix: str | None = None,
        agent: Agent | str | None = None,
        severity: Severity = "error",
    ) -> Finding:
        agent_id = agent.id if isinstance(agent, Agent) else agent
        return Finding(
            rule_id=rule_id,
            severity=severity,
            path=self.path,
            line=line or None,
            message=message,
            fix=fix,
            agent_id=agent_id,
        )

    # -- side files --------------------------------------------------------------------------------

    @property
    def matrix_path(self) -> str:
        return self.lane.component_matrix_json_path

    def matrix(self) -> tuple[ComponentMatrix | None, WaveError | None]:
        """The lane's component matrix, or the error that loading it raised."""
        cached = self._memo.get("matrix", _MISSING)
        if cached is _MISSING:
            try:
                cached = (load_matrix(os.path.join(self.root, self.matrix_path), display=self.matrix_path), None)
            except WaveError as exc:
                cached = (None, exc)
            self._memo["matrix"] = cached
        result: tuple[ComponentMatrix | None, WaveError | None] = cached
        return result

    def role_prompt(self, rel_path: str) -> RolePrompt:
        prompt = self._prompts.get(rel_path)
        if prompt is None:
            prompt = load_role_prompt(self.root, rel_path)
            self._prompts[rel_path] = prompt
        return prompt

    def resolved_prompt(self, agent: Agent) -> str | None:
        """Standing role prompts plus the local prompt; ``None`` if a role prompt did not resolve."""
        standing = self.standing_prompts(agent)
        if standing is None:
            return None
        return compose_prompt(standing, agent.prompt) if standing else agent.prompt

    def standing_prompts(self, agent: Agent) -> list[str] | None:
        """The standing prompts of ``agent``'s role prompts, in order (the parts of
        :meth:`resolved_prompt` before the local prompt); ``None`` if a role prompt did not resolve."""
        standing: list[str] = []
        prompt_dir = self.lane.roles.role_prompt_dir
        for entry in agent.role_prompts:
            if not role_prompt_path_allowed(entry.path, prompt_dir):
                return None  # never read files outside the role prompt dir
            prompt = self.role_prompt(entry.path)
            if not prompt.ok:
                return None
            standing.append(prompt.standing)
        return standing

    def executor(self, agent: Agent) -> ResolvedExecutor:
        resolved = self._executors.get(id(agent))
        if resolved is None:
            resolved = resolve_executor(agent, self.role(agent), self.lane, strict=False)
            self._executors[id(agent)] = resolved
        return resolved

    def executor_id(self, agent: Agent) -> str:
        """The runtime that runs ``agent``: :meth:`executor`'s ``id``, without resolving the rest
        (budget, tags, fallbacks, role) when the agent or its profile names the executor, as most do.
        The order is :func:`~pytest_wave.engine.resolve.resolve_executor`'s."""
        spec = agent.executor
        if spec is not None:
            if spec.id:
                return spec.id
            profile = self.lane.executors.profiles.get(spec.profile) if spec.profile else None
            if profile is not None and profile.id:
                return profile.id
        return self.executor(agent).id

    def role(self, agent: Agent) -> AgentRole:
        return infer_role(agent, RoleIds.from_lane(self.lane))

    def context7_bundles(self) -> frozenset[str] | None:
        """Bundle ids of the lane's Context7 index, ``None`` when it is missing or invalid."""
        cached = self._memo.get("bundles", _MISSING)
        if cached is _MISSING:
            cached = _bundle_ids(os.path.join(self.root, self.lane.context7_bundle_index_path))
            self._memo["bundles"] = cached
        bundles: frozenset[str] | None = cached
        return bundles

    def skill_known(self, skill_id: str) -> bool:
        """A bundle dir ``<skill_id>/`` exists in the lane's skills dir or the package's ``skills/``."""
        return skill_id in _subdirs(os.path.join(self.root, self.lane.skills.dir)) or skill_id in _subdirs(
            os.fspath(PACKAGE_SKILLS_DIR)
        )


# --------------------------------------------------------------------------- file caches

_bundle_cache: dict[str, tuple[tuple[int, int], frozenset[str] | None]] = {}
_dir_cache: dict[str, tuple[int, frozenset[str]]] = {}


def clear_lint_caches() -> None:
    """Forget cached side files (role prompts, matrices, bundle indexes, skill dirs)."""
    from pytest_wave.lint.roles import path_escapes_repo, role_prompt_path_allowed
    from pytest_wave.lint.runner import clear_lane_cache
    from pytest_wave.model.matrix import clear_matrix_cache
    from pytest_wave.parse.roles import clear_role_prompt_cache

    clear_lane_cache()
    path_escapes_repo.cache_clear()
    role_prompt_path_allowed.cache_clear()
    _bundle_cache.clear()
    _dir_cache.clear()
    clear_role_prompt_cache()
    clear_matrix_cache()


def _bundle_ids(key: str) -> frozenset[str] | None:
    try:
        st = os.stat(key)
    except OSError:
        _bundle_cache.pop(key, None)
        return None
    signature = (st.st_mtime_ns, st.st_size)
    hit = _bundle_cache.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    try:
        with open(key, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    bundles = data.get("bundles") if isinstance(data, dict) else None
    result = frozenset(str(k) for k in bundles) if isinstance(bundles, dict) else None
    _bundle_cache[key] = (signature, result)
    return result


def _subdirs(key: str) -> frozenset[str]:
    try:
        mtime = os.stat(key).st_mtime_ns
    except OSError:
        return frozenset()
    hit = _dir_cache.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    try:
        with os.scandir(key) as entries:
            names = frozenset(entry.name for entry in entries if entry.is_dir())
    except OSError:
        names = frozenset()
    _dir_cache[key] = (mtime, names)
    return names

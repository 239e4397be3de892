"""Running rules over a wave: :func:`lint_wave` (everything) and :func:`validate_wave` (the anchor's rules)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pluggy

from pytest_wave.config import CONFIG_FILE, PYPROJECT_FILE, load_config, resolve_lane
from pytest_wave.lint.base import Category, LintRule
from pytest_wave.lint.context import LintContext
from pytest_wave.lint.registry import builtin_rules, collect_rules
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.findings import Finding
from pytest_wave.model.wave import Wave

_BUILTIN: tuple[LintRule, ...] = tuple(builtin_rules())
_BUILTIN_VALIDATION: tuple[LintRule, ...] = tuple(r for r in _BUILTIN if r.category == "validation")
# Their check functions, called directly by validate_wave (one Python frame less per rule and wave).
_BUILTIN_VALIDATION_CHECKS = tuple(r.check for r in _BUILTIN_VALIDATION)


_Signature = tuple[int, int] | None
_lanes: dict[tuple[str, str | None], tuple[tuple[_Signature, _Signature], LaneConfig]] = {}
_config_files: dict[str, tuple[str, str]] = {}


def _signature(path: str) -> _Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def clear_lane_cache() -> None:
    _lanes.clear()
    _config_files.clear()


def resolve_lane_config(repo_root: str | Path, lane: LaneConfig | str | None) -> LaneConfig:
    """``lane`` itself, or the named (``None``: default) lane of ``repo_root``'s config.

    Memoized on the config files' (mtime, size), like :func:`~pytest_wave.config.load_config`, but
    with plain string paths: linting hundreds of waves should not pay for pathlib on every call.
    """
    if isinstance(lane, LaneConfig):
        return lane
    root = os.fspath(repo_root)
    files = _config_files.get(root)
    if files is None:
        files = _config_files[root] = (os.path.join(root, CONFIG_FILE), os.path.join(root, PYPROJECT_FILE))
    signature = (_signature(files[0]), _signature(files[1]))
    key = (root, lane)
    hit = _lanes.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    resolved = resolve_lane(load_config(Path(root)), lane)
    if len(_lanes) >= 64 and key not in _lanes:
        _lanes.pop(next(iter(_lanes)))
        _config_files.clear()
    _lanes[key] = (signature, resolved)
    return resolved


def run_rules(ctx: LintContext, rules: Iterable[LintRule]) -> list[Finding]:
    """Findings of ``rules`` on ``ctx``, sorted by line (stable: rule order within a line)."""
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule(ctx))
    findings.sort(key=_line_key)
    return findings


def lint_wave(
    wave: Wave,
    repo_root: str | Path,
    lane: LaneConfig | str | None = None,
    *,
    include: Sequence[Category] = ("validation", "lint"),
    rules: Sequence[LintRule] | None = None,
    pluginmanager: pluggy.PluginManager | None = None,
) -> list[Finding]:
    """Lint ``wave`` as part of ``repo_root`` and ``lane`` (a :class:`LaneConfig`, a lane name, or
    ``None`` for the config's default lane).

    Rules come from ``rules`` if given, else from the ``pytest_wave_lint_rules`` hook of ``pluginmanager``
    (built-ins plus plugins), else the built-ins alone. Only rules whose category is in ``include``
    run. Config problems raise :class:`~pytest_wave.errors.WaveConfigError`.
    """
    root = Path(repo_root)
    ctx = LintContext(wave=wave, repo_root=root, lane=resolve_lane_config(repo_root, lane))
    if rules is None:
        rules = collect_rules(pluginmanager) if pluginmanager is not None else _BUILTIN
    wanted = set(include)
    return run_rules(ctx, (rule for rule in rules if rule.category in wanted))


def validate_wave(wave: Wave, repo_root: str | Path, lane: LaneConfig | str | None = None) -> list[Finding]:
    """The Node.js tool's validation of ``wave`` (built-in ``validation`` rules only)."""
    root = repo_root if isinstance(repo_root, Path) else Path(repo_root)
    ctx = LintContext(wave=wave, repo_root=root, lane=resolve_lane_config(root, lane))
    findings: list[Finding] = []
    for check in _BUILTIN_VALIDATION_CHECKS:
        findings.extend(check(ctx))
    findings.sort(key=_line_key)
    return findings


def _line_key(finding: Finding) -> int:
    return finding.line or 0

"""The component cutover matrix (``docs/plans/component-cutover-matrix.json``).

It records, per component, its current maturity level and the level each wave promotes it to.
:func:`load_matrix` checks the file with the Node.js tool's rules and messages and caches the result
by file identity (path, mtime, size), so validating many waves reads and checks it once.
"""

from __future__ import annotations

import json
import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pytest_wave.errors import WaveError

COMPONENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
STARTER_LEVELS: tuple[str, ...] = (
    "inventoried",
    "contract-frozen",
    "repo-landed",
    "baseline-proved",
    "pilot-live",
    "qa-proved",
    "fleet-ready",
    "cutover-ready",
    "deprecation-ready",
)
MATRIX_FIX = "see 'wave schema matrix' for the expected shape of the component cutover matrix"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class MatrixPromotion(_Model):
    wave: int = Field(ge=0)
    target: str


class MatrixComponent(_Model):
    title: str
    canonical_docs: list[str] = Field(default_factory=list, alias="canonicalDocs")
    current_level: str = Field(alias="currentLevel")
    promotions: list[MatrixPromotion] = Field(default_factory=list)
    proof_surfaces: list[str] = Field(default_factory=list, alias="proofSurfaces")

    def target_for_wave(self, wave: int) -> str | None:
        """The level this component is promoted to in ``wave`` (the last entry wins), or ``None``."""
        found: str | None = None
        for promotion in self.promotions:
            if promotion.wave == wave:
                found = promotion.target
        return found


class ComponentMatrix(_Model):
    """``{version, levels, components: {id: {title, canonicalDocs, currentLevel, promotions, proofSurfaces}}}``."""

    version: int = 1
    levels: list[str] = Field(min_length=1)
    components: dict[str, MatrixComponent] = Field(default_factory=dict)

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {level: index for index, level in enumerate(self.levels)}

    @cached_property
    def _by_wave(self) -> dict[int, dict[str, str]]:
        by_wave: dict[int, dict[str, str]] = {}
        for component_id, component in self.components.items():
            for promotion in component.promotions:
                by_wave.setdefault(promotion.wave, {})[component_id] = promotion.target
        return by_wave

    def level_rank(self, level: str) -> int | None:
        """Position of ``level`` in :attr:`levels` (0 = least mature), ``None`` when unknown."""
        return self._rank.get(level)

    def promotions_for_wave(self, wave: int) -> dict[str, str]:
        """Component id -> target level for every matrix promotion of ``wave`` (do not mutate)."""
        return self._by_wave.get(wave, {})

    def passed_by_later_wave(self, component_id: str, target: str, wave: int) -> MatrixPromotion | None:
        """Why a component sits above ``target``, wave ``wave``'s promotion: the promotion of a later
        wave that took it to its current level (or beyond). ``None`` when it is not above the target,
        or nothing later explains it (a regression, or a level set by hand)."""
        component = self.components.get(component_id)
        if component is None:
            return None
        current, wanted = self.level_rank(component.current_level), self.level_rank(target)
        if current is None or wanted is None or current <= wanted:
            return None
        for promotion in component.promotions:
            rank = self.level_rank(promotion.target)
            if promotion.wave > wave and rank is not None and rank >= current:
                return promotion
        return None


# --------------------------------------------------------------------------- loading

_Signature = tuple[int, int]
_cache: dict[tuple[str, str], tuple[_Signature, ComponentMatrix | WaveError]] = {}
_CACHE_LIMIT = 64


def clear_matrix_cache() -> None:
    """Forget every loaded matrix (for tests that rewrite a file within one mtime tick)."""
    _cache.clear()


def load_matrix(path: str | Path, *, display: str | None = None) -> ComponentMatrix:
    """Load and check the matrix JSON at ``path``; problems raise :class:`WaveError`.

    ``display`` is how the file is named in messages (the lane's repo-relative path); it defaults
    to ``path``. Results, failures included, are cached until the file's mtime or size changes.
    """
    shown = display if display is not None else str(path)
    key = (os.fspath(path), shown)
    try:
        st = os.stat(path)
    except OSError:
        _cache.pop(key, None)
        raise _error(f"Component cutover matrix is missing or invalid: {shown}", shown) from None
    signature = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(key)
    if hit is None or hit[0] != signature:
        result: ComponentMatrix | WaveError
        try:
            result = _load_uncached(Path(path), shown)
        except WaveError as exc:
            result = exc
        if len(_cache) >= _CACHE_LIMIT and key not in _cache:
            _cache.pop(next(iter(_cache)))
        hit = (signature, result)
        _cache[key] = hit
    if isinstance(hit[1], WaveError):
        raise hit[1]
    return hit[1]


def _error(message: str, shown: str) -> WaveError:
    return WaveError(message, path=shown, fix=MATRIX_FIX)


def _load_uncached(path: Path, shown: str) -> ComponentMatrix:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise _error(f"Component cutover matrix is missing or invalid: {shown}", shown)
    return parse_matrix(data, shown)


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def _wave_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_matrix(data: dict[str, Any], shown: str = "component-cutover-matrix.json") -> ComponentMatrix:
    """Check already-decoded matrix JSON with the Node.js tool's rules and build the model."""
    raw_levels = data.get("levels")
    levels = _strings(raw_levels)
    if not isinstance(raw_levels, list) or not levels:
        raise _error(f'Component cutover matrix must define a non-empty "levels" array in {shown}', shown)
    levels = list(dict.fromkeys(levels))
    raw_components = data.get("components")
    if not isinstance(raw_components, dict):
        raise _error(f'Component cutover matrix must define a "components" object in {shown}', shown)
    level_set = set(levels)
    components: dict[str, MatrixComponent] = {}
    for component_id, raw in raw_components.items():
        if not COMPONENT_ID.match(component_id):
            raise _error(f'Invalid component id "{component_id}" in component cutover matrix ({shown})', shown)
        if not isinstance(raw, dict):
            raise _error(f'Component "{component_id}" must be an object in {shown}', shown)
        current = raw.get("currentLevel")
        current_text = current.strip() if isinstance(current, str) else current
        if current_text not in level_set:
            raise _error(f'Component "{component_id}" has invalid currentLevel "{_show(current)}" in {shown}', shown)
        promotions: list[MatrixPromotion] = []
        raw_promotions = raw.get("promotions")
        for index, entry in enumerate(raw_promotions if isinstance(raw_promotions, list) else []):
            if not isinstance(entry, dict):
                raise _error(f'Component "{component_id}" has malformed promotion[{index}] in {shown}', shown)
            wave = _wave_number(entry.get("wave"))
            if wave is None:
                raise _error(
                    f'Component "{component_id}" has invalid promotion wave "{_show(entry.get("wave"))}" in {shown}',
                    shown,
                )
            target = entry.get("target")
            target_text = target.strip() if isinstance(target, str) else target
            if target_text not in level_set:
                raise _error(
                    f'Component "{component_id}" has invalid promotion target "{_show(target)}" in {shown}', shown
                )
            promotions.append(MatrixPromotion(wave=wave, target=str(target_text)))
        title = raw.get("title")
        extra = {
            k: v
            for k, v in raw.items()
            if k not in ("title", "canonicalDocs", "currentLevel", "promotions", "proofSurfaces")
        }
        components[component_id] = MatrixComponent(
            title=title.strip() if isinstance(title, str) and title.strip() else component_id,
            canonicalDocs=_strings(raw.get("canonicalDocs")),
            currentLevel=str(current_text),
            promotions=promotions,
            proofSurfaces=_strings(raw.get("proofSurfaces")),
            **extra,
        )
    version = _wave_number(data.get("version")) or 1
    extra_top = {k: v for k, v in data.items() if k not in ("version", "levels", "components")}
    return ComponentMatrix(version=version, levels=levels, components=components, **extra_top)

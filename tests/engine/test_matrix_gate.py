"""The documentation steward's matrix gate: at the target level, or past it by a later wave's promotion."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_wave.engine.gates import matrix_checks
from pytest_wave.model.matrix import clear_matrix_cache

LEVELS = ["inventoried", "repo-landed", "baseline-proved", "pilot-live"]


def _matrix(tmp_path: Path, current: str, promotions: list[dict[str, object]]) -> Path:
    path = tmp_path / "matrix.json"
    component = {"title": "C", "currentLevel": current, "promotions": promotions}
    path.write_text(json.dumps({"version": 1, "levels": LEVELS, "components": {"c": component}}))
    clear_matrix_cache()
    return path


def test_at_the_target_passes(tmp_path: Path) -> None:
    path = _matrix(tmp_path, "repo-landed", [{"wave": 0, "target": "repo-landed"}])
    [check] = matrix_checks({"c": "repo-landed"}, path, 0)
    assert check.ok and check.found == "currentLevel repo-landed"


def test_past_the_target_by_a_later_wave_passes_and_says_which(tmp_path: Path) -> None:
    path = _matrix(tmp_path, "pilot-live", [{"wave": 0, "target": "repo-landed"}, {"wave": 4, "target": "pilot-live"}])
    [check] = matrix_checks({"c": "repo-landed"}, path, 0)
    assert check.ok
    assert check.found == "currentLevel pilot-live (wave 4 promoted it to pilot-live)"


def test_past_the_target_with_nothing_to_explain_it_fails(tmp_path: Path) -> None:
    # No later wave promotes it: someone set the level by hand, or this wave's target is stale.
    path = _matrix(tmp_path, "pilot-live", [{"wave": 0, "target": "repo-landed"}])
    [check] = matrix_checks({"c": "repo-landed"}, path, 0)
    assert not check.ok and check.code == "component-current-level-stale"
    # An earlier wave's promotion explains nothing about this one.
    path = _matrix(tmp_path, "pilot-live", [{"wave": 0, "target": "pilot-live"}, {"wave": 2, "target": "repo-landed"}])
    [check] = matrix_checks({"c": "repo-landed"}, path, 2)
    assert not check.ok


def test_below_the_target_fails_and_without_a_wave_number_only_equality_counts(tmp_path: Path) -> None:
    path = _matrix(tmp_path, "repo-landed", [{"wave": 0, "target": "baseline-proved"}])
    [check] = matrix_checks({"c": "baseline-proved"}, path, 0)
    assert not check.ok and check.found == "currentLevel repo-landed"
    path = _matrix(tmp_path, "pilot-live", [{"wave": 0, "target": "repo-landed"}, {"wave": 4, "target": "pilot-live"}])
    [check] = matrix_checks({"c": "repo-landed"}, path)
    assert not check.ok

"""The component cutover matrix: its model, the Node.js tool's load errors, and the file cache."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lintkit import ANCHOR

from pytest_wave.errors import WaveError
from pytest_wave.model.matrix import ComponentMatrix, clear_matrix_cache, load_matrix

SHOWN = "docs/plans/component-cutover-matrix.json"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    clear_matrix_cache()


def good() -> dict[str, Any]:
    return {
        "version": 1,
        "levels": ["inventoried", "repo-landed", "pilot-live"],
        "components": {
            "parser": {
                "title": "Parser",
                "canonicalDocs": ["README.md"],
                "currentLevel": "repo-landed",
                "promotions": [{"wave": 0, "target": "repo-landed"}, {"wave": 2, "target": "pilot-live"}],
                "proofSurfaces": ["tests"],
            },
            "runner": {"currentLevel": "inventoried"},
        },
    }


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "matrix.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def load_error(tmp_path: Path, data: Any) -> str:
    with pytest.raises(WaveError) as info:
        load_matrix(write(tmp_path, data), display=SHOWN)
    return info.value.message


def test_anchor_matrix_loads() -> None:
    matrix = load_matrix(ANCHOR / SHOWN)
    assert matrix.levels[0] == "inventoried" and len(matrix.levels) == 9
    component = matrix.components["wave-parser-and-launcher"]
    assert component.current_level == "repo-landed"
    assert component.canonical_docs == ["README.md", "docs/plans/wave-orchestrator.md"]
    assert matrix.promotions_for_wave(0) == {
        "wave-parser-and-launcher": "repo-landed",
        "starter-docs-and-adoption-guidance": "repo-landed",
    }


def test_model_defaults_and_helpers(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, good()))
    runner = matrix.components["runner"]
    assert runner.title == "runner" and runner.promotions == [] and runner.proof_surfaces == []
    assert matrix.level_rank("pilot-live") == 2 and matrix.level_rank("nope") is None
    assert matrix.components["parser"].target_for_wave(2) == "pilot-live"
    assert matrix.promotions_for_wave(7) == {}
    dumped = matrix.model_dump(by_alias=True)
    assert dumped["components"]["parser"]["currentLevel"] == "repo-landed"
    assert ComponentMatrix.model_validate(dumped) == matrix


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: "not json", f"Component cutover matrix is missing or invalid: {SHOWN}"),
        (lambda d: [1, 2], f"Component cutover matrix is missing or invalid: {SHOWN}"),
        (lambda d: d.update(levels=[]), f'Component cutover matrix must define a non-empty "levels" array in {SHOWN}'),
        (
            lambda d: d.__delitem__("levels"),
            f'Component cutover matrix must define a non-empty "levels" array in {SHOWN}',
        ),
        (lambda d: d.update(components=[]), f'Component cutover matrix must define a "components" object in {SHOWN}'),
        (
            lambda d: d["components"].update({"Bad-Id": {}}),
            f'Invalid component id "Bad-Id" in component cutover matrix ({SHOWN})',
        ),
        (lambda d: d["components"].update(runner=3), f'Component "runner" must be an object in {SHOWN}'),
        (
            lambda d: d["components"]["runner"].update(currentLevel="shipped"),
            f'Component "runner" has invalid currentLevel "shipped" in {SHOWN}',
        ),
        (
            lambda d: d["components"]["parser"]["promotions"].append("wave 3"),
            f'Component "parser" has malformed promotion[2] in {SHOWN}',
        ),
        (
            lambda d: d["components"]["parser"]["promotions"].append({"wave": -1, "target": "pilot-live"}),
            f'Component "parser" has invalid promotion wave "-1" in {SHOWN}',
        ),
        (
            lambda d: d["components"]["parser"]["promotions"].append({"wave": 3, "target": "done"}),
            f'Component "parser" has invalid promotion target "done" in {SHOWN}',
        ),
    ],
)
def test_load_errors_use_the_anchor_messages(tmp_path: Path, change: Any, message: str) -> None:
    data = good()
    result = change(data)
    assert load_error(tmp_path, result if isinstance(result, str | list) else data) == message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WaveError) as info:
        load_matrix(tmp_path / "absent.json", display=SHOWN)
    assert info.value.one_line().startswith(f"{SHOWN}: error: Component cutover matrix is missing or invalid: {SHOWN}")


def test_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, good())
    first = load_matrix(path)
    assert load_matrix(path) is first
    data = good()
    data["components"]["runner"]["currentLevel"] = "pilot-live"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    second = load_matrix(path)
    assert second is not first and second.components["runner"].current_level == "pilot-live"


def test_errors_are_cached_too(tmp_path: Path) -> None:
    path = write(tmp_path, {"levels": []})
    with pytest.raises(WaveError) as first:
        load_matrix(path)
    with pytest.raises(WaveError) as second:
        load_matrix(path)
    assert first.value is second.value
    st = path.stat()
    path.write_text(json.dumps(good()), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert "parser" in load_matrix(path).components

"""The coordination benchmark still runs against the current engine (a small log; no figure is judged)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_coordination.py"


@pytest.mark.slow
def test_bench_coordination_runs_end_to_end(tmp_path: Path) -> None:
    assert shutil.which("node"), "this test needs node on PATH (the benchmark's Node.js side)"
    out = tmp_path / "figures.json"
    args = ["--records", "3000", "--agents", "8", "--runs", "1", "--appends", "3", "--node-tool", "none"]
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cold read + materialize (fresh process)" in proc.stdout
    assert "re-implementation of the Node.js tool's algorithm" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["records"] == 3000 and len(figures["refresh_ms"]["wall"]) == 3
    assert figures["node"][0]["label"].startswith("re-implementation")
    assert all(t > 0 for t in figures["materialize"]["wall"] + figures["projections"]["wall"])

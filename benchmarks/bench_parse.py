"""Parse + validate throughput of wave files (``python benchmarks/bench_parse.py``).

Input: the 0.5.4 anchor repository fixture copied to a temp dir, with 50 and 500 identical copies of
its wave 0 written as ``docs/plans/waves/wave-<i>.md``. Each size runs 5 times, each time in a FRESH
Python subprocess (caches as cold as in a CLI run), which imports pytest-wave, resolves the lane once
(``load_config``/``resolve_lane``), then parses every file with ``parse_wave_file`` and validates it
with ``validate_wave(wave, repo_root, lane)``. See benchmarks/README.md.

Options: ``--runs N`` (default 5), ``--sizes 50,500``, ``--profile`` (cProfile one 500-file child and
print the top functions), ``--no-cold`` (skip the PYTHONDONTWRITEBYTECODE=1 figure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ANCHOR_FIXTURE,
    ANCHOR_WAVE,
    NO_CACHE_VAR,
    RESULTS_DIR,
    child_env,
    machine,
    median,
    table,
    verdict,
    write_results,
)

NODE_BEST_FILES_PER_S = 564.0
NODE_RANGE = "351-564"
TARGET_FILES_PER_S = 5600.0
TARGET_RSS_MB = 100.0

# The child: everything it measures is printed as one JSON line on stdout.
CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
from pytest_wave.config import load_config, resolve_lane
from pytest_wave.lint.runner import validate_wave
from pytest_wave.parse.wave import parse_wave_file
t1 = time.perf_counter()
root = Path(sys.argv[1])
count = int(sys.argv[2])
waves_dir = root / "docs" / "plans" / "waves"
files = [waves_dir / f"wave-{i}.md" for i in range(count)]
t2 = time.perf_counter()
lane = resolve_lane(load_config(root))
t3 = time.perf_counter()
findings = 0
agents = 0
first_file = None
for path in files:
    wave = parse_wave_file(path)
    agents += len(wave.agents)
    findings += len(validate_wave(wave, root, lane))
    if first_file is None:
        first_file = time.perf_counter() - t3
t4 = time.perf_counter()
print(json.dumps({
    "files": len(files),
    "agents": agents,
    "findings": findings,
    "import_s": t1 - t0,
    "lane_s": t3 - t2,
    "loop_s": t4 - t3,
    "first_file_s": first_file,
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""

PROFILE_CHILD = r"""
import cProfile, pstats, sys, io
from pathlib import Path
prof = cProfile.Profile()
prof.enable()
from pytest_wave.config import load_config, resolve_lane
from pytest_wave.lint.runner import validate_wave
from pytest_wave.parse.wave import parse_wave_file
root = Path(sys.argv[1])
count = int(sys.argv[2])
lane = resolve_lane(load_config(root))
for i in range(count):
    validate_wave(parse_wave_file(root / "docs" / "plans" / "waves" / f"wave-{i}.md"), root, lane)
prof.disable()
for key in ("tottime", "cumulative"):
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(25)
    print(f"==== sorted by {key} ====")
    print(out.getvalue())
"""


def make_repo(parent: Path, count: int) -> Path:
    root = parent / f"anchor-{count}"
    shutil.copytree(ANCHOR_FIXTURE, root)
    waves = root / "docs" / "plans" / "waves"
    text = (root / ANCHOR_WAVE).read_bytes()
    for i in range(count):
        (waves / f"wave-{i}.md").write_bytes(text)
    return root


def run_child(root: Path, count: int, env: dict[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(count)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed (exit {proc.returncode}):\n{proc.stderr}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall_s"] = wall
    return data


def summarize(count: int, runs: list[dict[str, float]]) -> dict[str, object]:
    loop = median([r["loop_s"] for r in runs])
    incl = median([r["import_s"] + r["lane_s"] + r["loop_s"] for r in runs])
    wall = median([r["wall_s"] for r in runs])
    return {
        "files": count,
        "runs": runs,
        "median_loop_s": loop,
        "files_per_s": count / loop,
        "ms_per_file": loop / count * 1000,
        "median_import_s": median([r["import_s"] for r in runs]),
        "median_lane_s": median([r["lane_s"] for r in runs]),
        "median_first_file_ms": median([r["first_file_s"] for r in runs]) * 1000,
        "files_per_s_incl_imports": count / incl,
        "median_process_wall_s": wall,
        "files_per_s_process_wall": count / wall,
        "peak_rss_mb": max(r["maxrss_kb"] for r in runs) / 1024,
        "median_peak_rss_mb": median([r["maxrss_kb"] for r in runs]) / 1024,
        "findings_per_run": runs[0]["findings"],
        "agents_per_run": runs[0]["agents"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="50,500")
    parser.add_argument("--profile", action="store_true", help="cProfile one 500-file child and print hotspots")
    parser.add_argument("--no-cold", action="store_true", help=f"skip the {NO_CACHE_VAR}=1 cold figure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    pycache = RESULTS_DIR / "pycache"  # bytecode lives here (PYTHONPYCACHEPREFIX), not in the checkout
    warm_env = child_env(bytecode_cache=True, extra={"PYTHONPYCACHEPREFIX": str(pycache)})

    print(f"bench_parse: parse_wave_file + validate_wave, {args.runs} fresh subprocesses per size, median")
    print(f"Python {sys.version.split()[0]} ({sys.executable}); {os.cpu_count()} CPUs")
    print(
        f"Bytecode caching ON in the children ({NO_CACHE_VAR} removed from their environment, "
        f"PYTHONPYCACHEPREFIX={pycache.relative_to(RESULTS_DIR.parent.parent)}), after one warm-up run."
    )

    results: dict[str, object] = {"benchmark": "bench_parse", "machine": machine(), "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="wave-bench-parse-") as tmp:
        repos = {count: make_repo(Path(tmp), count) for count in sizes}
        run_child(repos[sizes[0]], sizes[0], warm_env)  # warm-up: writes the bytecode cache

        summaries = {}
        for count in sizes:
            runs = [run_child(repos[count], count, warm_env) for _ in range(args.runs)]
            summaries[count] = summarize(count, runs)
        results["sizes"] = {str(k): v for k, v in summaries.items()}

        cold = None
        if not args.no_cold:
            # Cold: what this machine does by default. Our package is compiled from source on every
            # start (and pytest never rewrites here); stdlib and site-packages keep their bytecode.
            cold_prefix = Path(tmp) / "pycache-cold"
            shutil.copytree(pycache, cold_prefix, dirs_exist_ok=True)
            ours = cold_prefix / str(RESULTS_DIR.parent.parent).lstrip(os.sep)
            shutil.rmtree(ours, ignore_errors=True)
            cold_env = child_env(bytecode_cache=False, extra={"PYTHONPYCACHEPREFIX": str(cold_prefix)})
            big = max(sizes)
            cold_runs = [run_child(repos[big], big, cold_env) for _ in range(args.runs)]
            cold = summarize(big, cold_runs)
            results["cold_no_bytecode_cache"] = cold

        profile_text = None
        if args.profile:
            big = max(sizes)
            proc = subprocess.run(
                [sys.executable, "-c", PROFILE_CHILD, str(repos[big]), str(big)],
                env=warm_env,
                cwd=repos[big],
                capture_output=True,
                text=True,
                check=True,
            )
            profile_text = proc.stdout
            (RESULTS_DIR / "bench_parse.profile.txt").write_text(profile_text, encoding="utf-8")

    rows = []
    for count, s in summaries.items():
        rows.append(
            [
                str(count),
                f"{s['files_per_s']:,.0f}",
                f"{s['ms_per_file']:.3f}",
                f"{s['median_first_file_ms']:.1f}",
                f"{s['files_per_s_incl_imports']:,.0f}",
                f"{s['median_process_wall_s']:.3f}",
                f"{s['median_peak_rss_mb']:.1f}",
                f"{s['files_per_s'] / NODE_BEST_FILES_PER_S:.1f}x",
            ]
        )
    if cold is not None:
        rows.append(
            [
                f"{cold['files']} cold*",
                f"{cold['files_per_s']:,.0f}",
                f"{cold['ms_per_file']:.3f}",
                f"{cold['median_first_file_ms']:.1f}",
                f"{cold['files_per_s_incl_imports']:,.0f}",
                f"{cold['median_process_wall_s']:.3f}",
                f"{cold['median_peak_rss_mb']:.1f}",
                f"{cold['files_per_s'] / NODE_BEST_FILES_PER_S:.1f}x",
            ]
        )
    print()
    print(
        table(
            ["files", "files/s", "ms/file", "1st file ms", "files/s +imports", "proc wall s", "peak RSS MB", "vs Node"],
            rows,
        )
    )
    print(
        "files/s and ms/file: the parse+validate loop (lane resolved once before it); '+imports' adds importing\n"
        "pytest-wave and loading the config; 'proc wall' is the whole subprocess incl. interpreter start.\n"
        f"'vs Node': files/s over the Node.js tool's best {NODE_BEST_FILES_PER_S:.0f} files/s "
        f"(it did {NODE_RANGE} files/s on this machine)."
    )
    if cold is not None:
        print(f"* cold: {NO_CACHE_VAR}=1 and no bytecode for pytest-wave (this machine's default), 500 files.")
    first = next(iter(summaries.values()))
    print(
        f"Findings per run: {first['findings_per_run']} for {sizes[0]} files "
        "(copies numbered >= 6 trip the anchor's from-wave-6 rules; the cost of reporting them is included)."
    )

    big = summaries[max(sizes)]
    targets = [
        (
            "files/s (500 files)",
            f">= {TARGET_FILES_PER_S:,.0f}",
            f"{big['files_per_s']:,.0f}",
            big["files_per_s"] >= TARGET_FILES_PER_S,
        ),
        (
            "peak RSS (500 files)",
            f"< {TARGET_RSS_MB:.0f} MB",
            f"{big['peak_rss_mb']:.1f} MB",
            big["peak_rss_mb"] < TARGET_RSS_MB,
        ),
    ]
    print()
    print(table(["target", "goal", "measured", "result"], [[a, b, c, verdict(d)] for a, b, c, d in targets]))
    results["targets"] = [{"name": a, "goal": b, "measured": c, "pass": d} for a, b, c, d in targets]
    results["node_best_files_per_s"] = NODE_BEST_FILES_PER_S
    results["ratio_vs_node_best"] = big["files_per_s"] / NODE_BEST_FILES_PER_S
    results["bytecode_cache"] = f"on ({NO_CACHE_VAR} removed, PYTHONPYCACHEPREFIX={pycache})"
    if profile_text is not None:
        print()
        print(profile_text)
    path = write_results("bench_parse", results)
    print(f"\nResults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

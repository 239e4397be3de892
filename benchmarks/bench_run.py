"""End-to-end wall time of a whole ``pytest`` wave run (``python benchmarks/bench_run.py``).

Configs (each run starts from a fresh temp copy/generation of its repository, interpreter start
included, median of 5):

* ``anchor-wave-0``: the 0.5.4 anchor fixture's wave 0,
  ``python -m pytest docs/plans/waves/wave-0.md --wave-executor local -q -p no:cacheprovider``;
* ``gen-8`` / ``gen-64``: generated waves of 8 and 64 implementation agents plus A8/A9/A0 closure, all on
  ``local`` (see ``_genrepo.py``), ``python -m pytest waves/wave-2.md --wave-executor local -q -p no:cacheprovider``.

Every config runs twice: with the default worker choice (no ``-n``) and with ``-n 0``. While pytest
runs, its whole process tree is sampled every 50 ms with psutil (peak of the summed RSS). Afterwards
every agent's ``started_at``/``finished_at`` is read from
``.tmp/*/results/wave-<n>/<run-id>/attempt-1/*.json`` to measure how much the agents overlapped.

Options: ``--runs N`` (default 5), ``--configs anchor-wave-0,gen-8,gen-64``, ``--modes default,n0``,
``--no-cold``, ``--keep`` (leave the temp repos and print where).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from _common import (
    ANCHOR_FIXTURE,
    ANCHOR_WAVE,
    NO_CACHE_VAR,
    REPO,
    RESULTS_DIR,
    child_env,
    machine,
    median,
    table,
    verdict,
    write_results,
)
from _genrepo import WAVE_NUMBER, make_repo

NODE_ANCHOR_WALL_S = 14.06
TARGET_ANCHOR_WALL_S = 1.75
TARGET_SCALING = 4.0  # gen-64 wall <= 4 x gen-8 wall
TARGET_RSS_MB = 300.0
SAMPLE_S = 0.05
RUN_TIMEOUT_S = 900
CLOSURE_ROLES = frozenset({"integration", "documentation", "evaluator"})
BASE_ARGS = ["--wave-executor", "local", "-q", "-p", "no:cacheprovider"]
MODES = {"default": [], "n0": ["-n", "0"]}


class TreeSampler(threading.Thread):
    """Sum the RSS of a process and all its descendants every ``SAMPLE_S``; keep the maximum.

    The summed RSS counts a page shared by several processes (the interpreter, C extensions, the
    bytecode of modules every process imports) once per process. PSS, summed alongside, splits each
    shared page among its users: the tree's real share of physical memory. The target is on RSS;
    PSS is printed beside it (``smaps_rollup``, about 0.1 ms a process)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_pss = 0
        self.peak_procs = 0
        self.max_procs = 0
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        pss = 0
        alive = 0
        for proc in procs:
            try:
                full = proc.memory_full_info()
            except psutil.Error:
                continue
            total += full.rss
            pss += full.pss
            alive += 1
        self.samples += 1
        self.peak_pss = max(self.peak_pss, pss)
        self.max_procs = max(self.max_procs, alive)
        if total > self.peak:
            self.peak = total
            self.peak_procs = alive

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(SAMPLE_S)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def prepare(config: str, parent: Path) -> tuple[Path, str, int]:
    """A fresh repository for one run: (repo root, wave argument, wave number)."""
    root = Path(tempfile.mkdtemp(prefix=f"{config}-", dir=parent))
    if config == "anchor-wave-0":
        shutil.rmtree(root)
        shutil.copytree(ANCHOR_FIXTURE, root)
        return root, ANCHOR_WAVE, 0
    agents = int(config.split("-")[1])
    wave = make_repo(root, agents)
    return root, str(wave.relative_to(root)), WAVE_NUMBER


def agent_overlap(root: Path, wave: int) -> dict[str, Any]:
    """Max agents running at one instant and sum(durations) / span, over the implementation agents."""
    records = []
    pattern = str(root / ".tmp" / "*" / "results" / f"wave-{wave}" / "*" / "attempt-1" / "*.json")
    for path in glob.glob(pattern):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "started_at" in data and "finished_at" in data and "agent_id" in data:
            records.append(data)
    impl = [r for r in records if r.get("role") not in CLOSURE_ROLES]
    out: dict[str, Any] = {"agents": len(records), "implementation_agents": len(impl)}
    if not impl:
        return out
    events = sorted([(r["started_at"], 1) for r in impl] + [(r["finished_at"], -1) for r in impl])
    running = peak = 0
    for _, delta in events:  # ends sort before starts at the same instant: touching is not overlapping
        running += delta
        peak = max(peak, running)
    start = min(r["started_at"] for r in impl)
    end = max(r["finished_at"] for r in impl)
    durations = [r["finished_at"] - r["started_at"] for r in impl]
    closure = [r for r in records if r.get("role") in CLOSURE_ROLES]
    out.update(
        max_concurrent=peak,
        overlap_ratio=sum(durations) / (end - start) if end > start else float("nan"),
        phase_span_s=end - start,
        mean_agent_s=sum(durations) / len(durations),
        first_start=min(r["started_at"] for r in records),
        last_finish=max(r["finished_at"] for r in records),
        closure_span_s=(max(r["finished_at"] for r in closure) - min(r["started_at"] for r in closure))
        if closure
        else None,
    )
    return out


def run_once(config: str, mode: str, parent: Path, env: dict[str, str], keep: bool) -> dict[str, Any]:
    root, wave_arg, wave = prepare(config, parent)
    argv = [sys.executable, "-m", "pytest", wave_arg, *BASE_ARGS, *MODES[mode]]
    log = root.parent / f"{root.name}.log"
    with open(log, "wb") as out:
        spawned_at = time.time()
        start = time.perf_counter()
        proc = psutil.Popen(argv, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        finally:
            sampler.stop()
        wall = time.perf_counter() - start
        exited_at = time.time()
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
    result = {
        "wall_s": wall,
        "exit_code": code,
        "peak_tree_rss_mb": sampler.peak / 2**20,
        "peak_tree_pss_mb": sampler.peak_pss / 2**20,
        "procs_at_peak": sampler.peak_procs,
        "max_procs": sampler.max_procs,
        "samples": sampler.samples,
        "summary": tail[0],
        **agent_overlap(root, wave),
    }
    if result.get("first_start") is not None:
        result["to_first_agent_s"] = result["first_start"] - spawned_at
        result["after_last_agent_s"] = exited_at - result["last_finish"]
    if code != 0:
        print(f"  ! {config} [{mode}] exited {code}; log: {log}", file=sys.stderr)
        keep = True
    if keep:
        result["repo"] = str(root)
    else:
        shutil.rmtree(root, ignore_errors=True)
        log.unlink(missing_ok=True)
    return result


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return median(values) if values else None

    return {
        "runs": runs,
        "median_wall_s": med("wall_s"),
        "min_wall_s": min(r["wall_s"] for r in runs),
        "max_wall_s": max(r["wall_s"] for r in runs),
        "median_peak_tree_rss_mb": med("peak_tree_rss_mb"),
        "max_peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in runs),
        "median_peak_tree_pss_mb": med("peak_tree_pss_mb"),
        "median_max_concurrent": med("max_concurrent"),
        "median_overlap_ratio": med("overlap_ratio"),
        "median_phase_span_s": med("phase_span_s"),
        "median_mean_agent_s": med("mean_agent_s"),
        "median_closure_span_s": med("closure_span_s"),
        "median_to_first_agent_s": med("to_first_agent_s"),
        "median_after_last_agent_s": med("after_last_agent_s"),
        "max_procs": max(r["max_procs"] for r in runs),
        "all_passed": all(r["exit_code"] == 0 for r in runs),
    }


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _row(config: str, workers: str, summary: dict[str, Any]) -> list[str]:
    """One line of the results table from a config's summary."""
    medians = ("phase_span_s", "mean_agent_s", "closure_span_s", "to_first_agent_s", "after_last_agent_s")
    return [
        config,
        workers,
        fmt(summary["median_wall_s"], ".2f"),
        f"{summary['min_wall_s']:.2f}-{summary['max_wall_s']:.2f}",
        fmt(summary["median_peak_tree_rss_mb"], ".0f"),
        fmt(summary["median_peak_tree_pss_mb"], ".0f"),
        str(summary["max_procs"]),
        fmt(summary["median_max_concurrent"], ".0f"),
        fmt(summary["median_overlap_ratio"], ".2f"),
        *(fmt(summary[f"median_{name}"], ".2f") for name in medians),
        "yes" if summary["all_passed"] else "NO",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--configs", default="anchor-wave-0,gen-8,gen-64")
    parser.add_argument("--modes", default="default,n0")
    parser.add_argument("--no-cold", action="store_true", help=f"skip the {NO_CACHE_VAR}=1 cold figure")
    parser.add_argument("--keep", action="store_true", help="keep the temp repositories")
    args = parser.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]

    pycache = RESULTS_DIR / "pycache"  # bytecode lives here (PYTHONPYCACHEPREFIX), not in the checkout
    env = child_env(bytecode_cache=True, extra={"PYTHONPYCACHEPREFIX": str(pycache)})
    load_before = os.getloadavg()
    print(f"bench_run: whole `python -m pytest <wave> {' '.join(BASE_ARGS)} [-n 0]`, median of {args.runs}")
    print(
        f"Python {sys.version.split()[0]} ({sys.executable}); {os.cpu_count()} CPUs; "
        f"load average {load_before[0]:.2f} at start"
    )
    print(
        f"Bytecode caching ON in the children ({NO_CACHE_VAR} removed from their environment, "
        f"PYTHONPYCACHEPREFIX={pycache.relative_to(REPO)}), after one warm-up run per config."
    )

    results: dict[str, Any] = {"benchmark": "bench_run", "machine": machine(), "configs": {}}
    summaries: dict[tuple[str, str], dict[str, Any]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="wave-bench-run-"))
    try:
        for config in configs:
            run_once(config, modes[0], scratch, env, keep=False)  # warm-up (bytecode, page cache)
            for mode in modes:
                runs = []
                for i in range(args.runs):
                    runs.append(run_once(config, mode, scratch, env, args.keep))
                    print(f"  {config:14s} [{mode:7s}] run {i + 1}/{args.runs}: {runs[-1]['wall_s']:.2f} s", flush=True)
                summaries[(config, mode)] = summarize(runs)
                results["configs"].setdefault(config, {})[mode] = summaries[(config, mode)]

        cold = None
        if not args.no_cold and "anchor-wave-0" in configs:
            # This machine's default: pytest-wave compiled from source on every start (and pytest's
            # assertion rewrite of plugin modules redone); stdlib and site-packages keep their bytecode.
            cold_prefix = scratch / "pycache-cold"
            shutil.copytree(pycache, cold_prefix, dirs_exist_ok=True)
            shutil.rmtree(cold_prefix / str(REPO).lstrip(os.sep), ignore_errors=True)
            cold_env = child_env(bytecode_cache=False, extra={"PYTHONPYCACHEPREFIX": str(cold_prefix)})
            cold_runs = [run_once("anchor-wave-0", modes[0], scratch, cold_env, False) for _ in range(args.runs)]
            cold = summarize(cold_runs)
            results["cold_no_bytecode_cache"] = {"anchor-wave-0": cold}
    finally:
        # py_compile validation commands of the temp repos wrote bytecode under the prefix too.
        shutil.rmtree(pycache / str(scratch).lstrip(os.sep), ignore_errors=True)
        for empty in (pycache / str(scratch.parent).lstrip(os.sep),):
            with contextlib.suppress(OSError):
                empty.rmdir()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"temp repositories kept under {scratch}")

    load_after = os.getloadavg()
    results["load_average"] = {"start": load_before, "end": load_after}
    rows = [_row(config, "-n 0" if mode == "n0" else "default", s) for (config, mode), s in summaries.items()]
    if cold is not None:
        rows.append(_row("anchor-wave-0", "cold*", cold))
    print()
    print(
        table(
            [
                "config",
                "workers",
                "wall s",
                "range s",
                "peak RSS MB",
                "peak PSS MB",
                "procs",
                "max conc",
                "overlap",
                "impl span s",
                "agent s",
                "closure s",
                "pre s",
                "post s",
                "exit 0",
            ],
            rows,
        )
    )
    print(
        "wall: whole pytest process incl. interpreter start (median). peak RSS: max over 50 ms samples of the\n"
        "summed RSS of the pytest process tree (xdist workers, agents, validation commands); peak PSS: the\n"
        "same with shared pages split among their processes (the tree's real share of memory). procs: most\n"
        "processes seen at once. max conc / overlap / impl span / agent s: implementation agents only, from\n"
        "their started_at/finished_at (overlap = sum of durations / span). closure s: A8->A0 span.\n"
        "pre s: pytest spawn -> first agent start; post s: last agent finish -> pytest exit."
    )
    if cold is not None:
        print(f"* cold: {NO_CACHE_VAR}=1 and no bytecode for pytest-wave (this machine's default).")
    print(f"load average: {load_before[0]:.2f} at start, {load_after[0]:.2f} at end ({os.cpu_count()} CPUs)")

    targets = []
    for mode in modes:
        label = "-n 0" if mode == "n0" else "default"
        anchor = summaries.get(("anchor-wave-0", mode))
        if anchor:
            wall = anchor["median_wall_s"]
            targets.append(
                (
                    f"anchor wave-0 wall [{label}]",
                    f"<= {TARGET_ANCHOR_WALL_S} s",
                    f"{wall:.2f} s ({NODE_ANCHOR_WALL_S / wall:.1f}x faster than Node's {NODE_ANCHOR_WALL_S} s)",
                    wall <= TARGET_ANCHOR_WALL_S,
                )
            )
        small, big = summaries.get(("gen-8", mode)), summaries.get(("gen-64", mode))
        if small and big:
            ratio = big["median_wall_s"] / small["median_wall_s"]
            targets.append(
                (
                    f"gen-64 / gen-8 wall [{label}]",
                    f"<= {TARGET_SCALING:.0f}x",
                    f"{ratio:.2f}x ({big['median_wall_s']:.2f} / {small['median_wall_s']:.2f} s)",
                    ratio <= TARGET_SCALING,
                )
            )
        if big:
            rss = big["max_peak_tree_rss_mb"]
            targets.append(
                (
                    f"gen-64 peak tree RSS [{label}]",
                    f"< {TARGET_RSS_MB:.0f} MB",
                    f"{rss:.0f} MB (worst of {len(big['runs'])}; PSS {big['median_peak_tree_pss_mb']:.0f} MB)",
                    rss < TARGET_RSS_MB,
                )
            )
        for name in ("gen-8", "gen-64"):
            s = summaries.get((name, mode))
            if s and s["median_max_concurrent"] is not None:
                targets.append(
                    (
                        f"{name} agents overlap [{label}]",
                        "max conc >= 2",
                        f"max {s['median_max_concurrent']:.0f} at once, overlap {s['median_overlap_ratio']:.2f}",
                        s["median_max_concurrent"] >= 2,
                    )
                )
    print()
    print(table(["target", "goal", "measured (median)", "result"], [[a, b, c, verdict(d)] for a, b, c, d in targets]))
    results["targets"] = [{"name": a, "goal": b, "measured": c, "pass": d} for a, b, c, d in targets]
    results["bytecode_cache"] = f"on ({NO_CACHE_VAR} removed, PYTHONPYCACHEPREFIX={pycache})"
    path = write_results("bench_run", results)
    print(f"\nResults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Resume overhead: rerunning a closed 8-agent wave with nothing to redo (``python benchmarks/bench_resume.py``).

Each run generates a fresh ``gen-8`` repository (``_genrepo.py``: 8 implementation agents plus
A8/A9/A0, all ``local``) and times three whole ``python -m pytest waves/wave-2.md --wave-executor local
-q -p no:cacheprovider`` processes in it, interpreter start included:

1. ``first``: the wave runs and closes (default worker choice: xdist with one worker per agent);
2. ``rerun``: the same command again, nothing changed: every agent and closure stage re-verifies its
   earlier proof (prompt fingerprint, sha256 of its files, what closure judged, the orchestrator's own
   closure checks) and reports ``reused``; no xdist worker and no agent starts;
3. ``agent-level``: the wave file's heading edited first (the wave's hash changes, no agent's prompt
   does): the same re-verification, so the result must not depend on the wave file being untouched.

Figure: median over the runs of (2) / (1) and (3) / (1); target <= 0.2 for both.
Options: ``--runs N`` (default 5), ``--agents N`` (default 8), ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, child_env, machine, median, table, verdict, write_results
from _genrepo import make_repo

TARGET_RATIO = 0.2
ARGS = ["--wave-executor", "local", "-q", "-p", "no:cacheprovider"]
TIMEOUT_S = 600


def timed(root: Path, wave: Path, env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(wave.relative_to(root)), *ARGS],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    wall = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    return wall, proc.returncode, lines[-1] if lines else ""


def run_once(parent: Path, agents: int, env: dict[str, str], keep: bool) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"resume-{agents}-", dir=parent))
    wave = make_repo(root, agents)
    first, code1, _ = timed(root, wave, env)
    rerun, code2, summary2 = timed(root, wave, env)
    text = wave.read_text(encoding="utf-8")
    wave.write_text(text.replace(" - Benchmark:", " - Benchmark (renamed):", 1), encoding="utf-8")
    agent_level, code3, summary3 = timed(root, wave, env)
    result = {
        "first_s": first,
        "rerun_s": rerun,
        "agent_level_s": agent_level,
        "rerun_ratio": rerun / first,
        "agent_level_ratio": agent_level / first,
        "exit_codes": [code1, code2, code3],
        "rerun_summary": summary2,
        "agent_level_summary": summary3,
    }
    if keep or any((code1, code2, code3)):
        result["repo"] = str(root)
        if any((code1, code2, code3)):
            print(f"  ! exit codes {code1}/{code2}/{code3}; repo kept: {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    pycache = RESULTS_DIR / "pycache"
    env = child_env(bytecode_cache=True, extra={"PYTHONPYCACHEPREFIX": str(pycache)})
    load = os.getloadavg()
    print(f"bench_resume: gen-{args.agents}, median of {args.runs}; load average {load[0]:.2f} at start")
    scratch = Path(tempfile.mkdtemp(prefix="wave-bench-resume-"))
    runs: list[dict[str, Any]] = []
    try:
        run_once(scratch, args.agents, env, keep=False)  # warm-up (bytecode, page cache)
        for index in range(args.runs):
            runs.append(run_once(scratch, args.agents, env, args.keep))
            r = runs[-1]
            print(
                f"  run {index + 1}/{args.runs}: first {r['first_s']:.2f} s, rerun {r['rerun_s']:.2f} s "
                f"({r['rerun_ratio']:.3f}), agent-level {r['agent_level_s']:.2f} s ({r['agent_level_ratio']:.3f})",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    figures = {
        key: median([r[key] for r in runs])
        for key in ("first_s", "rerun_s", "agent_level_s", "rerun_ratio", "agent_level_ratio")
    }
    ok = all(r["exit_codes"] == [0, 0, 0] for r in runs)
    print()
    print(
        table(
            ["step", "wall s (median)", "ratio to first"],
            [
                ["first run (closes)", f"{figures['first_s']:.2f}", "1"],
                ["rerun, nothing changed", f"{figures['rerun_s']:.2f}", f"{figures['rerun_ratio']:.3f}"],
                [
                    "rerun, every agent re-verified",
                    f"{figures['agent_level_s']:.2f}",
                    f"{figures['agent_level_ratio']:.3f}",
                ],
            ],
        )
    )
    print(f"last summaries: {runs[-1]['rerun_summary']!r} / {runs[-1]['agent_level_summary']!r}")
    targets = [
        ("resume overhead (rerun of a closed wave)", figures["rerun_ratio"]),
        ("resume overhead (every agent re-verified)", figures["agent_level_ratio"]),
    ]
    print()
    print(
        table(
            ["target", "goal", "measured (median)", "result"],
            [
                [name, f"<= {TARGET_RATIO}", f"{value:.3f}", verdict(value <= TARGET_RATIO and ok)]
                for name, value in targets
            ],
        )
    )
    results = {
        "benchmark": "bench_resume",
        "machine": machine(),
        "agents": args.agents,
        "runs": runs,
        "median": figures,
        "all_exit_0": ok,
        "load_average": {"start": load, "end": os.getloadavg()},
        "targets": [
            {"name": n, "goal": f"<= {TARGET_RATIO}", "measured": v, "pass": v <= TARGET_RATIO} for n, v in targets
        ],
    }
    print(f"\nResults: {write_results('bench_resume', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

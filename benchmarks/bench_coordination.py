"""Coordination benchmark: a 100,000-record log, 64 agents (issue 5, "Speed").

Measures, as medians over several runs:

1. cold read + materialize of the whole log;
2. after one more record is appended, refreshing the state and the projections it affects
   (incremental: only the new bytes are read, the materialized state is kept);
3. all projections for the 64-agent wave from the log, cold (read + materialize + board, shared
   summary, 64 inboxes, ledger, integration summary, assignments, docs queue, written to disk).

The Node.js tool re-reads the log and recompiles every projection on each 3 s poll; its figures on
a 100,000-record log were 0.99 s (read + materialize) and 1.92 s (+ board, shared summary and 64
inboxes). Set ``WAVE_NODE_TOOL`` to a checkout of the Node.js tool (with ``node`` on PATH) to time it
on the same generated log side by side; without it, but with ``node``, a re-implementation of the
tool's algorithm (bench_coordination_node.mjs) is timed instead; without ``node``, the reference
figures are printed.

    python benchmarks/bench_coordination.py [--records 100000] [--agents 64] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_wave.coordination.log import LogReader
from pytest_wave.coordination.records import dumps_line
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.coordination.store import CoordinationPaths, WaveCoordination
from pytest_wave.model.coordination import Roster, RosterAgent

NODE_READ_MATERIALIZE_S = 0.99
NODE_WITH_PROJECTIONS_S = 1.92
KIND_WEIGHTS = {
    "evidence": 24,
    "claim": 14,
    "ack": 10,
    "decision": 8,
    "request": 18,
    "blocker": 8,
    "handoff": 6,
    "clarification-request": 2,
    "integration-summary": 1,
}
WORDS = [
    "api",
    "queue",
    "cache",
    "retry",
    "schema",
    "index",
    "worker",
    "shard",
    "rollback",
    "guard",
    "budget",
    "latency",
    "durable",
    "proof",
]


def make_roster(agents: int) -> Roster:
    members = [
        RosterAgent(
            agent_id=f"A{i}",
            title=f"Agent {i}",
            owned_paths=[f"src/mod{i}/", f"docs/mod{i}.md"],
            components=[f"component-{i % 16}"],
            capabilities=[f"cap-{i % 12}", "runtime"],
            role="implementation",
            executor_id="local",
        )
        for i in range(1, agents + 1)
    ]
    return Roster(
        lane="main",
        wave=7,
        agents=members,
        preferred_agents={"cap-0": ["A12"]},
        promotions={f"component-{c}": "repo-landed" for c in range(16)},
    )


def generate(path: Path, records: int, agents: int, seed: int = 7) -> None:
    """A realistic log: ~60% new records, ~40% status updates of earlier ones, most things closing."""
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    created: list[dict[str, object]] = []
    lines: list[bytes] = []
    base = 1_767_225_600  # 2026-01-01
    for n in range(records):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + n)) + ".000Z"
        if created and rng.random() < 0.4:
            prev = created[rng.randrange(len(created))]
            status = rng.choice(["acknowledged", "in_progress", "resolved", "resolved", "closed"])
            record = {**prev, "status": status, "updatedAt": stamp}
        else:
            kind = rng.choices(kinds, weights)[0]
            author = rng.randrange(1, agents + 1)
            target_kind = rng.random()
            if target_kind < 0.5:
                targets = [f"agent:A{rng.randrange(1, agents + 1)}"]
            elif target_kind < 0.7:
                targets = [f"capability:cap-{rng.randrange(12)}"]
            else:
                targets = []
            words = " ".join(rng.choice(WORDS) for _ in range(8))
            record = {
                "recordVersion": 1,
                "id": f"rec-{n}",
                "kind": kind,
                "wave": 7,
                "lane": "main",
                "agentId": f"A{author}",
                "targets": targets,
                "status": "open",
                "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                "artifactRefs": [f"src/mod{rng.randrange(1, agents + 1)}/file{rng.randrange(5)}.py"],
                "dependsOn": [],
                "closureCondition": "",
                "createdAt": stamp,
                "updatedAt": stamp,
                "confidence": "medium",
                "summary": f"{kind} from A{author}: {words}",
                "detail": f"detail for record {n}: {words} {words}",
                "attempt": 1,
                "source": "agent",
                "executorId": "local",
                "requesterLane": "",
                "ownerLane": "",
                "requesterWave": None,
                "ownerWave": None,
                "required": False,
                "severity": None,
            }
            created.append(record)
        lines.append(dumps_line(record) + b"\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))


def cold_materialize(log: Path, roster: Roster) -> float:
    start = time.perf_counter()
    batch = LogReader(log).poll(final=True)
    state = CoordinationState(roster)
    state.apply_all((entry.record, entry.set_keys) for entry in batch.entries)
    state.take_changes()
    elapsed = time.perf_counter() - start
    assert state.record_count == len(batch.entries) and not batch.issues
    return elapsed


def cold_projections(state_dir: Path, roster: Roster) -> tuple[float, WaveCoordination]:
    shutil.rmtree(state_dir / "inboxes", ignore_errors=True)
    start = time.perf_counter()
    coordination = WaveCoordination(roster, CoordinationPaths(state_dir, state_dir / "orchestrator", roster.wave))
    coordination.refresh(seeds=False)
    elapsed = time.perf_counter() - start
    assert len(coordination.views.inboxes) == len(roster.agents)
    return elapsed, coordination


def one_append_refreshes(coordination: WaveCoordination, count: int) -> list[float]:
    times: list[float] = []
    rng = random.Random(11)
    for n in range(count):
        kind = ["evidence", "request", "blocker", "claim"][n % 4]
        record = {
            "id": f"bench-append-{n}",
            "kind": kind,
            "wave": 7,
            "lane": "main",
            "agentId": f"A{rng.randrange(1, 65)}",
            "targets": [f"agent:A{rng.randrange(1, 65)}"] if n % 2 else ["capability:cap-3"],
            "summary": f"appended {kind} {n}",
            "artifactRefs": [f"src/mod{rng.randrange(1, 65)}/x.py"],
            "source": "agent",
        }
        coordination.append([record])
        start = time.perf_counter()
        coordination.refresh(seeds=False)
        times.append(time.perf_counter() - start)
    return times


def node_figures(log: Path, agents: int, runs: int) -> tuple[float, float, str] | None:
    """The Node.js side on the same log (see bench_coordination_node.mjs); None without ``node``."""
    node = shutil.which("node")
    script = Path(__file__).with_name("bench_coordination_node.mjs")
    if not node or not script.exists():
        return None
    out = subprocess.run(
        [node, str(script), str(log), str(agents), str(runs)], capture_output=True, text=True, check=False, timeout=900
    )
    if out.returncode != 0:
        print(f"node run failed: {out.stderr.strip()[:300]}", file=sys.stderr)
        return None
    data = json.loads(out.stdout)
    return float(data["materialize"]), float(data["projections"]), str(data["label"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--appends", type=int, default=20)
    args = parser.parse_args(argv)
    roster = make_roster(args.agents)
    with tempfile.TemporaryDirectory(prefix="bench-coord-") as tmp:
        state_dir = Path(tmp) / "state"
        log = state_dir / "coordination" / f"wave-{roster.wave}.jsonl"
        generate(log, args.records, args.agents)
        size = log.stat().st_size
        print(f"log: {args.records} records, {size / 1e6:.1f} MB, {args.agents} agents")
        cold = [cold_materialize(log, roster) for _ in range(args.runs)]
        projections: list[float] = []
        coordination: WaveCoordination | None = None
        for _ in range(args.runs):
            elapsed, coordination = cold_projections(state_dir, roster)
            projections.append(elapsed)
        assert coordination is not None
        refresh = one_append_refreshes(coordination, args.appends)
        node = node_figures(log, args.agents, args.runs)
    ref_m, ref_p = (node[0], node[1]) if node else (NODE_READ_MATERIALIZE_S, NODE_WITH_PROJECTIONS_S)
    source = f"measured here, {node[2]}" if node else "reference figures from the issue"
    med_cold = statistics.median(cold)
    med_proj = statistics.median(projections)
    med_refresh = statistics.median(refresh)
    print(f"Node.js tool ({source}): read+materialize {ref_m:.3f} s; +board, summary, 64 inboxes {ref_p:.3f} s")
    print(f"cold read + materialize:          median {med_cold:.3f} s  ({ref_m / med_cold:.1f}x the Node.js tool)")
    print(f"one-append refresh (+projections): median {med_refresh * 1000:.1f} ms (target <= 20 ms)")
    print(f"all projections, 64 agents, cold:  median {med_proj:.3f} s  ({ref_p / med_proj:.1f}x the Node.js tool)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

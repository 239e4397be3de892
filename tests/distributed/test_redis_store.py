"""The Redis stream backend of the coordination log, against a real redis-server on loopback.

Same contract as the JSONL file: whole records in order, atomic batches across processes, partial
updates kept partial, bad entries reported with their position and the rest kept, and one clear
line when the server is down.
"""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path
from typing import Any

import pytest
import redis
from servers import RedisServer, free_port

from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.coordination.redis_store import (
    CoordinationServerError,
    RedisCoordinationLog,
    configured_log,
    open_log,
    shown_url,
    stream_key,
)
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.coordination.store import CoordinationPaths, WaveCoordination
from pytest_wave.model.config import CoordinationBackendConfig
from pytest_wave.model.coordination import Roster, RosterAgent

NOW = "2026-03-01T00:00:00.000Z"
PROCESSES = 4
BATCHES = 40


def rec(**fields: Any) -> Rec:
    fields.setdefault("lane", "main")
    fields.setdefault("wave", 1)
    fields.setdefault("agent_id", "A1")
    fields.setdefault("source", "agent")
    fields.setdefault("created_at", NOW)
    return make_record(**fields)


def settings(server: RedisServer, **extra: Any) -> CoordinationBackendConfig:
    return CoordinationBackendConfig.model_validate({"backend": "redis", "url": server.url, **extra})


def stream(server: RedisServer, tmp_path: Path, wave: int = 1) -> RedisCoordinationLog:
    return open_log(
        settings(server),
        tmp_path / "wave.jsonl",
        project="Demo Project",
        lane="main",
        wave=wave,
        where="pyproject.toml",
    )


def test_records_round_trip_like_the_jsonl_file(redis_server: RedisServer, tmp_path: Path) -> None:
    log = stream(redis_server, tmp_path)
    jsonl = CoordinationLog(tmp_path / "file.jsonl")
    batches: list[list[Rec | dict[str, Any]]] = [
        [rec(id="r1", kind="request", summary="first"), rec(id="r2", kind="blocker", summary="stuck")],
        # A partial update: only status (plus id and timestamps) is written, so folding keeps the summary.
        [{"id": "r2", "kind": "blocker", "lane": "main", "wave": 1, "agentId": "A1", "status": "resolved"}],
        [rec(id="r3", kind="evidence", agent_id="A2", summary="proof")],
    ]
    for batch in batches:
        log.append(batch)
        jsonl.append(batch)
    from_stream, from_file = log.read_all(), jsonl.read_all()
    assert from_stream.all_issues() == []
    assert [e.record["id"] for e in from_stream.entries] == ["r1", "r2", "r2", "r3"]
    assert [e.line for e in from_stream.entries] == [1, 2, 3, 4]
    assert [e.set_keys for e in from_stream.entries] == [e.set_keys for e in from_file.entries]
    state = CoordinationState(None)
    state.apply_all((e.record, e.set_keys) for e in from_stream.entries)
    assert state.latest["r2"]["status"] == "resolved"
    assert state.latest["r2"]["summary"] == "stuck"  # the partial update did not blank it
    assert log.key == "wave:demo-project:main:wave-1"
    assert log.length() == 4


def test_the_reader_is_incremental(redis_server: RedisServer, tmp_path: Path) -> None:
    log = stream(redis_server, tmp_path)
    reader = log.reader()
    assert reader.poll().entries == []
    log.append([rec(id="a", kind="claim", summary="a")])
    assert [e.record["id"] for e in reader.poll().entries] == ["a"]
    assert reader.poll().entries == []
    log.append([rec(id="b", kind="claim", summary="b"), rec(id="c", kind="claim", summary="c")])
    batch = reader.poll(final=True)
    assert [(e.record["id"], e.line) for e in batch.entries] == [("b", 2), ("c", 3)]
    assert batch.torn_tail is None


def _writer(url: str, tmp: str, worker: int) -> None:
    log = open_log(
        CoordinationBackendConfig.model_validate({"backend": "redis", "url": url}),
        Path(tmp) / "wave.jsonl",
        project="Demo Project",
        lane="main",
        wave=1,
        where="pyproject.toml",
    )
    for n in range(BATCHES):
        log.append([rec(id=f"w{worker}-{n}-{part}", kind="evidence", agent_id=f"A{worker}") for part in range(3)])


def test_batches_from_several_processes_land_whole_and_in_order(redis_server: RedisServer, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(redis_server.url, str(tmp_path), w)) for w in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    ids = [e.record["id"] for e in stream(redis_server, tmp_path).read_all().entries]
    assert len(ids) == len(set(ids)) == PROCESSES * BATCHES * 3  # every record, once
    for start in range(0, len(ids), 3):  # a batch is one transaction: its three records are adjacent
        prefixes = {i.rsplit("-", 1)[0] for i in ids[start : start + 3]}
        assert len(prefixes) == 1, ids[start : start + 3]
    for worker in range(PROCESSES):
        mine = [int(i.split("-")[1]) for i in ids[::3] if i.startswith(f"w{worker}-")]
        assert mine == sorted(mine)


def test_a_bad_batch_writes_nothing_and_bad_entries_are_reported(redis_server: RedisServer, tmp_path: Path) -> None:
    log = stream(redis_server, tmp_path)
    log.append([rec(id="ok1", kind="claim", summary="fine")])
    with pytest.raises(ValueError, match="kind"):
        log.append([rec(id="ok2", kind="claim", summary="fine"), {"id": "bad", "kind": "gossip"}])
    assert log.length() == 1  # validated before anything was sent
    client = redis.Redis.from_url(redis_server.url)
    client.xadd(log.key, {b"r": b'{"id": "torn", "kind": '})
    client.xadd(log.key, {b"r": b'{"id":"x","kind":"gossip","lane":"main","wave":1,"agentId":"A1"}'})
    log.append([rec(id="ok3", kind="claim", summary="after"), rec(id="z", kind="claim", agent_id="Z9")])
    batch = log.read_all(known_agents=["A1"])
    assert [e.record["id"] for e in batch.entries] == ["ok1", "ok3", "z"]
    issues = [(i.line, i.kind) for i in batch.issues]
    assert issues == [(2, "corrupt"), (3, "unknown-kind"), (5, "unknown-agent")]
    assert all(log.key in i.path for i in batch.issues)


def test_a_launcher_record_two_hosts_derive_at_once_lands_once(redis_server: RedisServer, tmp_path: Path) -> None:
    host_a, host_b = stream(redis_server, tmp_path), stream(redis_server, tmp_path / "b")
    seed = {"id": "wave-1-agent-A1-request", "kind": "request", "source": "launcher", "agent_id": "launcher"}
    host_a.append([rec(**seed, summary="Wave 1 assigned to A1", created_at="2026-03-01T00:00:00.000Z")])
    host_b.append([rec(**seed, summary="Wave 1 assigned to A1", created_at="2026-03-01T00:00:01.000Z")])
    assert host_a.length() == 1  # same content, later timestamp: nothing new to say
    host_b.append([rec(**seed, summary="Wave 1 assigned to A1", status="resolved")])
    assert host_a.length() == 2  # a real change is appended
    agent = rec(id="c1", kind="claim", summary="same words twice")
    host_a.append([agent])
    host_b.append([agent])
    assert host_a.length() == 4  # agents' records are kept as posted, like the file keeps them
    statuses = [e.record["status"] for e in host_b.read_all().entries if e.record["id"] == seed["id"]]
    assert statuses == ["open", "resolved"]


def _roster() -> Roster:
    agents = [
        RosterAgent(agent_id=a, title=a, owned_paths=[f"out/{a}.txt"], role="implementation") for a in ("A1", "A2")
    ]
    return Roster(lane="main", wave=1, agents=agents)


def test_wave_coordination_on_the_stream_matches_the_file(redis_server: RedisServer, tmp_path: Path) -> None:
    records = [
        rec(id="b1", kind="blocker", summary="A2 waits for the schema", agent_id="A2", targets=["agent:A1"]),
        rec(id="c1", kind="claim", summary="schema is in", agent_id="A1"),
    ]
    views: list[str] = []
    for name, log in (("file", None), ("stream", stream(redis_server, tmp_path))):
        paths = CoordinationPaths(tmp_path / name, tmp_path / name / "orchestrator", 1)
        coordination = WaveCoordination(_roster(), paths, log=log)
        coordination.append(records)
        coordination.refresh()
        coordination.flush()
        views.append(re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z|\d\d:\d\d:\d\d\.\d+Z", "<time>", paths.board.read_text()))
        checks = {c.name: c.ok for c in coordination.barrier_checks()}
        assert checks["coordination: open blocking records"] is False
    assert views[0] == views[1]


def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    config = CoordinationBackendConfig.model_validate({"backend": "redis", "url": url, "connectTimeout": 2})
    with pytest.raises(CoordinationServerError) as caught:
        configured_log(config, tmp_path / "w.jsonl", repo_root=tmp_path, project="p", lane="main", wave=1)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach the coordination server redis://***@127.0.0.1:{url.split(':')[3]}")
    assert "secret" not in message
    assert f"fix [tool.wave.coordination] url in {tmp_path / 'pyproject.toml'}" in message
    assert isinstance(caught.value, OSError)  # the engine reports it as "coordination unavailable"


def test_the_file_stays_the_default(tmp_path: Path) -> None:
    default = CoordinationBackendConfig()
    assert configured_log(default, tmp_path / "w.jsonl", repo_root=tmp_path, project="p", lane="main", wave=1) is None
    assert stream_key(default, "  My App ", "main", 3) == "wave:my-app:main:wave-3"
    assert shown_url("redis://user:pw@host:1/0") == "redis://user:***@host:1/0"
    with pytest.raises(ValueError, match="redis://"):
        CoordinationBackendConfig.model_validate({"backend": "redis", "url": "http://x"})


def test_wave_coord_post_and_show_use_the_configured_stream(redis_server: RedisServer, tmp_path: Path) -> None:
    """An agent on any host posts with the real `wave coord` command: the record lands in the shared
    stream (not in a file on that host), and every host reads it back from there."""
    import subprocess
    import sys

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text(
        '[tool.wave]\nprojectName = "demo"\n\n'
        f'[tool.wave.coordination]\nbackend = "redis"\nurl = "{redis_server.url}"\n'
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WAVE_LANE": "main", "WAVE_NUMBER": "2"}
    env["WAVE_AGENT_ID"] = "A1"
    wave_cli = [sys.executable, "-m", "pytest_wave.cli"]
    posted = subprocess.run(
        [*wave_cli, "coord", "post", "--repo-root", str(repo), "--kind", "claim", "--summary", "parser is in"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert posted.returncode == 0, posted.stderr
    settings = CoordinationBackendConfig.model_validate({"backend": "redis", "url": redis_server.url})
    log = open_log(settings, tmp_path / "unused.jsonl", project="demo", lane="main", wave=2, where="test")
    records = log.read_all().records
    assert [(r["kind"], r["agentId"], r["summary"]) for r in records] == [("claim", "A1", "parser is in")]
    assert not list(repo.rglob("*.jsonl")), "the record went to a local file instead of the shared stream"
    shown = subprocess.run(
        [*wave_cli, "coord", "show", "--repo-root", str(repo)], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "parser is in" in shown.stdout

"""The append-only log: atomic concurrent appends, a reader that reports bad lines and keeps the rest."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from coordkit import rec, roster

from pytest_wave.coordination.log import CoordinationLog, LogReader
from pytest_wave.coordination.records import Rec, RecordError, normalize
from pytest_wave.coordination.state import CoordinationState, reduce
from pytest_wave.model.coordination import CoordinationRecord

PROCESSES = 16
PER_PROCESS = 1000


def _writer(path: str, worker: int) -> None:
    log = CoordinationLog(Path(path))
    for n in range(PER_PROCESS):
        log.append([rec(id=f"w{worker}-{n}", kind="evidence", agent_id=f"A{worker}", summary=f"{worker}:{n}")])


def test_sixteen_processes_append_sixteen_thousand_whole_records(tmp_path: Path) -> None:
    path = tmp_path / "coordination" / "wave-0.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w)) for w in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    batch = CoordinationLog(path).read_all()
    assert batch.all_issues() == []
    assert len(batch.entries) == PROCESSES * PER_PROCESS
    ids = [entry.record["id"] for entry in batch.entries]
    assert len(set(ids)) == PROCESSES * PER_PROCESS
    for worker in range(PROCESSES):  # each writer's lines stay in its own order
        mine = [int(i.split("-")[1]) for i in ids if i.startswith(f"w{worker}-")]
        assert mine == sorted(mine)
    assert path.read_bytes().count(b"\n") == PROCESSES * PER_PROCESS


def _seeder(path: str, start: Any) -> None:
    log = CoordinationLog(Path(path))
    start.wait()

    def missing_seed() -> list[Rec]:
        present = {entry.record["id"] for entry in log.read_all().entries}
        seed = rec(id="seed-A1", kind="request", agent_id="launcher", source="launcher", summary="deliver")
        return [] if seed["id"] in present else [seed]

    log.append_computed(missing_seed)


def test_processes_deriving_the_same_seed_at_once_append_it_once(tmp_path: Path) -> None:
    """Seeds are derived from the log by every process: deciding and appending is one locked step."""
    path = tmp_path / "coordination" / "wave-0.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(8)
    procs = [ctx.Process(target=_seeder, args=(str(path), start)) for _ in range(8)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert [entry.record["id"] for entry in CoordinationLog(path).read_all().entries] == ["seed-A1"]


def _write_lines(path: Path, lines: list[str], tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines) + tail)


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "wave-0.jsonl"
    good = [json.dumps(rec(id=f"r{n}", kind="claim", summary=f"claim {n}")) for n in range(4)]
    unknown_kind = json.dumps({**rec(id="x1", kind="claim"), "kind": "gossip"})
    stranger = json.dumps(rec(id="x2", kind="claim", agent_id="Z9", summary="from outside"))
    _write_lines(
        path,
        [good[0], '{"id": "broken", "kind": ', good[1], unknown_kind, good[2], stranger, good[3]],
        tail='{"id": "torn", "kind": "cl',
    )
    batch = LogReader(path, known_agents=["A1", "launcher"]).poll(final=True)
    kept = [e.record["id"] for e in batch.entries]
    assert kept == ["r0", "r1", "r2", "x2", "r3"]  # the stranger's record is kept, with a warning
    issues = {(i.line, i.kind) for i in batch.all_issues()}
    assert issues == {(2, "corrupt"), (4, "unknown-kind"), (6, "unknown-agent"), (8, "torn")}
    for issue in batch.all_issues():
        assert issue.one_line().startswith(f"{path}:{issue.line}: ")
    unknown = next(i for i in batch.issues if i.kind == "unknown-kind")
    assert "kind must be one of" in unknown.message and "gossip" in unknown.message


def test_append_after_a_torn_tail_seals_it_and_keeps_the_new_record(tmp_path: Path) -> None:
    path = tmp_path / "wave-0.jsonl"
    _write_lines(path, [json.dumps(rec(id="a", kind="claim"))], tail='{"id": "half')
    log = CoordinationLog(path)
    log.append([rec(id="b", kind="claim")])
    batch = log.read_all()
    assert [e.record["id"] for e in batch.entries] == ["a", "b"]
    assert [(i.line, i.kind) for i in batch.all_issues()] == [(2, "corrupt")]


def test_invalid_record_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "wave-0.jsonl"
    log = CoordinationLog(path)
    with pytest.raises(RecordError) as excinfo:
        log.append([rec(id="ok", kind="claim"), {**rec(id="bad", kind="claim"), "status": "maybe"}])
    assert excinfo.value.field == "status"
    assert not path.exists()


def test_no_credential_reaches_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds quote the wave's prompts and agents post what they like: every text is redacted
    before it is appended, a partial update too, and the state folded from the log agrees."""
    monkeypatch.setenv("DEPLOY_TOKEN", "plain-looking-deploy-value")
    key = "sk-ant-api03-" + "Q9" * 20
    path = tmp_path / "wave-0.jsonl"
    log = CoordinationLog(path)
    log.append(
        [
            rec(id="s", kind="request", summary=f"call the API with {key}", artifact_refs=[f"notes/{key}.txt"]),
            rec(id="clean", kind="claim", summary="nothing secret here"),
        ]
    )
    partial = {"id": "s", "kind": "request", "lane": "main", "wave": 0, "agentId": "A1"}
    log.append([{**partial, "detail": "token is plain-looking-deploy-value", "status": "resolved"}])
    # An extra field may hold any JSON: strings inside it are redacted too.
    log.append([{**partial, "status": "resolved", "meta": {"echo": [f"run with {key}"], "n": 1}}])
    text = path.read_text()
    assert key not in text and "plain-looking-deploy-value" not in text
    assert text.count("[redacted:anthropic-key]") == 3 and "[redacted:DEPLOY_TOKEN]" in text
    state = CoordinationState()
    state.apply_batch(log.read_all())
    latest = state.latest["s"]
    assert latest["summary"] == "call the API with [redacted:anthropic-key]"
    assert (latest["detail"], latest["status"]) == ("token is [redacted:DEPLOY_TOKEN]", "resolved")
    assert state.latest["clean"]["summary"] == "nothing secret here"
    assert latest["meta"] == {"echo": ["run with [redacted:anthropic-key]"], "n": 1}


def test_incremental_reader_reads_only_new_bytes_and_matches_a_cold_reduce(tmp_path: Path) -> None:
    path = tmp_path / "wave-0.jsonl"
    r = roster([{"agentId": "A1", "ownedPaths": ["src/a/"], "capabilities": ["db"]},
                {"agentId": "A2", "ownedPaths": ["src/b.py"], "capabilities": ["db"]}])  # fmt: skip
    log = CoordinationLog(path)
    reader = LogReader(path)
    live = CoordinationState(r)
    script = [
        rec(id="q1", kind="request", targets=["capability:db"], summary="index"),
        rec(id="q2", kind="request", targets=["capability:db"], summary="vacuum"),
        rec(id="b1", kind="blocker", agent_id="A2", targets=["agent:A1"], artifact_refs=["src/a/x.py"]),
        {"id": "q1", "kind": "request", "lane": "main", "wave": 0, "agentId": "A1", "status": "resolved"},
        rec(id="q3", kind="request", targets=["capability:db"], summary="analyze"),
        rec(id="c1", kind="claim", summary="the api contract conflicts", targets=["agent:A1", "agent:A2"]),
    ]
    offsets = []
    for record in script:
        log.append([record])
        batch = reader.poll()
        assert len(batch.entries) == 1
        offsets.append(reader.offset)
        live.apply_all((e.record, e.set_keys) for e in batch.entries)
    assert offsets == sorted(offsets) and offsets[-1] == path.stat().st_size
    cold = CoordinationState(r)
    cold.apply_all((e.record, e.set_keys) for e in LogReader(path).poll().entries)
    assert list(cold.latest) == list(live.latest)
    assert cold.latest == live.latest
    assert cold.open_ids == live.open_ids and cold.blocking_ids == live.blocking_ids
    assert cold.all_assignments() == live.all_assignments()
    assert cold.interface_ids == live.interface_ids and cold.impact_ids == live.impact_ids
    # the partial update only changed the status; the summary survived the fold
    assert live.latest["q1"]["summary"] == "index" and live.latest["q1"]["status"] == "resolved"
    assert reduce([e.record for e in LogReader(path).poll().entries], r).latest.keys() == live.latest.keys()


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "CLAIM", "lane": " main ", "wave": 0, "agentId": "A1", "targets": [" x ", "x", ""]},
        {"id": "a", "kind": "blocker", "lane": "main", "wave": 3, "agentId": "A1", "status": "Open", "extra": 1},
        {"id": "a", "kind": "request", "lane": "main", "wave": 0, "agentId": "A1", "priority": "HIGH"},
    ],
)
def test_fast_path_and_model_agree(raw: dict[str, object]) -> None:
    slow = CoordinationRecord.model_validate(raw).to_json_dict()
    fast, _ = normalize(raw)
    for key in ("id", "createdAt", "updatedAt"):
        slow.pop(key), fast.pop(key)
    assert fast == slow
    canonical = CoordinationRecord.model_validate(raw).to_json_dict()
    again, set_keys = normalize(canonical)
    assert again is canonical and set_keys is None  # canonical lines skip the model entirely

"""A bulk read (decoded chunk by chunk into structs, folded without a dict per line) agrees with
the line-by-line read and with folding record by record, on logs with every odd line we know."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from coordkit import rec, roster, state_snapshot

from pytest_wave.coordination import log as log_module
from pytest_wave.coordination.log import LogReader, ReadBatch
from pytest_wave.coordination.state import CoordinationState

ROSTER = roster(
    [
        {"agentId": "A1", "ownedPaths": ["src/a/"], "capabilities": ["db"]},
        {"agentId": "A2", "ownedPaths": ["src/b.py"], "components": ["ui"], "capabilities": ["db", "ui"]},
        {"agentId": "A3", "ownedPaths": ["docs/c.md"], "capabilities": ["ui"]},
    ],
    preferred_agents={"ui": ["A3"]},
)
ODD_LINES = [
    b"\n",  # blank
    b"   \t\n",  # whitespace only
    b'{"id": "broken", "kind": \n',  # torn fragment sealed by a later append
    b"[1, 2]\n",  # not an object
    b'{"id":"u1","kind":"gossip","wave":0,"lane":"main","agentId":"A1","createdAt":"2026-01-01"}\n',  # unknown kind
]


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _write_log(path: Path, count: int, seed: int, *, odd: bool = True) -> None:
    """Canonical lines mostly, and (``odd``) every shape the bulk read must hand to the slow road."""
    rng = random.Random(seed)
    kinds = ["request", "blocker", "claim", "evidence", "clarification-request", "decision"]
    created: list[dict[str, Any]] = []
    out: list[bytes] = []
    for n in range(count):
        roll = rng.random()
        if created and roll < 0.35:
            prev = rng.choice(created)
            status = rng.choice(["open", "acknowledged", "resolved", "closed", "cancelled"])
            update = {**prev, "status": status, "updatedAt": f"2026-01-02T00:00:{n % 60:02d}.000Z"}
            if rng.random() < 0.1:
                update["createdAt"] = "2026-01-03T00:00:00.000Z"  # a later version may not move createdAt
            if rng.random() < 0.1:
                update["kind"] = rng.choice(kinds)  # a request that stops (or starts) being one
            if rng.random() < 0.15:
                update["targets"] = [rng.choice(["capability:db", "capability:ui", "agent:A1", "A2"])]
            out.append(_dump(update))
            continue
        if odd and created and roll < 0.45:
            prev = rng.choice(created)
            partial = {"id": prev["id"], "kind": prev["kind"], "lane": "main", "wave": 0, "agentId": prev["agentId"]}
            partial["status"] = rng.choice(["resolved", "in_progress"])
            partial["createdAt"] = partial["updatedAt"] = f"2026-01-04T00:00:{n % 60:02d}.000Z"
            out.append(_dump(partial))  # a partial update, as the appender writes it: what it sets
            continue
        if odd and roll < 0.48:
            out.append(rng.choice(ODD_LINES))
            continue
        record = rec(
            id=f"r{n}",
            kind=rng.choice(kinds),
            agent_id=rng.choice(["A1", "A2", "A3", "launcher", "Z9"]),
            source=rng.choice(["agent", "launcher"]),
            targets=rng.sample(
                ["agent:A1", "agent:A2", "A3", "capability:db", "capability:ui", "Z9"], rng.randrange(3)
            ),
            artifact_refs=rng.sample(["src/a/x.py", "src/b.py", "docs/c.md", "ui", "src/"], rng.randrange(3)),
            priority=rng.choice(["low", "normal", "high", "urgent"]),
            severity=rng.choice([None, None, "hard", "advisory"]),
            closure_condition=rng.choice(["", "", "clarification:r3"]),
            summary=rng.choice(["api change", "a conflict", "plain", "braces }{ in text" if odd else "braces"]),
            detail="x" * rng.randrange(0, 900),  # some lines longer than a small read block
        )
        created.append(record)
        twist = rng.random() if odd else 0.5
        if twist < 0.03:
            record = {**record, "extraField": {"kept": n}}  # unknown key: kept, so read the slow way
        elif twist < 0.05:
            record = {**record, "id": f" r{n}"}  # unstripped: the model strips it
        elif twist < 0.06:
            record = {**record, "status": "OPEN"}
        elif twist < 0.07:
            record = {**record, "targets": ["agent:A1", "agent:A1"]}
        line = _dump(record)
        if twist > 0.99 and out:
            out[-1] = out[-1].rstrip(b"\n") + b" " + line  # two records on one line: corrupt
        elif 0.98 < twist <= 0.99:
            out.append(line.replace(b',"kind"', b',\n"kind"', 1))  # one record over two lines: corrupt
        else:
            out.append(line)
    if odd:
        out.append(b'{"id":"torn","kind":"clai')  # a torn tail
    path.write_bytes(b"".join(out))


def _read(path: Path, *, bulk: bool, monkeypatch: pytest.MonkeyPatch) -> ReadBatch:
    with monkeypatch.context() as patch:
        if bulk:
            patch.setattr(log_module, "BULK_BYTES", 1)
            patch.setattr(log_module, "CHUNK_BYTES", 2048)  # many blocks, and lines that outgrow one
        else:
            patch.setattr(log_module, "BULK_BYTES", 1 << 40)
        return LogReader(path, known_agents=[*ROSTER.ids, "launcher"]).poll(final=True)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_bulk_read_gives_the_entries_and_issues_of_a_line_by_line_read(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wave-0.jsonl"
    _write_log(path, 600, seed)
    slow = _read(path, bulk=False, monkeypatch=monkeypatch)
    bulk = _read(path, bulk=True, monkeypatch=monkeypatch)
    assert bulk.columns is not None and slow.columns is None
    assert len(bulk) == len(slow.entries)
    assert [(i.line, i.kind, i.message) for i in bulk.all_issues()] == [
        (i.line, i.kind, i.message) for i in slow.all_issues()
    ]
    assert any(i.kind == "corrupt" for i in slow.issues) and any(i.kind == "unknown-agent" for i in slow.issues)
    assert [(e.record, list(e.record), e.line, e.set_keys) for e in bulk.entries] == [
        (e.record, list(e.record), e.line, e.set_keys) for e in slow.entries
    ]


@pytest.mark.parametrize(("seed", "odd"), [(1, True), (2, True), (3, True), (4, False), (5, False)])
def test_folding_a_bulk_read_matches_folding_its_records_one_by_one(
    tmp_path: Path, seed: int, odd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wave-0.jsonl"
    _write_log(path, 600, seed, odd=odd)  # without odd lines, every version is a struct
    entries = _read(path, bulk=False, monkeypatch=monkeypatch).entries
    columns = CoordinationState(ROSTER)
    columns.apply_batch(_read(path, bulk=True, monkeypatch=monkeypatch))
    assert columns.latest and columns._deferred is not None  # secondary indexes wait for a reader
    cold = CoordinationState(ROSTER)
    cold.apply_all((e.record, e.set_keys) for e in entries)
    assert state_snapshot(columns) == state_snapshot(cold)
    live = CoordinationState(ROSTER)
    for entry in entries:
        live.apply(entry.record, entry.set_keys)
    bulk, incremental = state_snapshot(columns), state_snapshot(live)
    for key in ("latest", "open_ids", "blocking_ids", "interface_ids", "impact_ids", "records", "assignments", "load"):
        assert bulk[key] == incremental[key], key
    assert bulk["recent"] == incremental["recent"]


def test_records_applied_after_a_bulk_fold_see_the_deferred_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wave-0.jsonl"
    _write_log(path, 300, 9)
    entries = _read(path, bulk=False, monkeypatch=monkeypatch).entries
    more = [
        rec(id="late-1", kind="request", targets=["capability:db"], agent_id="A3"),
        rec(id="r5", kind="blocker", agent_id="A1", status="open"),
    ]
    folded = CoordinationState(ROSTER)
    folded.apply_batch(_read(path, bulk=True, monkeypatch=monkeypatch))
    live = CoordinationState(ROSTER)
    for entry in entries:
        live.apply(entry.record, entry.set_keys)
    for record in more:  # no index was read in between: apply() must build them first
        folded.apply(record)
        live.apply(record)
    assert folded.assignments == live.assignments and +folded.load == +live.load
    assert list(folded.open_ids) == list(live.open_ids) and list(folded.blocking_ids) == list(live.blocking_ids)


def test_a_bulk_read_of_a_growing_log_goes_on_from_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wave-0.jsonl"
    _write_log(path, 200, 5)
    monkeypatch.setattr(log_module, "BULK_BYTES", 1)
    monkeypatch.setattr(log_module, "CHUNK_BYTES", 2048)
    reader = LogReader(path)
    first = reader.poll()
    assert first.torn_tail is None  # not final: the tail may be a write in progress
    with path.open("ab") as handle:
        handle.write(b'm"}\n' + _dump(rec(id="after", kind="evidence")))
    second = reader.poll(final=True)
    assert [e.record["id"] for e in second.entries] == ["after"]
    assert [(i.kind, i.line) for i in second.issues] == [("invalid", reader.lines_read - 1)]  # the finished tail
    assert reader.lines_read == second.entries[0].line


def test_two_records_on_one_line_stay_corrupt_even_when_a_blank_line_evens_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wave-0.jsonl"
    one, two, three = (_dump(rec(id=f"r{n}", kind="evidence")) for n in range(3))
    path.write_bytes(one.rstrip(b"\n") + b" " + two + b"\n" + three)  # as many records as lines
    slow = _read(path, bulk=False, monkeypatch=monkeypatch)
    bulk = _read(path, bulk=True, monkeypatch=monkeypatch)
    assert [(i.line, i.kind) for i in bulk.issues] == [(i.line, i.kind) for i in slow.issues] == [(1, "corrupt")]
    assert [(e.record["id"], e.line) for e in bulk.entries] == [("r2", 3)]

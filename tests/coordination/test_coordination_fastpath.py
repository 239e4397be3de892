"""The cold-read fast paths agree with the slow, obvious ones: line decoding, bulk indexing, GC pausing."""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from coordkit import rec, roster, state_snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_wave.coordination import log as log_module
from pytest_wave.coordination.gcpause import PROMOTE_AFTER, gc_paused
from pytest_wave.coordination.log import LogReader
from pytest_wave.coordination.records import decode_canonical, normalize
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.model.coordination import CoordinationRecord, Roster

BASE = rec(id="r1", kind="request", targets=["agent:A2"], artifact_refs=["src/a/x.py"], summary="s")


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _slow(line: bytes) -> dict[str, Any]:
    return CoordinationRecord.model_validate(orjson.loads(line)).to_json_dict()


def test_a_canonical_line_decodes_to_exactly_the_model_output() -> None:
    line = _line(BASE)
    fast = decode_canonical(line)
    assert fast == _slow(line)
    assert fast is not None and list(fast) == list(_slow(line))  # same key order as the model writes


@pytest.mark.parametrize(
    "change",
    [
        {"id": " r1"},
        {"lane": "main\u00a0"},  # a non-ASCII space the model strips
        {"agentId": "\tA1"},
        {"closureCondition": "clarification:c1 "},
        {"source": " agent"},
        {"targets": ["agent:A2", "agent:A2"]},
        {"targets": ["agent:A2 "]},
        {"artifactRefs": ["\u2003src/a/x.py"]},
        {"dependsOn": ["a", ""]},
        {"kind": "REQUEST"},
        {"status": "Open"},
        {"wave": 1.0},
        {"attempt": True},
        {"extraField": {"kept": True}},
    ],
)
def test_lines_the_model_would_change_are_declined_and_normalize_the_slow_way(change: dict[str, Any]) -> None:
    line = _line({**BASE, **change})
    assert decode_canonical(line) is None
    slow, _ = normalize(orjson.loads(line))
    assert slow == _slow(line)  # what the reader keeps: the model's normalization, extras included


@pytest.mark.parametrize(
    "change",
    [{"wave": -1}, {"kind": "gossip"}, {"lane": "   "}, {"severity": "maybe"}, {"targets": "agent:A2"}],
)
def test_invalid_lines_are_declined(change: dict[str, Any]) -> None:
    assert decode_canonical(_line({**BASE, **change})) is None


_TEXT = st.text(alphabet=st.sampled_from(["a", "b", " ", "\t", "\u00a0", "\u2003", '"', "\\", "é", "\n"]), max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    rid=_TEXT,
    lane=_TEXT,
    agent=_TEXT,
    closure=_TEXT,
    source=_TEXT,
    targets=st.lists(_TEXT, max_size=3),
    refs=st.lists(_TEXT, max_size=3),
)
def test_whatever_the_fast_path_accepts_the_model_agrees_with(
    rid: str, lane: str, agent: str, closure: str, source: str, targets: list[str], refs: list[str]
) -> None:
    raw = {**BASE, "id": rid, "lane": lane, "agentId": agent, "closureCondition": closure, "source": source}
    line = _line({**raw, "targets": targets, "artifactRefs": refs})
    fast = decode_canonical(line)
    if fast is not None:
        assert fast == _slow(line)


def test_a_bulk_read_keeps_good_lines_reports_bad_ones_and_restores_the_gc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_module, "BULK_BYTES", 0)  # take the bulk (GC-paused) road on a small log
    path = tmp_path / "wave-0.jsonl"
    lines = [
        _line(rec(id="r0", kind="claim")),
        b'{"id": "broken", ',
        _line({**rec(id="r1", kind="claim"), "extraField": [1, 2]}),
        _line({"id": "r0", "kind": "claim", "lane": "main", "wave": 0, "agentId": "A1", "status": "resolved"}),
        _line({**rec(id="r2", kind="claim"), "kind": "gossip"}),
        b"",
        _line(rec(id="r3", kind="claim", agent_id="Z9")),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert gc.isenabled()
    batch = LogReader(path, known_agents=["A1"]).poll(final=True)
    assert gc.isenabled()
    assert [(e.record["id"], e.line) for e in batch.entries] == [("r0", 1), ("r1", 3), ("r0", 4), ("r3", 7)]
    assert batch.entries[1].record["extraField"] == [1, 2]  # an unknown field survives the read
    assert batch.entries[2].set_keys is not None and "status" in batch.entries[2].set_keys
    assert {(i.line, i.kind) for i in batch.issues} == {(2, "corrupt"), (5, "unknown-kind"), (7, "unknown-agent")}


def test_gc_paused_restores_what_it_found() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves it to the outer one
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()


def test_a_big_block_is_promoted_but_never_touches_someone_elses_frozen_objects() -> None:
    with gc_paused():
        built = [[n] for n in range(PROMOTE_AFTER + 1)]
    assert gc.isenabled() and gc.get_freeze_count() == 0  # promoted: frozen, then unfrozen at once
    gc.freeze()  # someone else's frozen objects (a pre-fork server, say)
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            built += [[n] for n in range(PROMOTE_AFTER + 1)]
        # Theirs stay frozen (an unfreeze would empty the permanent generation). Not an equality:
        # other threads of the process (xdist's, say) may add to it or free from it meanwhile.
        assert frozen > 0 and gc.isenabled() and gc.get_freeze_count() > frozen // 2
    finally:
        gc.unfreeze()
    assert len(built) == 2 * (PROMOTE_AFTER + 1)


def _random_log(r: Roster, count: int, seed: int) -> list[tuple[dict[str, Any], frozenset[str] | None]]:
    """Every shape the indexes care about: targets of each kind, seeds, links, severities, partial updates."""
    rng = random.Random(seed)
    kinds = ["request", "blocker", "claim", "evidence", "clarification-request", "human-feedback", "decision"]
    words = ["api", "conflict", "plain", "schema", "contradict", "note"]
    created: list[dict[str, Any]] = []
    out: list[tuple[dict[str, Any], frozenset[str] | None]] = []
    for n in range(count):
        if created and rng.random() < 0.4:
            prev = rng.choice(created)
            status = rng.choice(["open", "acknowledged", "resolved", "closed", "cancelled", "superseded"])
            if rng.random() < 0.5:
                raw = {"id": prev["id"], "kind": prev["kind"], "lane": "main", "wave": 0, "agentId": prev["agentId"]}
                out.append(normalize({**raw, "status": status}))
                continue
            change: dict[str, Any] = {"status": status}
            if rng.random() < 0.3:
                change["targets"] = [rng.choice(["capability:db", "agent:A1", "A2"])]
            out.append(normalize({**prev, **change}))
            continue
        author = rng.choice(["A1", "A2", "A3", "launcher"])
        kind = rng.choice(kinds)
        record = rec(
            id=f"r{n}",
            kind=kind,
            agent_id=author,
            source="launcher" if author == "launcher" and rng.random() < 0.5 else "agent",
            targets=rng.sample(
                ["agent:A1", "agent:A2", "A3", "capability:db", "capability:ui", "Z9"], rng.randrange(3)
            ),
            artifact_refs=rng.sample(["src/a/x.py", "src/b.py", "docs/c.md", "ui", "src/"], rng.randrange(3)),
            priority=rng.choice(["low", "normal", "high", "urgent"]),
            severity=rng.choice([None, None, "hard", "advisory"]),
            closure_condition=rng.choice(["", "", "clarification:r3"]),
            depends_on=rng.sample(["r1", "r2"], rng.randrange(2)),
            summary=" ".join(rng.sample(words, 2)),
            detail=rng.choice(words),
        )
        created.append(record)
        out.append((record, None))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bulk_index_of_a_cold_read_matches_record_by_record_indexing(seed: int) -> None:
    r = roster(
        [
            {"agentId": "A1", "ownedPaths": ["src/a/"], "capabilities": ["db"]},
            {"agentId": "A2", "ownedPaths": ["src/b.py"], "components": ["ui"], "capabilities": ["db", "ui"]},
            {"agentId": "A3", "ownedPaths": ["docs/c.md"], "capabilities": ["ui"]},
        ],
        preferred_agents={"ui": ["A3"]},
    )
    entries = _random_log(r, 400, seed)
    bulk = CoordinationState(r)
    bulk.apply_all(entries)
    one_by_one = CoordinationState(r)
    one_by_one._index_many = lambda records: [one_by_one._index(x) for x in records]  # type: ignore[method-assign]
    one_by_one.apply_all(entries)
    assert state_snapshot(bulk) == state_snapshot(one_by_one)
    live = CoordinationState(r)
    for record, set_keys in entries:
        live.apply(record, set_keys)
    cold, incremental = state_snapshot(bulk), state_snapshot(live)
    for key in ("latest", "open_ids", "blocking_ids", "interface_ids", "impact_ids", "records", "assignments"):
        assert cold[key] == incremental[key], key
    for key in ("by_kind", "open_by_target", "open_relevant", "linked_requests"):
        assert {k: v for k, v in cold[key].items() if v} == {k: v for k, v in incremental[key].items() if v}, key

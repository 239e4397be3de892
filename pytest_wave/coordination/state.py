"""The reducer: coordination log -> materialized state, fully or one record at a time.

``reduce(records, roster)`` and ``CoordinationState.apply`` are the same code: a cold read applies
every line in order, an incremental refresh applies only the new ones, so both give the same state
(tested). Folding follows log order, not ``updatedAt``: appends are serialized by the log's lock, so
file order is the true order, and an update can never lose the fold to a skewed clock (the Node.js
tool's sort-by-``updatedAt`` quirk, coordination.md §6.1).

Open is not blocking (after-0.5 §2.13): a record blocks closure only when it is open, of a kind
that can block (request, blocker, clarification, human feedback/escalation) and of a blocking
severity. Records without an explicit ``severity`` get one from what they are: launcher seeds are
advisory (the agent's own proof gate already covers them), ``priority=low`` is soft, the rest hard.

Everything a projection needs is indexed here as records arrive, so a refresh after one append
touches only what that record changed. A cold fold (a whole log at once) materializes the latest
versions, open and blocking ids, and leaves the secondary indexes to the first reader of any of
them (:meth:`CoordinationState._settle`): the same indexes, built in one pass.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, compress, repeat
from operator import and_, attrgetter, eq, is_, itemgetter, ne
from typing import Any, Generic, TypeVar, overload

from pytest_wave.coordination.gcpause import gc_paused
from pytest_wave.coordination.log import LogEntry, ReadBatch, Version
from pytest_wave.coordination.records import CanonicalLine, Rec, asdict, text_of
from pytest_wave.model.coordination import (
    BLOCKING_KINDS,
    BLOCKING_SEVERITIES,
    OPEN_STATUSES,
    PRIORITY_RANK,
    Roster,
)

RECENT = 40  # versions kept for the board's activity feed
_get_id = attrgetter("id")
_get_kind = attrgetter("kind")
_get_targets = attrgetter("targets")
_get_created = attrgetter("createdAt")
_get_kind_key = itemgetter("kind")
_get_status_key = itemgetter("status")
_NOT_ACTIONABLE = frozenset(
    {"human-feedback", "human-escalation", "orchestrator-guidance", "resolved-by-policy", "integration-summary"}
)
_INTERFACE_WORDS = ("interface", "contract", "api", "schema", "migration", "signature")
_CONFLICT_WORDS = ("conflict", "contradict")


def is_open(record: Rec) -> bool:
    return record["status"] in OPEN_STATUSES


def is_seed(record: Rec) -> bool:
    """A launcher seed, not a routed follow-up (§6.6: skipped by routing).

    The author must be ``launcher`` too: ``source`` defaults to ``launcher`` for any record that
    omits it, so a request an agent wrote without a source would otherwise never be routed.
    """
    return (
        record["agentId"] == "launcher"
        and record["source"] == "launcher"
        and not record["dependsOn"]
        and not record["closureCondition"]
    )


def severity_of(record: Rec) -> str:
    explicit = record.get("severity")
    if explicit:
        return str(explicit)
    if record["kind"] not in BLOCKING_KINDS:
        return "advisory"
    if is_seed(record) and record["kind"] == "request":
        return "advisory"
    if record["priority"] == "low":
        return "soft"
    return "hard"


def is_blocking(record: Rec) -> bool:
    return (
        record["status"] in OPEN_STATUSES
        and record["kind"] in BLOCKING_KINDS
        and severity_of(record) in BLOCKING_SEVERITIES
    )


def clarification_link(record: Rec) -> str | None:
    """The clarification id a request is linked to through its closure condition (§6.3)."""
    condition = record["closureCondition"]
    if condition.startswith("clarification:"):
        return condition[len("clarification:") :].strip() or None
    return None


def _linked_ids(record: Rec) -> list[str]:
    link = clarification_link(record)
    if link is not None:
        return [link]
    if record["closureCondition"].startswith("clarification:"):
        return []
    return list(record["dependsOn"])


def target_key(target: str) -> str:
    """Index key of a target: the agent id for ``agent:X`` and bare ids, else the target itself."""
    return target[6:] if target.startswith("agent:") else target


class _Index:
    """Ordered set of ids per key (dicts keep insertion order and remove in O(1))."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, None]] = {}

    def add(self, key: str, rid: str) -> None:
        bucket = self.data.get(key)
        if bucket is None:
            self.data[key] = {rid: None}
        else:
            bucket.pop(rid, None)
            bucket[rid] = None

    def remove(self, key: str, rid: str) -> None:
        bucket = self.data.get(key)
        if bucket is not None:
            bucket.pop(rid, None)
            if not bucket:
                del self.data[key]

    def get(self, key: str) -> dict[str, None]:
        return self.data.get(key, {})


_T = TypeVar("_T")


class _Settled(Generic[_T]):
    """A secondary index of :class:`CoordinationState`, read as ``state.<name>``: the attribute
    ``_<name>``, after building every deferred index first (a cold fold leaves them to the first
    reader, see ``CoordinationState._settle``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._private = f"_{name}"

    @overload
    def __get__(self, obj: None, owner: type) -> _Settled[_T]: ...

    @overload
    def __get__(self, obj: CoordinationState, owner: type) -> _T: ...

    def __get__(self, obj: CoordinationState | None, owner: type) -> _Settled[_T] | _T:
        if obj is None:
            return self
        if obj._deferred is not None:
            obj._settle()
        value: _T = getattr(obj, self._private)
        return value


class CoordinationState:
    """Materialized coordination state of one wave."""

    def __init__(self, roster: Roster | None = None) -> None:
        self.roster = roster
        # The materialized state proper: latest version of each id, open, blocking.
        self.latest: dict[str, Rec] = {}  # id -> folded record, ordered by last update
        self.record_count = 0
        self.recent: deque[Rec] = deque(maxlen=RECENT)
        self.open_ids: dict[str, None] = {}
        self.blocking_ids: dict[str, None] = {}
        # Secondary indexes for the projections, behind properties of the same name without the
        # underscore: a cold fold leaves them to the first reader (see _settle).
        self._deferred: Callable[[], Iterator[tuple[str, Rec | CanonicalLine]]] | None = None
        self._settle_lock = threading.Lock()
        self._by_kind = _Index()  # kind -> latest ids (any status)
        self._open_by_kind = _Index()
        self._blocking_by_kind = _Index()
        self._open_by_target = _Index()  # agent id / capability:<c> / raw target -> open ids
        self._open_by_author = _Index()
        self._open_relevant = _Index()  # agent id -> open ids whose refs touch its paths/components
        self._linked_requests = _Index()  # clarification id -> linked request ids
        self._interface_ids: dict[str, None] = {}
        self._impact_ids: dict[str, None] = {}
        self._conflict_ids: dict[str, None] = {}  # open claims that say conflict/contradict
        # Helper assignments: request id -> its assignments. Targets that name an agent resolve
        # once per version; capability targets are decided in log order and then kept (sticky).
        self._assignments: dict[str, list[dict[str, Any]]] = {}
        self._blocking_requests: dict[str, None] = {}  # routable requests with a blocking assignment
        self._assignee: dict[tuple[str, str], str | None] = {}  # (request id, target) -> agent
        self._blocking_cache: list[dict[str, Any]] | None = None
        self._load: Counter[str] = Counter()  # agent -> blocking assignments
        # What changed since the last take_changes(): agent ids whose inbox may differ, kinds seen.
        self.touched: set[str] = set()
        self.changed_kinds: set[str] = set()
        self._ref_cache: dict[str, tuple[str, ...]] = {}
        self._slugs: dict[str, str] = {}
        self._exact: dict[str, list[str]] = {}
        self._dirs: dict[str, list[str]] = {}
        self._component_owners: dict[str, list[str]] = {}
        self._capability_agents: dict[str, list[str]] = {}
        self._ids: frozenset[str] = frozenset()
        if roster is not None:
            self._index_roster(roster)

    # -- secondary indexes (built on first use after a cold fold, see _Settled) ---------------
    by_kind = _Settled[_Index]()
    open_by_kind = _Settled[_Index]()
    blocking_by_kind = _Settled[_Index]()
    open_by_target = _Settled[_Index]()
    open_by_author = _Settled[_Index]()
    open_relevant = _Settled[_Index]()
    linked_requests = _Settled[_Index]()
    interface_ids = _Settled[dict[str, None]]()
    impact_ids = _Settled[dict[str, None]]()
    conflict_ids = _Settled[dict[str, None]]()
    assignments = _Settled[dict[str, list[dict[str, Any]]]]()
    blocking_requests = _Settled[dict[str, None]]()
    load = _Settled[Counter[str]]()

    # -- roster lookups ------------------------------------------------------------------------
    def _index_roster(self, roster: Roster) -> None:
        self._ids = frozenset(roster.ids)
        for agent in roster.agents:
            for path in agent.owned_paths:
                if path.endswith("/"):
                    self._dirs.setdefault(path, []).append(agent.agent_id)
                else:
                    self._exact.setdefault(path, []).append(agent.agent_id)
            for component in agent.components:
                self._component_owners.setdefault(component, []).append(agent.agent_id)
            for capability in agent.capabilities:
                self._capability_agents.setdefault(capability.lower(), []).append(agent.agent_id)

    @property
    def agent_ids(self) -> frozenset[str]:
        return self._ids

    def capability_agents(self, capability: str) -> list[str]:
        return self._capability_agents.get(capability.lower(), [])

    def owners_of_ref(self, ref: str) -> tuple[str, ...]:
        """Agents whose owned paths (exact, under a directory, or a file under the ref) or components match."""
        cached = self._ref_cache.get(ref)
        if cached is not None:
            return cached
        found: list[str] = []
        found.extend(self._exact.get(ref, ()))
        found.extend(self._component_owners.get(ref, ()))
        parts = ref.split("/")
        for depth in range(1, len(parts)):
            found.extend(self._dirs.get("/".join(parts[:depth]) + "/", ()))
        prefix = ref.rstrip("/") + "/"
        if ref and len(self._exact) < 4096:
            found.extend(a for path, owners in self._exact.items() if path.startswith(prefix) for a in owners)
        result = tuple(dict.fromkeys(found))
        if len(self._ref_cache) < 100_000:
            self._ref_cache[ref] = result
        return result

    def relevant_agents(self, record: Rec) -> list[str]:
        refs = record["artifactRefs"]
        if not refs:
            return []
        if len(refs) == 1:
            return list(self.owners_of_ref(refs[0]))
        out: dict[str, None] = {}
        for ref in refs:
            for agent in self.owners_of_ref(ref):
                out[agent] = None
        return list(out)

    def target_agents(self, record: Rec) -> list[str]:
        """Wave agents a record's targets name, directly or through a capability."""
        out: dict[str, None] = {}
        for target in record["targets"]:
            if target.startswith("capability:"):
                for agent in self.capability_agents(target[11:]):
                    out[agent] = None
            else:
                key = target_key(target)
                if key in self._ids:
                    out[key] = None
        return list(out)

    # -- applying records ----------------------------------------------------------------------
    def apply(self, record: Rec, set_keys: frozenset[str] | None = None) -> Rec:
        """Fold one record (the next in log order) into the state; returns the folded version."""
        if self._deferred is not None:
            self._settle()
        rid = record["id"]
        self.record_count += 1
        prev = self.latest.pop(rid, None)
        if prev is None:
            merged = record
        else:
            self._unindex(prev)
            merged = _merge(prev, record, set_keys)
        self.latest[rid] = merged
        if merged["kind"] == "request" or (prev is not None and prev["kind"] == "request"):
            self._route_step(prev, merged)
        self._index(merged)
        self.recent.append(merged)
        self.changed_kinds.add(merged["kind"])
        if prev is not None:
            self._touch(prev)
        self._touch(merged)
        return merged

    def apply_all(self, entries: Iterable[tuple[Rec, frozenset[str] | None]]) -> None:
        """Apply many records. On an empty state, folds by id first and indexes later (cold read)."""
        if self.latest or self._deferred is not None:
            for record, set_keys in entries:
                self.apply(record, set_keys)
            return
        with gc_paused():
            self._fold_cold(entries)

    def apply_batch(self, batch: ReadBatch) -> None:
        """Apply what a :class:`LogReader` poll read (same result as ``apply_all`` of its entries).

        On an empty state a bulk read is folded straight from its decoded structs: only the
        latest version of each id becomes a dict.
        """
        versions = batch.columns
        if versions is None or self.latest or self._deferred is not None:
            self.apply_all((entry.record, entry.set_keys) for entry in batch.entries)
        elif versions:
            with gc_paused():
                self._fold_columns(versions)

    def _fold_cold(self, entries: Iterable[tuple[Rec, frozenset[str] | None]]) -> None:
        latest = self.latest
        count = self.record_count
        keep_recent = self.recent.append
        replay: list[tuple[str, Rec]] = []
        defer = replay.append
        for record, set_keys in entries:
            count += 1
            rid = record["id"]
            prev = latest.pop(rid, None)
            if prev is None:
                merged = latest[rid] = record
            else:
                merged = latest[rid] = _merge(prev, record, set_keys)
            if merged["kind"] == "request" or (prev is not None and prev["kind"] == "request"):
                # Routing replays these versions in order later (_settle). A version skipped here
                # follows one that is not a request, which routing treats like no previous one.
                defer((rid, merged))
            keep_recent(merged)
        self.record_count = count
        self._materialized(list(latest), list(latest.values()), replay.__iter__)

    def _fold_columns(self, versions: list[Version]) -> None:
        """The cold fold of a bulk read, on decoded structs (canonical lines) and entries.

        An id whose versions are all canonical lines folds without a merge: each version is the
        whole record, so the latest is the last line's struct (as a dict) with the first line's
        ``createdAt``. Ids with an entry among their versions (a partial update, a line with an
        extra field) are folded version by version with :func:`_merge`, as :meth:`apply` does.
        The per-record work is C-level (maps, ``itemgetter`` over many keys at once).
        """
        count = len(versions)
        entry_type = LogEntry
        positions = range(count)
        slow_positions = list(compress(positions, map(is_, map(type, versions), repeat(entry_type))))
        if slow_positions:
            ids = [v.record["id"] if v.__class__ is entry_type else v.id for v in versions]  # type: ignore[union-attr]
        else:
            ids = list(map(_get_id, versions))
        created_of = _created_of if slow_positions else _get_created
        # id -> createdAt of its first version; built from the end, so its keys run newest update first.
        created = dict(zip(reversed(ids), map(created_of, reversed(versions)), strict=True))
        winner_ids = list(reversed(created))  # the latest order: by last update
        folded: dict[int, Rec] = {}  # position -> folded version, for ids with entries

        def whole(i: int) -> Rec:
            """The folded version at position ``i`` of an id whose versions are all structs."""
            record = asdict(versions[i])  # type: ignore[arg-type]
            first = created[ids[i]]
            if record["createdAt"] != first:
                record["createdAt"] = first
            return record

        if slow_positions:
            slow_ids = {ids[i] for i in slow_positions}
            by_id: dict[str, Rec] = {}
            for i in compress(positions, map(slow_ids.__contains__, ids)):
                version = versions[i]
                if isinstance(version, LogEntry):
                    record, set_keys = version.record, version.set_keys
                else:
                    record, set_keys = asdict(version), None
                rid = ids[i]
                prev = by_id.get(rid)
                folded[i] = by_id[rid] = record if prev is None else _merge(prev, record, set_keys)
            last_position = dict(zip(ids, positions, strict=True))
            records = [folded[i] if i in folded else whole(i) for i in _pick(last_position, winner_ids)]

            def is_last(i: int) -> bool:
                return last_position[ids[i]] == i

        else:
            last_version = dict(zip(ids, versions, strict=True))  # id -> its last version
            structs: list[CanonicalLine] = _pick(last_version, winner_ids)
            records = list(map(asdict, structs))
            firsts = _pick(created, winner_ids)
            for j in compress(range(len(records)), map(ne, map(_get_created, structs), firsts)):
                records[j]["createdAt"] = firsts[j]

            def is_last(i: int) -> bool:
                return last_version[ids[i]] is versions[i]

        latest = self.latest
        latest.update(zip(winner_ids, records, strict=True))
        self.record_count += count
        for i in range(max(0, count - RECENT), count):
            self.recent.append(latest[ids[i]] if is_last(i) else folded[i] if i in folded else whole(i))

        def replay() -> Iterator[tuple[str, Rec | CanonicalLine]]:
            """Every version of each id that was ever a request with targets, in log order (see
            _settle). Routing does nothing for an id that never had one: none of its versions is
            routable."""
            kinds = map(_kind_of if slow_positions else _get_kind, versions)
            targeted = map(bool, map(_targets_of if slow_positions else _get_targets, versions))
            requests = set(compress(ids, map(and_, map(eq, kinds, repeat("request")), targeted)))
            wanted = list(map(requests.__contains__, ids))
            if not folded:
                return zip(compress(ids, wanted), compress(versions, wanted), strict=True)  # type: ignore[arg-type]
            return ((ids[i], folded.get(i) or versions[i]) for i in compress(positions, wanted))  # type: ignore[misc]

        self._materialized(winner_ids, records, replay)

    def _materialized(
        self, ids: list[str], records: list[Rec], replay: Callable[[], Iterator[tuple[str, Rec | CanonicalLine]]]
    ) -> None:
        """After a cold fold (``records``: the latest, in update order): open and blocking ids now,
        secondary indexes on first use (``replay`` gives the versions routing needs, see _settle)."""
        is_open = list(map(OPEN_STATUSES.__contains__, map(_get_status_key, records)))
        self.open_ids.update(dict.fromkeys(compress(ids, is_open)))
        kind_list = list(map(_get_kind_key, records))
        may_block = list(map(and_, is_open, map(BLOCKING_KINDS.__contains__, kind_list)))
        blocking_ids = self.blocking_ids
        blocking_severities = BLOCKING_SEVERITIES
        for rid, record in zip(compress(ids, may_block), compress(records, may_block), strict=True):
            severity = record.get("severity")
            if severity:  # else severity_of's defaults, inlined: this runs for every open blocker
                if severity in blocking_severities:
                    blocking_ids[rid] = None
            elif record["priority"] != "low" and not (record["kind"] == "request" and is_seed(record)):
                blocking_ids[rid] = None
        kinds = set(kind_list)
        self.changed_kinds.update(kinds)
        if "request" in kinds:
            self.changed_kinds.add("assignment")  # the assignments are rebuilt with the indexes
        self.touched.update(self._ids)
        self._deferred = replay

    def _settle(self) -> None:
        """Build the secondary indexes a cold fold deferred: replay routing, then index once.

        Routing must see every version of a request in log order (sticky least-busy helpers),
        so the fold kept those versions; each index then gets the latest records in one loop.
        What this changes was already reported by the fold, so the change sets are kept as found.
        """
        # Another thread reading an index meanwhile waits here until they are all built.
        with self._settle_lock:
            deferred = self._deferred
            if deferred is None:
                return
            touched, kinds = set(self.touched), set(self.changed_kinds)
            try:
                with gc_paused():
                    route_step = self._route_step
                    previous: dict[str, Rec] = {}
                    for rid, version in deferred():
                        record = version if isinstance(version, dict) else asdict(version)
                        prev = previous.get(rid)
                        if record["kind"] == "request" or (prev is not None and prev["kind"] == "request"):
                            route_step(prev, record)
                        previous[rid] = record
                    self._index_many(self.latest.values())
            finally:
                self._deferred = None  # the build reads no property, so it never re-enters
            self.touched, self.changed_kinds = touched, kinds

    def _touch(self, record: Rec) -> None:
        touched = self.touched
        if record["agentId"] in self._ids:
            touched.add(record["agentId"])
        touched.update(self.target_agents(record))
        touched.update(self.relevant_agents(record))

    def _index(self, record: Rec) -> None:
        rid = record["id"]
        kind = record["kind"]
        status = record["status"]
        self._by_kind.add(kind, rid)
        if kind == "request":
            for clarification in _linked_ids(record):
                self._linked_requests.add(clarification, rid)
        if status in OPEN_STATUSES:
            self.open_ids[rid] = None
            self._open_by_kind.add(kind, rid)
            self._open_by_author.add(record["agentId"], rid)
            for target in record["targets"]:
                self._open_by_target.add(target_key(target), rid)
            for agent in self.relevant_agents(record):
                self._open_relevant.add(agent, rid)
            if is_blocking(record):
                self.blocking_ids[rid] = None
                self._blocking_by_kind.add(kind, rid)
            if kind == "claim" and any(w in text_of(record).lower() for w in _CONFLICT_WORDS):
                self._conflict_ids[rid] = None
        if kind not in _NOT_ACTIONABLE and status not in ("cancelled", "superseded") and not is_seed(record):
            haystack = (text_of(record) + " " + " ".join(record["artifactRefs"])).lower()
            if any(word in haystack for word in _INTERFACE_WORDS):
                self._interface_ids[rid] = None
            owners = set(self.relevant_agents(record))
            for target in record["targets"]:
                if target.startswith("agent:"):
                    owners.add(target[6:])
                elif target in self._ids:
                    owners.add(target)
            if len(owners) >= 2:
                self._impact_ids[rid] = None
        if kind == "request" and _routable(record):
            self._route(record)

    def _index_many(self, records: Iterable[Rec]) -> None:
        """:meth:`_index` for many records on empty indexes (after a cold fold), in one tight loop.

        Same result as calling :meth:`_index` on each in order (tested): every id enters each
        index once, so plain stores into auto-creating buckets replace the index's move-to-end
        bookkeeping, and every lookup is bound to a local. ``open_ids`` and ``blocking_ids`` are
        already filled (by :meth:`_materialized`).
        """
        new_bucket: Callable[[], dict[str, None]] = dict
        by_kind: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        open_by_kind: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        blocking_by_kind: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        open_by_target: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        open_by_author: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        open_relevant: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        linked: defaultdict[str, dict[str, None]] = defaultdict(new_bucket)
        blocking_ids = self.blocking_ids  # open and blocking ids are the fold's (_materialized)
        conflict_ids = self._conflict_ids
        interface_ids = self._interface_ids
        impact_ids = self._impact_ids
        ids = self._ids
        owners_of_ref = self.owners_of_ref
        relevant_agents = self.relevant_agents
        ref_cache = self._ref_cache
        route = self._route
        open_statuses = OPEN_STATUSES
        not_actionable = _NOT_ACTIONABLE
        for record in records:
            rid = record["id"]
            kind = record["kind"]
            status = record["status"]
            by_kind[kind][rid] = None
            targets = record["targets"]
            refs = record["artifactRefs"]
            if not refs:
                relevant: tuple[str, ...] | list[str] = ()
            elif len(refs) == 1:
                relevant = ref_cache.get(refs[0]) or owners_of_ref(refs[0])
            else:
                relevant = relevant_agents(record)
            seed = (
                record["agentId"] == "launcher"
                and record["source"] == "launcher"
                and not record["dependsOn"]
                and not record["closureCondition"]
            )
            if kind == "request":
                for clarification in _linked_ids(record):
                    linked[clarification][rid] = None
            if status in open_statuses:
                open_by_kind[kind][rid] = None
                open_by_author[record["agentId"]][rid] = None
                for target in targets:
                    open_by_target[target[6:] if target[:6] == "agent:" else target][rid] = None
                for agent in relevant:
                    open_relevant[agent][rid] = None
                if rid in blocking_ids:
                    blocking_by_kind[kind][rid] = None
                elif kind == "claim":
                    text = f"{record['summary']} {record['detail']}".lower()
                    if "conflict" in text or "contradict" in text:
                        conflict_ids[rid] = None
            if kind not in not_actionable and status != "cancelled" and status != "superseded" and not seed:
                haystack = f"{record['summary']} {record['detail']} {' '.join(refs)}".lower()
                if (
                    "api" in haystack
                    or "schema" in haystack
                    or "contract" in haystack
                    or "interface" in haystack
                    or "migration" in haystack
                    or "signature" in haystack
                ):
                    interface_ids[rid] = None
                if targets or len(relevant) >= 2:
                    owners = set(relevant)
                    for target in targets:
                        if target[:6] == "agent:":
                            owners.add(target[6:])
                        elif target in ids:
                            owners.add(target)
                    if len(owners) >= 2:
                        impact_ids[rid] = None
            if kind == "request" and targets and not seed:
                route(record)
        # The indexes were empty (a cold read): hand over the built buckets as plain dicts.
        self._by_kind.data = dict(by_kind)
        self._open_by_kind.data = dict(open_by_kind)
        self._blocking_by_kind.data = dict(blocking_by_kind)
        self._open_by_target.data = dict(open_by_target)
        self._open_by_author.data = dict(open_by_author)
        self._open_relevant.data = dict(open_relevant)
        self._linked_requests.data = dict(linked)

    def _unindex(self, record: Rec) -> None:
        rid = record["id"]
        kind = record["kind"]
        self._by_kind.remove(kind, rid)
        if kind == "request":
            for clarification in _linked_ids(record):
                self._linked_requests.remove(clarification, rid)
        if self.open_ids.pop(rid, 0) is None:
            self._open_by_kind.remove(kind, rid)
            self._open_by_author.remove(record["agentId"], rid)
            for target in record["targets"]:
                self._open_by_target.remove(target_key(target), rid)
            for agent in self.relevant_agents(record):
                self._open_relevant.remove(agent, rid)
        if self.blocking_ids.pop(rid, 0) is None:
            self._blocking_by_kind.remove(kind, rid)
        self._conflict_ids.pop(rid, None)
        self._interface_ids.pop(rid, None)
        self._impact_ids.pop(rid, None)
        if self._assignments.pop(rid, None) is not None:
            self._blocking_requests.pop(rid, None)
            self.changed_kinds.add("assignment")
            self._blocking_cache = None

    # -- capability routing (§6.6) ---------------------------------------------------------------
    def _route_step(self, prev: Rec | None, record: Rec) -> None:
        """Account one request version in log order: loads and (sticky) assignees.

        A capability target goes to the holder with the fewest blocking assignments *when the
        request arrives* (ties by agent id) and keeps that helper while the request keeps its
        targets. Re-balancing every request on every refresh, as the Node.js tool did, made
        assignments hop between helpers whenever any other request opened or closed.
        """
        rid = record["id"]
        assignee_of = self._assignee
        kept: dict[str, str | None] = {}
        if prev is not None and _routable(prev):
            prev_blocking = is_blocking(prev)
            for target in prev["targets"]:
                agent = assignee_of.pop((rid, target), None)
                kept[target] = agent
                if agent and prev_blocking:
                    self._load[agent] -= 1
                    self.touched.add(agent)
        if not _routable(record):
            return
        same_targets = prev is not None and prev["targets"] == record["targets"]
        blocking = is_blocking(record)
        for target in record["targets"]:
            agent, reason, _, _, capability = self._static_target(target)
            if reason == "least-busy-capability" and capability is not None:
                holders = self.capability_agents(capability)
                previous = kept.get(target) if same_targets else None
                agent = previous if previous in holders else min(holders, key=lambda a: (self._load[a], a))
            assignee_of[(rid, target)] = agent
            if agent and blocking:
                self._load[agent] += 1
                self.touched.add(agent)

    def _route(self, record: Rec) -> None:
        """Build the assignment entries of a routable request's latest version."""
        rid = record["id"]
        blocking = is_blocking(record)
        items: list[dict[str, Any]] = []
        for target in record["targets"]:
            agent, reason, detail, target_type, capability = self._static_target(target)
            if reason == "least-busy-capability":
                agent = self._assignee.get((rid, target))
                detail = f"{agent} had the fewest open assignments among {capability} agents when it arrived"
            slug = self._slugs.get(target)
            if slug is None:
                # Cached per state: a wave has few distinct targets, and a cold read slugs every request's.
                slug = self._slugs[target] = _slug(target)
            items.append(_assignment(record, target, slug, agent, reason, detail, target_type, capability, blocking))
        self._assignments[rid] = items
        if blocking:
            self._blocking_requests[rid] = None
        self.changed_kinds.add("assignment")
        self._blocking_cache = None

    def _static_target(self, target: str) -> tuple[str | None, str, str, str, str | None]:
        """Resolution that does not depend on other requests (least-busy is decided in _route_step)."""
        ids = self._ids
        if not target:
            return None, "empty-target", "empty target", "unknown", None
        if target.startswith("agent:"):
            agent = target[6:]
            if agent in ids:
                return agent, "explicit-agent", f"explicitly targeted {agent}", "agent", None
            return None, "missing-agent", f"{agent} is not an agent of this wave", "agent", None
        if target in ids:
            return target, "exact-agent-id", f"target matches agent id {target}", "agent", None
        if target.startswith("capability:"):
            capability = target[11:].strip().lower()
            holders = self.capability_agents(capability)
            preferred = self.roster.preferred_agents.get(capability, []) if self.roster else []
            for agent in preferred:
                if agent in holders:
                    return agent, "preferred-agent", f"preferred agent for {capability}", "capability", capability
            if holders:
                return None, "least-busy-capability", "", "capability", capability
            return None, "missing-capability-owner", f"no agent advertises {capability}", "capability", capability
        return None, "unsupported-target", f"unsupported target {target}", "unknown", None

    def resolve_target(self, target: str) -> tuple[str | None, str, str, str, str | None]:
        """``(assignee, reason, detail, targetType, capability)`` for a new target (§6.6 order)."""
        found = self._static_target(target)
        if found[1] != "least-busy-capability" or found[4] is None:
            return found
        agent = min(self.capability_agents(found[4]), key=lambda a: (self.load[a], a))
        return agent, found[1], f"{agent} has the fewest open assignments ({self.load[agent]})", found[3], found[4]

    # -- queries -------------------------------------------------------------------------------
    @property
    def last_updated(self) -> str:
        """``updatedAt`` of the most recently updated record ("" for an empty log)."""
        for record in reversed(self.latest.values()):
            return str(record["updatedAt"])
        return ""

    def take_changes(self) -> tuple[set[str], set[str]]:
        touched, kinds = self.touched, self.changed_kinds
        self.touched, self.changed_kinds = set(), set()
        return touched, kinds

    def get(self, rid: str) -> Rec | None:
        return self.latest.get(rid)

    def records(self, ids: Iterable[str]) -> list[Rec]:
        latest = self.latest
        return [latest[rid] for rid in ids if rid in latest]

    def latest_of_kind(self, kind: str) -> list[Rec]:
        return self.records(self.by_kind.get(kind))

    def open_of_kind(self, kind: str) -> list[Rec]:
        return self.records(self.open_by_kind.get(kind))

    def blocking(self) -> list[Rec]:
        return self.records(self.blocking_ids)

    def all_assignments(self) -> list[dict[str, Any]]:
        return [item for items in self.assignments.values() for item in items]

    def blocking_assignments(self) -> list[dict[str, Any]]:
        """Assignments of open blocking requests (cached until an assignment changes)."""
        if self._blocking_cache is None:
            assignments = self.assignments
            self._blocking_cache = [item for rid in self.blocking_requests for item in assignments[rid]]
        return self._blocking_cache

    def assignments_for(self, agent_id: str) -> list[dict[str, Any]]:
        return [a for a in self.blocking_assignments() if a["assignedAgentId"] == agent_id]

    def open_clarifications(self) -> list[Rec]:
        return self.open_of_kind("clarification-request")

    def clarification_linked_requests(self, *, open_only: bool = True) -> list[Rec]:
        """Requests linked to any clarification present in the log (§6.3)."""
        clarifications = self.by_kind.get("clarification-request")
        out: dict[str, Rec] = {}
        for cid in clarifications:
            for rid in self.linked_requests.get(cid):
                record = self.latest[rid]
                if not open_only or record["status"] in OPEN_STATUSES:
                    out[rid] = record
        return list(out.values())

    def linked_to(self, clarification_id: str) -> list[Rec]:
        return self.records(self.linked_requests.get(clarification_id))

    def open_human(self) -> list[Rec]:
        return [*self.open_of_kind("human-escalation"), *self.open_of_kind("human-feedback")]

    def inbox_ids(self, agent_id: str) -> dict[str, dict[str, None]]:
        """Open record ids per inbox section for one agent (§6.5), each in update order."""
        capabilities = []
        agent = self.roster.agent(agent_id) if self.roster else None
        if agent is not None:
            capabilities = agent.capabilities
        targeted: dict[str, None] = dict(self.open_by_target.get(agent_id))
        for capability in capabilities:
            targeted.update(self.open_by_target.get(f"capability:{capability}"))
            targeted.update(self.open_by_target.get(f"capability:{capability.lower()}"))
        own = self.open_by_author.get(agent_id)
        clarifications = {
            rid: None for rid in self.open_by_kind.get("clarification-request") if rid in own or rid in targeted
        }
        relevant = {rid: None for rid in self.open_relevant.get(agent_id) if rid not in targeted and rid not in own}
        return {"targeted": targeted, "own": dict(own), "clarifications": clarifications, "relevant": relevant}

    def top(self, ids: dict[str, None], limit: int) -> list[Rec]:
        """The ``limit`` most important records: urgent first, then newest first.

        Walks newest to oldest and stops once ``limit`` urgent records are found, so the common
        case costs O(limit), not a sort of every open record.
        """
        return self._top_walk(reversed(ids), limit)

    def top_of_disjoint(self, groups: list[dict[str, None]], limit: int) -> list[Rec]:
        """``top({**groups[0], **groups[1], ...})`` for groups that share no id, without building the union."""
        return self._top_walk(chain.from_iterable(reversed(group) for group in reversed(groups)), limit)

    def _top_walk(self, newest_first: Iterator[str], limit: int) -> list[Rec]:
        buckets: list[list[Rec]] = [[], [], [], []]
        latest = self.latest
        for rid in newest_first:
            record = latest.get(rid)
            if record is None:
                continue
            bucket = buckets[PRIORITY_RANK.get(record["priority"], 2)]
            if len(bucket) < limit:
                bucket.append(record)
            if len(buckets[0]) >= limit:
                break
        return [record for bucket in buckets for record in bucket][:limit]

    def ordered(self, ids: Iterable[str]) -> list[Rec]:
        """Records by priority (urgent first), then most recently updated first."""
        records = self.records(ids)
        records.reverse()
        records.sort(key=lambda r: PRIORITY_RANK.get(r["priority"], 2))
        return records


def _pick(items: Any, keys: list[Any]) -> list[Any]:
    """``[items[k] for k in keys]`` in one C call."""
    if len(keys) > 1:
        return list(itemgetter(*keys)(items))
    return [items[key] for key in keys]


def _created_of(version: Version) -> str:
    return version.record["createdAt"] if version.__class__ is LogEntry else version.createdAt  # type: ignore[union-attr]


def _targets_of(version: Version) -> list[str]:
    return version.record["targets"] if version.__class__ is LogEntry else version.targets  # type: ignore[union-attr]


def _kind_of(version: Version) -> str:
    return version.record["kind"] if version.__class__ is LogEntry else version.kind  # type: ignore[union-attr]


def _routable(record: Rec) -> bool:
    return record["kind"] == "request" and bool(record["targets"]) and not is_seed(record)


def _merge(prev: Rec, record: Rec, set_keys: frozenset[str] | None) -> Rec:
    """A new version over the previous one: the first ``createdAt`` is kept."""
    if set_keys is None:
        if record["createdAt"] == prev["createdAt"]:
            return record  # the usual update: nothing to merge (records are never mutated)
        merged = dict(record)
    else:
        merged = dict(prev)
        for key in set_keys:
            merged[key] = record[key]
        merged["updatedAt"] = record["updatedAt"]
    merged["createdAt"] = prev["createdAt"]
    return merged


def _assignment(
    record: Rec,
    target: str,
    slug: str,
    assignee: str | None,
    reason: str,
    detail: str,
    target_type: str,
    capability: str | None,
    blocking: bool,
) -> dict[str, Any]:
    rid = record["id"]
    return {
        "id": f"assignment:{rid}:{slug}",
        "requestId": rid,
        "recordId": rid,
        "sourceKind": record["kind"],
        "sourceAgentId": record["agentId"],
        "summary": record["summary"],
        "detail": record["detail"],
        "priority": record["priority"],
        "requestStatus": record["status"],
        "state": record["status"] if record["status"] in OPEN_STATUSES else "resolved",
        "target": target,
        "targetType": target_type,
        "capability": capability,
        "assignedAgentId": assignee,
        "assignmentReason": reason,
        "assignmentDetail": detail,
        "blocking": blocking,
        "artifactRefs": list(record["artifactRefs"]),
        "dependsOn": list(record["dependsOn"]),
        "closureCondition": record["closureCondition"],
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
    }


def _slug(target: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in target.lower())
    return out.strip("-") or "target"


def reduce(records: Iterable[Rec], roster: Roster | None = None) -> CoordinationState:
    """The pure reducer: records in log order -> materialized state."""
    state = CoordinationState(roster)
    state.apply_all((record, None) for record in records)
    state.take_changes()
    return state

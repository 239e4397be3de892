"""The coordination blackboard: append-only log, reducer, projections, triage, feedback, dependencies.

Data flows one way: records are appended to ``coordination/wave-<n>.jsonl`` (:mod:`.log`), folded
into a :class:`~.state.CoordinationState` (:mod:`.state`), and projected into the board, shared
summary, inboxes, ledger, docs queue, integration summary and assignments (:mod:`.projections`).
:class:`~.store.WaveCoordination` ties them to the files of a lane; :mod:`.engine` is what a wave
run calls.
"""

from __future__ import annotations

from pytest_wave.coordination.log import CoordinationLog, LogReader, ReadBatch, append_lines
from pytest_wave.coordination.projections import WaveFacts
from pytest_wave.coordination.records import RecordError, make_record, normalize
from pytest_wave.coordination.state import CoordinationState, is_blocking, reduce, severity_of
from pytest_wave.coordination.store import CoordinationPaths, WaveCoordination, barrier_checks

__all__ = [
    "CoordinationLog",
    "CoordinationPaths",
    "CoordinationState",
    "LogReader",
    "ReadBatch",
    "RecordError",
    "WaveCoordination",
    "WaveFacts",
    "append_lines",
    "barrier_checks",
    "is_blocking",
    "make_record",
    "normalize",
    "reduce",
    "severity_of",
]

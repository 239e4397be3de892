"""The human feedback queue (coordination.md §6.10): one JSON file per question, under a lock.

Every question and every answer is also a coordination record (after-0.5 §2.14): asking opens a
``human-feedback`` record, which blocks closure and stops retries with "waiting on human"; answering
resolves it, the escalation (only if there was one: the Node.js tool wrote a resolved escalation even
for a plain ask), the clarification it escalated and that clarification's open follow-ups, so the
wave is no longer stuck in ``clarifying`` after the human replied (the 0.8.3 bug).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.records import Rec, make_record
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.model.coordination import (
    OPEN_STATUSES,
    FeedbackRequest,
    FeedbackResponse,
    now_iso,
)

LogFor = Callable[[str, int], CoordinationLog]
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FeedbackError(ValueError):
    """A feedback operation that cannot be done (unknown id, already answered)."""


def request_id(lane: str, wave: int, agent_id: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{int(time.time() * 1000) % 1000:03d}Z"
    # Lane and agent id come from records: cap them, or a long one makes the file name too long to write.
    return _SAFE.sub("-", f"{stamp}-{lane[:40]}-w{wave}-{agent_id[:40]}-{secrets.token_hex(3)}")


class FeedbackQueue:
    def __init__(self, orchestrator_dir: Path, log_for: LogFor) -> None:
        self.directory = orchestrator_dir / "feedback" / "requests"
        self.lock_path = orchestrator_dir / "feedback" / "requests.lock"
        self.log_for = log_for

    def path(self, rid: str) -> Path:
        if not rid or _SAFE.search(rid):
            raise FeedbackError(f"feedback request id {rid!r} is not valid")
        return self.directory / f"{rid}.json"

    def _lock(self) -> FileLock:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.lock_path), timeout=5.0)

    def _write(self, request: FeedbackRequest) -> None:
        write_text_atomic(self.path(request.id), request.model_dump_json(by_alias=True, indent=2) + "\n")

    def get(self, rid: str) -> FeedbackRequest:
        path = self.path(rid)
        try:
            return FeedbackRequest.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FeedbackError(f"feedback request {rid} not found in {self.directory}") from None
        except ValidationError as exc:
            raise FeedbackError(f"{path}: not a feedback request ({exc.errors()[0]['msg']})") from None

    def list(self, lane: str | None = None, wave: int | None = None, *, pending: bool = False) -> list[FeedbackRequest]:
        out: list[FeedbackRequest] = []
        if not self.directory.is_dir():
            return out
        for path in sorted(self.directory.glob("*.json")):
            try:
                request = FeedbackRequest.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                continue  # a half-written or foreign file is not a question anyone asked
            if lane is not None and request.lane != lane:
                continue
            if wave is not None and request.wave != wave:
                continue
            if pending and request.status != "pending":
                continue
            out.append(request)
        return out

    def ask(
        self,
        lane: str,
        wave: int,
        agent_id: str,
        question: str,
        context: str = "",
        *,
        orchestrator_id: str | None = None,
        clarification_id: str | None = None,
        rid: str | None = None,
    ) -> FeedbackRequest:
        if not question.strip():
            raise FeedbackError("question: must not be empty")
        stamp = now_iso()
        request = FeedbackRequest(
            id=rid or request_id(lane, wave, agent_id),
            created_at=stamp,
            updated_at=stamp,
            lane=lane,
            wave=wave,
            agent_id=agent_id,
            orchestrator_id=orchestrator_id,
            question=question.strip(),
            context=context,
            clarification_id=clarification_id,
        )
        record = make_record(
            id=request.id,
            kind="human-feedback",
            wave=wave,
            lane=lane,
            agent_id=agent_id,
            targets=[f"agent:{agent_id}"],
            priority="high",
            source="feedback",
            summary=request.question,
            detail=context,
            closure_condition=f"clarification:{clarification_id}" if clarification_id else "",
        )
        with self._lock():
            self._write(request)
        self.log_for(lane, wave).append([record])
        return request

    def respond(self, rid: str, text: str, operator: str = "human-operator", *, force: bool = False) -> FeedbackRequest:
        if not text.strip():
            raise FeedbackError("response: must not be empty")
        with self._lock():
            request = self.get(rid)
            if request.status == "answered" and not force:
                raise FeedbackError(f"feedback request {rid} is already answered (fix: pass --force to re-answer)")
            stamp = now_iso()
            request = request.model_copy(
                update={
                    "status": "answered",
                    "updated_at": stamp,
                    "response": FeedbackResponse(operator=operator, text=text, answered_at=stamp),
                }
            )
            self._write(request)
        log = self.log_for(request.lane, request.wave)
        log.append(answer_records(log, request))
        return request

    def watch(self, rid: str, timeout: float, interval: float = 0.5) -> FeedbackRequest:
        """Poll until answered or ``timeout`` seconds pass; returns the request either way."""
        deadline = time.monotonic() + timeout
        while True:
            request = self.get(rid)
            if request.status == "answered" or time.monotonic() >= deadline:
                return request
            time.sleep(interval)


def answer_records(log: CoordinationLog, request: FeedbackRequest) -> list[Rec]:
    """Records that carry a human answer into the wave's state."""
    state = CoordinationState()
    state.apply_all((entry.record, entry.set_keys) for entry in log.read_all().entries)
    stamp = now_iso()
    answer = request.response.text if request.response else ""
    resolution = f"answered by {request.response.operator if request.response else 'human'}: {answer}"
    out: list[Rec] = []

    def resolve(record: Rec) -> None:
        out.append({**record, "status": "resolved", "updatedAt": stamp, "resolution": resolution})

    feedback = state.get(request.id)
    if feedback is not None:
        resolve(feedback)
    else:
        out.append(
            make_record(
                id=request.id,
                kind="human-feedback",
                wave=request.wave,
                lane=request.lane,
                agent_id=request.agent_id,
                targets=[f"agent:{request.agent_id}"],
                priority="high",
                source="feedback",
                status="resolved",
                summary=request.question,
                detail=answer,
            )
        )
    escalation = state.get(f"escalation-{request.id}")
    if escalation is not None and escalation["status"] in OPEN_STATUSES:
        resolve(escalation)
    clarification = state.get(request.clarification_id) if request.clarification_id else None
    if clarification is not None:
        if clarification["status"] in OPEN_STATUSES:
            resolve(clarification)
        for linked in state.linked_to(clarification["id"]):
            if linked["status"] in OPEN_STATUSES:
                resolve(linked)
    return out

"""``wave feedback ask|respond|list|watch|show``: questions for a human, and their answers.

Every question is also an open ``human-feedback`` record in the wave's coordination log, so the wave
stops with "waiting on human" instead of retrying; every answer resolves it (and the escalation and
clarification behind it) in the same log.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pytest_wave.coordination.cli_support import ENV_AGENT, Location, add_location_options, locate, wave_number
from pytest_wave.coordination.feedback import FeedbackError, FeedbackQueue
from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import FeedbackRequest


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("feedback", help="ask a human, answer, list and watch questions")
    verbs = parser.add_subparsers(dest="feedback_verb", metavar="VERB", required=True)

    ask = verbs.add_parser("ask", help="ask a question (opens a human-feedback record)")
    add_location_options(ask)
    ask.add_argument("--agent", default=None, help=f"asking agent (default: ${ENV_AGENT})")
    ask.add_argument("--question", default=None)
    ask.add_argument("--context", default="")
    ask.add_argument("--orchestrator-id", default=None)
    ask.add_argument("--wait", action="store_true", help="wait for the answer and print it")
    ask.add_argument("--timeout-seconds", type=float, default=1800.0)
    ask.set_defaults(handler=_ask)

    respond = verbs.add_parser("respond", help="answer a question")
    add_location_options(respond, wave=False)
    respond.add_argument("--id", required=True)
    respond.add_argument("--response", required=True)
    respond.add_argument("--operator", default="human-operator")
    respond.add_argument("--force", action="store_true", help="re-answer an answered question")
    respond.set_defaults(handler=_respond)

    listing = verbs.add_parser("list", help="list questions of the lane")
    add_location_options(listing)
    listing.add_argument("--agent", default=None)
    listing.add_argument("--pending", action="store_true")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    watch = verbs.add_parser("watch", help="wait until a question is answered (or list pending ones until none)")
    add_location_options(watch)
    watch.add_argument("--id", default=None)
    watch.add_argument("--timeout-seconds", type=float, default=1800.0)
    watch.add_argument("--interval", type=float, default=0.5)
    watch.set_defaults(handler=_watch)

    show = verbs.add_parser("show", help="print one question as JSON")
    add_location_options(show, wave=False)
    show.add_argument("--id", required=True)
    show.set_defaults(handler=_show)


def _queue(location: Location) -> FeedbackQueue:
    return FeedbackQueue(location.orchestrator_dir, lambda lane, wave: _log(location, lane, wave))


def _log(location: Location, lane: str, wave: int) -> CoordinationLog:
    if lane != location.lane:
        raise WaveError(
            f"lane: request is for lane {lane}, this command resolved lane {location.lane}", fix="pass --lane"
        )
    return location.log(wave)


def _line(request: FeedbackRequest) -> str:
    answer = f" -> {request.response.operator}: {request.response.text}" if request.response else ""
    return f"{request.id} [{request.status}] wave {request.wave} {request.agent_id}: {request.question}{answer}"


def _ask(args: argparse.Namespace) -> int:
    import os

    location = locate(args)
    wave = wave_number(args.wave)
    agent = (args.agent or os.environ.get(ENV_AGENT, "")).strip()
    if not agent:
        raise WaveError("agent: missing", fix=f"pass --agent <id> or set ${ENV_AGENT}")
    if not (args.question or "").strip():
        raise WaveError("question: missing", fix="pass --question")
    queue = _queue(location)
    try:
        request = queue.ask(
            location.lane, wave, agent, args.question, args.context, orchestrator_id=args.orchestrator_id
        )
    except FeedbackError as exc:
        raise WaveError(str(exc)) from None
    print(request.model_dump_json(by_alias=True))
    if args.wait:
        request = queue.watch(request.id, args.timeout_seconds)
        if request.response is None:
            print(f"no answer to {request.id} within {args.timeout_seconds:g}s", file=sys.stderr)
            return 1
        print(f"{request.response.operator}: {request.response.text}")
    return 0


def _respond(args: argparse.Namespace) -> int:
    location = locate(args)
    try:
        request = _queue(location).respond(args.id, args.response, args.operator, force=args.force)
    except FeedbackError as exc:
        raise WaveError(str(exc)) from None
    print(_line(request))
    return 0


def _list(args: argparse.Namespace) -> int:
    location = locate(args)
    wave = wave_number(args.wave) if args.wave is not None else None
    requests = _queue(location).list(location.lane, wave, pending=args.pending)
    if args.agent:
        requests = [r for r in requests if r.agent_id == args.agent]
    if args.json:
        print(json.dumps([r.model_dump(by_alias=True, mode="json") for r in requests], indent=2))
    else:
        for request in requests:
            print(_line(request))
    return 0


def _watch(args: argparse.Namespace) -> int:
    import time

    location = locate(args)
    queue = _queue(location)
    try:
        if args.id:
            request = queue.watch(args.id, args.timeout_seconds, args.interval)
            print(_line(request))
            return 0 if request.status == "answered" else 1
        wave = wave_number(args.wave) if args.wave is not None else None
        deadline = time.monotonic() + args.timeout_seconds
        while True:
            pending = queue.list(location.lane, wave, pending=True)
            if not pending or time.monotonic() >= deadline:
                for request in pending:
                    print(_line(request))
                return 0 if not pending else 1
            time.sleep(args.interval)
    except FeedbackError as exc:
        raise WaveError(str(exc)) from None


def _show(args: argparse.Namespace) -> int:
    location = locate(args)
    try:
        request = _queue(location).get(args.id)
    except FeedbackError as exc:
        raise WaveError(str(exc)) from None
    print(request.model_dump_json(by_alias=True, indent=2))
    return 0

"""``wave dep post|show|resolve|render``: cross-lane dependency tickets.

Tickets live in ``<orchestratorStateDir>/dependencies/<ownerLane>.jsonl`` and are folded by id
before anything reads them, so a resolved ticket stops blocking (the Node.js tool's did not).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from pytest_wave.coordination.cli_support import ENV_AGENT, add_location_options, locate, wave_number
from pytest_wave.coordination.dependencies import DependencyStore, build_snapshot
from pytest_wave.coordination.projections import render_dependencies_markdown
from pytest_wave.coordination.records import RecordError
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.errors import WaveError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dep", help="cross-lane dependency tickets")
    verbs = parser.add_subparsers(dest="dep_verb", metavar="VERB", required=True)

    post = verbs.add_parser("post", help="file a ticket with the owner lane")
    add_location_options(post, wave=False)
    post.add_argument("--owner-lane", default=None, help="lane that must do the work (default: --lane)")
    post.add_argument("--owner-wave", default=None)
    post.add_argument("--requester-lane", default=None, help="default: the resolved lane")
    post.add_argument("--requester-wave", default=None)
    post.add_argument("--agent", default=None, help=f"default: ${ENV_AGENT}")
    post.add_argument("--summary", default=None)
    post.add_argument("--detail", default="")
    post.add_argument("--id", default=None)
    post.add_argument("--target", dest="targets", action="append", default=[])
    post.add_argument("--artifact", dest="artifacts", action="append", default=[])
    post.add_argument("--closure-condition", default="")
    post.add_argument("--priority", default="high")
    post.add_argument("--status", default="open")
    post.add_argument("--required", action="store_true")
    post.set_defaults(handler=_post)

    show = verbs.add_parser("show", help="tickets of a lane (with --wave: its snapshot JSON)")
    add_location_options(show)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    resolve = verbs.add_parser("resolve", help="close a ticket")
    add_location_options(resolve, wave=False)
    resolve.add_argument("--id", required=True)
    resolve.add_argument("--agent", default=None)
    resolve.add_argument("--status", default="resolved")
    resolve.add_argument("--detail", default="")
    resolve.set_defaults(handler=_resolve)

    render_verb = verbs.add_parser("render", help="write dependencies/<lane>.json and .md")
    add_location_options(render_verb)
    render_verb.add_argument("--json", action="store_true", help="accepted for compatibility; ignored")
    render_verb.set_defaults(handler=_render)


def _store(args: argparse.Namespace) -> tuple[str, DependencyStore]:
    location = locate(args)
    store = DependencyStore(location.orchestrator_dir / "dependencies")
    store.poll()
    return location.lane, store


def _agent(args: argparse.Namespace) -> str:
    agent = (args.agent or os.environ.get(ENV_AGENT, "")).strip()
    if not agent:
        raise WaveError("agent: missing", fix=f"pass --agent <id> or set ${ENV_AGENT}")
    return agent


def _post(args: argparse.Namespace) -> int:
    lane, store = _store(args)
    if not (args.summary or "").strip():
        raise WaveError("summary: missing", fix="pass --summary")
    owner_wave = wave_number(args.owner_wave, field="owner-wave")
    requester_wave = wave_number(args.requester_wave, field="requester-wave")
    fields: dict[str, Any] = {
        "owner_lane": args.owner_lane or lane,
        "owner_wave": owner_wave,
        "requester_lane": args.requester_lane or lane,
        "requester_wave": requester_wave,
        "agent_id": _agent(args),
        "summary": args.summary,
        "detail": args.detail,
        "targets": args.targets,
        "artifact_refs": args.artifacts,
        "closure_condition": args.closure_condition,
        "priority": args.priority,
        "status": args.status,
        "required": args.required,
    }
    if args.id:
        fields["id"] = args.id
    try:
        record = store.post(**fields)
    except (RecordError, ValueError) as exc:
        raise WaveError(str(exc)) from None
    print(json.dumps(record, ensure_ascii=False))
    return 0


def _show(args: argparse.Namespace) -> int:
    lane, store = _store(args)
    if args.wave is not None:
        snapshot = build_snapshot(store.tickets_for_lane(lane), lane, wave_number(args.wave), None)
        print(json.dumps(snapshot, indent=2, ensure_ascii=False))
        return 0
    tickets = store.tickets_for_lane(lane)
    if args.json:
        print(json.dumps(tickets, indent=2, ensure_ascii=False))
        return 0
    for ticket in tickets:
        print(f"{ticket['updatedAt']} {ticket['id']} {ticket['status']} {' '.join(ticket['summary'].split())}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    lane, store = _store(args)
    try:
        record = store.resolve(lane, args.id, _agent(args), args.status, args.detail)
    except KeyError as exc:
        raise WaveError(str(exc.args[0])) from None
    except RecordError as exc:
        raise WaveError(exc.message) from None
    print(json.dumps(record, ensure_ascii=False))
    return 0


def _render(args: argparse.Namespace) -> int:
    lane, store = _store(args)
    wave = wave_number(args.wave) if args.wave is not None or os.environ.get("WAVE_NUMBER") else 0
    snapshot = build_snapshot(store.tickets_for_lane(lane), lane, wave, None)
    base = store.directory / lane
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    write_text_atomic(json_path, json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n")
    write_text_atomic(md_path, render_dependencies_markdown(snapshot))
    print(json_path)
    print(md_path)
    return 0

"""``wave coord post|show|render|inbox``: the coordination log for agents and operators.

``post`` appends one record; with ``--id`` it updates that record (only the given fields change),
so an agent can acknowledge or resolve its own request. Bad input is one line naming the field and
nothing is appended. Inside an agent run, lane, wave, agent and state dir come from ``WAVE_*``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pytest_wave.coordination.cli_support import (
    ENV_AGENT,
    Location,
    add_location_options,
    locate,
    wave_file,
    wave_number,
)
from pytest_wave.coordination.engine import roster_from_context
from pytest_wave.coordination.log import CoordinationLog
from pytest_wave.coordination.records import RecordError, make_record
from pytest_wave.coordination.state import CoordinationState
from pytest_wave.coordination.store import WaveCoordination
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import (
    CONFIDENCES,
    PRIORITIES,
    RECORD_KINDS,
    RECORD_STATUSES,
    SEVERITIES,
    InboxPaths,
    now_iso,
)

_POST_FIELDS: dict[str, str] = {
    # argparse dest -> record key
    "kind": "kind",
    "summary": "summary",
    "detail": "detail",
    "status": "status",
    "priority": "priority",
    "confidence": "confidence",
    "severity": "severity",
    "closure_condition": "closureCondition",
    "targets": "targets",
    "artifacts": "artifactRefs",
    "depends_on": "dependsOn",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "coord", help="post to and read the wave's coordination log", description=__doc__.splitlines()[0]
    )
    verbs = parser.add_subparsers(dest="coord_verb", metavar="VERB", required=True)

    post = verbs.add_parser("post", help="append a record (or update one with --id)")
    add_location_options(post)
    post.add_argument("--agent", default=None, help=f"author agent id (default: ${ENV_AGENT})")
    post.add_argument("--id", default=None, help="update this record id (or create it with this id)")
    post.add_argument("--kind", default=None, help="one of: " + ", ".join(RECORD_KINDS))
    post.add_argument("--summary", default=None)
    post.add_argument("--detail", default=None)
    post.add_argument("--status", default=None, help="one of: " + ", ".join(RECORD_STATUSES))
    post.add_argument("--priority", default=None, help="one of: " + ", ".join(PRIORITIES))
    post.add_argument("--confidence", default=None, help="one of: " + ", ".join(CONFIDENCES))
    post.add_argument("--severity", default=None, help="one of: " + ", ".join(SEVERITIES))
    post.add_argument("--closure-condition", default=None)
    post.add_argument(
        "--target", dest="targets", action="append", default=None, help="agent:<id>, <id> or capability:<c>"
    )
    post.add_argument("--artifact", dest="artifacts", action="append", default=None)
    post.add_argument("--depends-on", dest="depends_on", action="append", default=None)
    post.set_defaults(handler=_post)

    show = verbs.add_parser("show", help="print the latest version of every record")
    add_location_options(show)
    show.add_argument("--json", action="store_true", help="print the materialized state as JSON")
    show.add_argument("--open", action="store_true", help="only open records")
    show.set_defaults(handler=_show)

    for name, helptext, handler in (
        ("render", "rebuild every derived file and print the board path", _render),
        ("inbox", "write one agent's inbox and the shared summary; print their paths", _inbox),
    ):
        verb = verbs.add_parser(name, help=helptext)
        add_location_options(verb)
        verb.add_argument(
            "--wave-file", type=Path, default=None, help="the wave file (default: <wavesDir>/wave-<n>.md)"
        )
        if name == "inbox":
            verb.add_argument("--agent", default=None, help=f"agent id (default: ${ENV_AGENT})")
        verb.set_defaults(handler=handler)


def _agent(args: argparse.Namespace) -> str:
    agent = (args.agent or os.environ.get(ENV_AGENT, "")).strip()
    if not agent:
        raise WaveError("agent: missing", fix=f"pass --agent <id> or set ${ENV_AGENT}")
    return agent


def _read_state(log: CoordinationLog) -> CoordinationState:
    batch = log.read_all()
    state = CoordinationState()
    for entry in batch.entries:
        state.apply(entry.record, entry.set_keys)
    for issue in batch.all_issues():
        print(issue.one_line(), file=sys.stderr)
    return state


def _post(args: argparse.Namespace) -> int:
    location = locate(args)
    wave = wave_number(args.wave)
    agent = _agent(args)
    given = {key: getattr(args, dest) for dest, key in _POST_FIELDS.items() if getattr(args, dest) is not None}
    log = location.log(wave)
    fields: dict[str, Any]
    existing = _read_state(log).get(args.id) if args.id else None
    if existing is not None:
        # An update: the latest version with only the given fields changed, newly stamped.
        fields = {**existing, **given, "agentId": agent, "source": "agent", "updatedAt": now_iso()}
    else:
        for required in ("kind", "summary"):
            if required not in given:
                raise WaveError(f"{required}: missing", fix=f"pass --{required}")
        fields = {**given, "lane": location.lane, "wave": wave, "agentId": agent, "source": "agent"}
        if args.id:
            fields["id"] = args.id
    try:
        [record] = log.append([make_record(**fields)])  # as stored: redacted
    except RecordError as exc:
        raise WaveError(exc.message, fix=f"check --{_flag(exc.field)}" if exc.field else None) from None
    print(json.dumps(record, ensure_ascii=False))
    return 0


def _flag(field: str | None) -> str:
    flags = {"closureCondition": "closure-condition", "artifactRefs": "artifact", "dependsOn": "depends-on"}
    flags.update({"targets": "target", "agentId": "agent"})
    return flags.get(field or "", field or "")


def _show(args: argparse.Namespace) -> int:
    location = locate(args)
    wave = wave_number(args.wave)
    log = location.log(wave)
    state = _read_state(log)
    records = [state.latest[rid] for rid in state.open_ids] if args.open else list(state.latest.values())
    if args.json:
        print(
            json.dumps(
                {
                    "lane": location.lane,
                    "wave": wave,
                    "recordCount": state.record_count,
                    "latestRecords": records,
                    "openRecords": list(state.open_ids),
                    "blockingRecords": list(state.blocking_ids),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    for record in records:
        summary = " ".join(record["summary"].split())
        print(
            f"{record['updatedAt']} {record['agentId']} {record['kind']}/{record['status']} {record['id']}: {summary}"
        )
    return 0


def _coordination(args: argparse.Namespace) -> tuple[Location, WaveCoordination]:
    from pytest_wave.engine.context import RunOptions, WaveContext

    location = locate(args)
    wave = wave_number(args.wave)
    path = wave_file(location, wave, args.wave_file)
    ctx = WaveContext.load(path, RunOptions(lane=location.lane, dry_run=args.dry_run), repo_root=location.repo_root)
    roster = roster_from_context(ctx).model_copy(update={"wave": wave})
    coordination = WaveCoordination(roster, location.paths(wave))
    coordination.refresh(seeds=False)
    for issue in [*coordination.issues, *([coordination.torn_tail] if coordination.torn_tail else [])]:
        print(issue.one_line(), file=sys.stderr)
    return location, coordination


def _render(args: argparse.Namespace) -> int:
    _, coordination = _coordination(args)
    print(coordination.paths.board)
    return 0


def _inbox(args: argparse.Namespace) -> int:
    agent = _agent(args)
    _, coordination = _coordination(args)
    if agent not in coordination.roster.ids:
        raise WaveError(f"agent: {agent} is not an agent of wave {coordination.roster.wave}")
    paths = coordination.paths
    record = InboxPaths(shared_path=str(paths.shared_summary), inbox_path=str(paths.inbox(agent)))
    target = paths.inbox_dir / f"{agent}.json"
    from pytest_wave.engine.files import write_text_atomic

    write_text_atomic(target, record.model_dump_json(by_alias=True, indent=2) + "\n")
    print(paths.shared_summary)
    print(paths.inbox(agent))
    print(target)
    return 0

"""``wave adhoc plan|list|show``: transient ad-hoc runs stored under ``.wave/adhoc/runs/<run-id>/``.

``pytest --wave-adhoc "TEXT"`` plans and runs one; ``wave adhoc plan`` only plans (run the printed wave
file with pytest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.models import AdhocRun


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("adhoc", help="ad-hoc runs (pytest --wave-adhoc TEXT): plan, list, show")
    verbs = parser.add_subparsers(dest="adhoc_verb", metavar="VERB", required=True)
    plan = verbs.add_parser("plan", help="plan an ad-hoc wave without running it")
    plan.add_argument("--task", action="append", required=True, help="the request (repeatable)")
    plan.add_argument("--lane", default=None)
    plan.add_argument("--run-id", default=None, help="the run's id (default: a timestamp plus a random suffix)")
    plan.add_argument(
        "--planner",
        choices=("auto", "template"),
        default="auto",
        help="auto: the planner runtime (executors.profiles.planner) when available, else the template",
    )
    plan.add_argument("--repo-root", type=Path, default=None)
    plan.set_defaults(handler=_plan)
    listing = verbs.add_parser("list", help="every ad-hoc run, oldest first")
    listing.add_argument("--repo-root", type=Path, default=None)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    show = verbs.add_parser("show", help="one ad-hoc run")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--repo-root", type=Path, default=None)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _plan(args: argparse.Namespace) -> int:
    from planner.adhoc import plan_adhoc
    from planner.common import Repo

    repo = Repo.find(args.repo_root)
    record = plan_adhoc(repo, args.lane, args.task, args.run_id, use_runtime=args.planner == "auto")
    print(f"{record.run_id}\t{record.wave_path}")
    print(f"wave ad-hoc run {record.run_id}: {planner_line(record)}", file=sys.stderr)
    return 0


def planner_line(record: AdhocRun) -> str:
    """Which planner planned the run, and why (printed once per plan)."""
    who = f"the {record.planner_runtime} planner runtime" if record.planner == "runtime" else "the template"
    return f"planned by {who}" + (f": {record.planner_note}" if record.planner == "template" else "")


def _list(args: argparse.Namespace) -> int:
    from planner.adhoc import list_runs
    from planner.common import Repo

    runs = list_runs(Repo.find(args.repo_root).root)
    if args.json:
        print("[" + ",\n".join(r.model_dump_json(by_alias=True) for r in runs) + "]")
        return 0
    for run in runs:
        print(f"{run.run_id}\t{run.status}\t{run.created_at}\t{' | '.join(run.requests)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from planner.adhoc import load_run, show_run
    from planner.common import Repo

    record = load_run(Repo.find(args.repo_root).root, args.run_id)
    print(
        record.model_dump_json(by_alias=True, indent=2) if args.json else show_run(record),
        end="\n" if args.json else "",
    )
    return 0

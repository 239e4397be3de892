"""``wave update --from-wave N``: forward replanning of the open wave and later ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "update", help="replan open waves from their specs; closed waves stay untouched (with a replan summary)"
    )
    parser.add_argument("--from-wave", type=int, required=True, help="first wave to regenerate")
    parser.add_argument("--lane", default=None)
    parser.add_argument("--repo-root", type=Path, default=None)
    parser.add_argument("--dry-run", action="store_true", help="print the replan summary; write nothing")
    parser.set_defaults(handler=_update)


def _update(args: argparse.Namespace) -> int:
    from planner.common import Repo
    from planner.update import replan

    repo = Repo.find(args.repo_root)
    result = replan(repo, args.lane, args.from_wave, write=not args.dry_run)
    print(result.summary, end="")
    for path in result.written:
        print(f"wrote {path}", file=sys.stderr)
    return 0

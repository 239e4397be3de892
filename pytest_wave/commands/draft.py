"""``wave draft --wave N``: a JSON draft spec and the wave markdown rendered from it, validated first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_wave.commands.project import add_common, add_setup_flags, make_prompter, setup_answers


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("draft", help="draft a wave: JSON spec -> wave markdown, validated before writing")
    add_common(parser)
    parser.add_argument("--wave", type=int, required=True, help="wave number")
    parser.add_argument("--lane", default=None)
    parser.add_argument("--template", default=None, help="implementation, qa, infra, release or migration")
    parser.add_argument("--force", action="store_true", help="replace an existing draft of this wave")
    parser.add_argument("--title", default=None)
    parser.add_argument("--commit-message", default=None)
    parser.add_argument("--sequencing-note", default=None)
    parser.add_argument("--reference-rule", default=None)
    parser.add_argument("--wave-oversight-mode", dest="wave_oversight", default=None)
    parser.add_argument("--context7-bundle", default=None)
    parser.add_argument("--context7-query", default=None)
    parser.add_argument("--component", action="append", default=None, metavar="ID[=LEVEL]", help="repeatable")
    parser.add_argument("--workers", type=int, default=None, help="number of worker agents")
    parser.add_argument("--goal", action="append", default=[], help="a worker's primary goal (one worker each)")
    parser.add_argument("--role-kind", default=None, help="implementation, qa, infra, deploy or research")
    parser.add_argument("--owned-path", action="append", default=None, help="worker owned path (repeatable)")
    parser.add_argument("--validation-command", default=None)
    add_setup_flags(parser)
    parser.set_defaults(handler=_draft)


def _draft(args: argparse.Namespace) -> int:
    from planner.common import Repo
    from planner.draft import DraftOptions, relative, run_draft

    if args.wave < 0:
        raise ValueError("--wave must be 0 or more")
    repo = Repo.find(args.repo_root)
    draft = run_draft(
        repo,
        make_prompter(args),
        DraftOptions(
            wave=args.wave,
            lane=args.lane,
            template=args.template,
            force=args.force,
            title=args.title,
            commit_message=args.commit_message,
            sequencing_note=args.sequencing_note,
            reference_rule=args.reference_rule,
            oversight_mode=args.wave_oversight,
            context7_bundle=args.context7_bundle,
            context7_query=args.context7_query,
            components=args.component,
            workers=args.workers,
            goals=args.goal,
            role_kind=args.role_kind,
            owned_paths=args.owned_path,
            validation_command=args.validation_command,
            setup=setup_answers(args),
        ),
    )
    for path in relative(repo, draft.files):
        print(f"wrote {path}", file=sys.stderr)
    print(
        f"drafted wave {draft.spec.wave} ({draft.spec.template}, lane {draft.spec.lane}): "
        f"{len(draft.spec.agents)} agents",
        file=sys.stderr,
    )
    _ = Path
    return 0

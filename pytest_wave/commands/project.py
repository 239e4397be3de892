"""``wave project setup|show``: the planner's project profile (``.wave/project-profile.json``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_wave.errors import WaveError


def add_setup_flags(parser: argparse.ArgumentParser) -> None:
    """Every setup question as a flag (shared by ``wave draft``, which runs setup when no profile exists)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--new-project", dest="new_project", action="store_true", default=None)
    group.add_argument("--existing-project", dest="new_project", action="store_false")
    parser.add_argument("--oversight-mode", choices=("oversight", "dark-factory"), default=None)
    parser.add_argument("--terminal-surface", choices=("vscode", "tmux", "none"), default=None)
    parser.add_argument("--default-template", default=None, help="default draft template")
    parser.add_argument("--default-lane", default=None, help="default draft lane")
    parser.add_argument(
        "--deploy-env",
        action="append",
        default=None,
        metavar="ID:KIND[:default][:name=N][:notes=T]",
        help="a deploy environment to remember (repeatable); kinds: railway-mcp, railway-cli, docker-compose, "
        "kubernetes, ssh-manual, custom",
    )
    parser.add_argument("--no-deploy-envs", action="store_true", help="remember no deploy environment")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo-root", type=Path, default=None, help="repository root (default: found from the cwd)")
    parser.add_argument("--yes", "-y", action="store_true", help="ask nothing: take the default for every question")


def setup_answers(args: argparse.Namespace) -> Any:
    from planner.profile import SetupAnswers, parse_env_flag

    envs = [parse_env_flag(text) for text in args.deploy_env] if args.deploy_env else None
    if args.no_deploy_envs:
        envs = []
    return SetupAnswers(
        new_project=args.new_project,
        oversight_mode=args.oversight_mode,
        terminal_surface=args.terminal_surface,
        template=args.default_template,
        lane=args.default_lane,
        deploy_envs=envs,
    )


def make_prompter(args: argparse.Namespace) -> Any:
    from planner.prompter import Prompter

    return Prompter(interactive=not args.yes)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("project", help="the planner's project profile (.wave/project-profile.json)")
    verbs = parser.add_subparsers(dest="project_verb", metavar="VERB", required=True)
    setup = verbs.add_parser("setup", help="ask the profile questions (each also a flag) and save the answers")
    add_common(setup)
    add_setup_flags(setup)
    setup.set_defaults(handler=_setup)
    show = verbs.add_parser("show", help="print the saved profile")
    add_common(show)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _setup(args: argparse.Namespace) -> int:
    from planner.common import Repo
    from planner.profile import PROFILE_PATH, run_setup, save_profile

    repo = Repo.find(args.repo_root)
    profile = run_setup(repo, make_prompter(args), setup_answers(args))
    save_profile(repo.root, profile)
    print(f"wrote {PROFILE_PATH}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from planner.common import Repo
    from planner.profile import PROFILE_PATH, load_profile, show_profile

    repo = Repo.find(args.repo_root)
    profile = load_profile(repo.root)
    if profile is None:
        raise WaveError(f"no project profile yet ({PROFILE_PATH})", fix="run 'wave project setup'")
    if args.json:
        print(profile.model_dump_json(by_alias=True, indent=2))
    else:
        print(show_profile(profile, repo.root), end="")
    return 0

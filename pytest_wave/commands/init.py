"""``wave init`` (seed a repository for pytest-wave) and ``wave upgrade`` (refresh what init seeded)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_wave import install


def register(subparsers: Any) -> None:
    init = subparsers.add_parser(
        "init",
        help="seed a repository: [tool.wave] config, role prompts, plan docs, component matrix, a starter wave",
        description="Write every missing starter file; never overwrite one that exists (it is listed as kept).",
    )
    init.add_argument("--repo-root", type=Path, default=Path("."), help="repository to seed (default: the cwd)")
    init.add_argument(
        "--adopt",
        "--adopt-existing",
        dest="adopt",
        action="store_true",
        help="keep an existing (Node.js tool) layout: read its wave.config.json and write only what is missing",
    )
    init.add_argument(
        "--config-format",
        choices=("toml", "json"),
        default="toml",
        help="toml: [tool.wave] in pyproject.toml (default); json: wave.config.json",
    )
    init.add_argument("--json", action="store_true", help="print the report as JSON")
    init.set_defaults(handler=_init)

    upgrade = subparsers.add_parser(
        "upgrade",
        help="refresh the role prompts and starter files init wrote that nobody edited since",
        description="Files whose bytes still match what init wrote are re-rendered; edited ones are left alone.",
    )
    upgrade.add_argument("--repo-root", type=Path, default=Path("."), help="repository (default: the cwd)")
    upgrade.add_argument("--json", action="store_true", help="print the report as JSON")
    upgrade.set_defaults(handler=_upgrade)


def _init(args: argparse.Namespace) -> int:
    report = install.init(args.repo_root, adopt=args.adopt, config_format=args.config_format)
    if args.json:
        print(install.json_report(report.as_dict()))
        return 0
    print(f"[wave:init] mode={report.mode}")
    for path in report.written:
        print(f"[wave:init] wrote {path}")
    for path in report.kept:
        print(f"[wave:init] kept {path} (already there; not overwritten)")
    if not report.written:
        print("[wave:init] nothing to do: every starter file is already there")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    report = install.upgrade(args.repo_root)
    if args.json:
        print(install.json_report(report.as_dict()))
        return 0
    for path in report.refreshed:
        print(f"[wave:upgrade] refreshed {path}")
    for path in report.edited:
        print(f"[wave:upgrade] left alone {path} (edited since init)")
    for path in report.missing:
        print(f"[wave:upgrade] left alone {path} (deleted since init)")
    print(
        f"[wave:upgrade] {len(report.refreshed)} refreshed, {len(report.current)} already current, "
        f"{len(report.edited) + len(report.missing)} left alone"
    )
    return 0

"""The ``wave`` command: lint, inspect and describe wave files without running pytest.

Subcommands live in :data:`COMMANDS` (name -> arguments + handler), so adding one is adding an entry.
Every user-facing problem is a :class:`~pytest_wave.errors.WaveError` printed as one line on stderr:
exit 1 for problems in the files, 2 for usage errors, 130 on Ctrl-C; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wave import __version__
from pytest_wave.errors import WaveConfigError, WaveError, WaveParseError
from pytest_wave.model.findings import Finding
from pytest_wave.model.wave import Wave

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(WaveError):
    """The command line itself is wrong (exit code 2)."""


@dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------- shared helpers


def _add_repo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo-root",
        type=Path,
        default=None,
        help="repository root holding wave.config.json (default: $WAVE_REPO_ROOT, else found from the wave path)",
    )
    parser.add_argument("--lane", default=None, help="lane whose settings apply (default: the config's defaultLane)")


def _repo_root(args: argparse.Namespace, wave_path: Path) -> Path:
    from pytest_wave.config import find_repo_root

    root: Path | None = args.repo_root
    return root if root is not None else find_repo_root(wave_path)


_WAVE_NUMBER = re.compile(r"^wave-(\d+)\.md$")


def wave_files(directory: Path, shown: str) -> list[tuple[Path, str]]:
    """``wave-*.md`` files directly in ``directory``: numbered ones by number, then the rest by name."""
    found: list[tuple[int, int, str, Path]] = []
    for entry in directory.iterdir():
        name = entry.name
        if not (name.startswith("wave-") and name.endswith(".md")) or not entry.is_file():
            continue
        match = _WAVE_NUMBER.match(name)
        found.append((0, int(match.group(1)), name, entry) if match else (1, 0, name, entry))
    found.sort(key=lambda item: item[:3])
    return [(entry, os.path.join(shown, name)) for _, _, name, entry in found]


def _expand(paths: list[str]) -> list[tuple[Path, str] | WaveError]:
    out: list[tuple[Path, str] | WaveError] = []
    for shown in paths:
        path = Path(shown)
        if path.is_dir():
            files = wave_files(path, shown)
            if not files:
                out.append(
                    WaveError(f"No wave files found in {shown}", path=shown, fix="wave files are named wave-<n>.md")
                )
            out.extend(files)
        else:
            out.append((path, shown))
    return out


def _parse_error_finding(exc: WaveError, shown: str) -> Finding:
    return Finding(
        rule_id="parse-error",
        severity="error",
        path=exc.path or shown,
        line=exc.line,
        message=exc.message,
        fix=exc.fix,
    )


def _load_plugins(names: list[str]) -> list[object]:
    plugins: list[object] = []
    for name in names:
        try:
            plugins.append(importlib.import_module(name))
        except ImportError as exc:
            raise UsageError(f"cannot import plugin module {name!r}: {exc}", fix="pass an importable module") from None
    return plugins


# --------------------------------------------------------------------------- wave lint


def _lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="wave files, or directories of wave-*.md files")
    _add_repo_options(parser)
    parser.add_argument("--json", action="store_true", help="print the findings as a JSON array")
    parser.add_argument(
        "--only",
        choices=("validation", "lint"),
        default=None,
        help="run only the Node.js tool's validation rules, or only the extra lint rules",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE and use its pytest_wave_lint_rules hook (repeatable)",
    )


def _lint(args: argparse.Namespace) -> int:
    from pytest_wave.lint import lint_wave, new_plugin_manager
    from pytest_wave.lint.base import Category
    from pytest_wave.parse.wave import parse_wave_file

    plugins = _load_plugins(args.plugin)
    pm = new_plugin_manager(*plugins) if plugins else None
    include: tuple[Category, ...] = (args.only,) if args.only else ("validation", "lint")
    findings: list[Finding] = []
    files = 0
    failed = False
    for item in _expand(args.paths):
        if isinstance(item, WaveError):
            print(item.one_line(), file=sys.stderr)
            failed = True
            continue
        path, shown = item
        files += 1
        try:
            wave = parse_wave_file(path, display_path=shown)
        except WaveParseError as exc:
            found = [_parse_error_finding(exc, shown)]
        else:
            found = lint_wave(wave, _repo_root(args, path), args.lane, include=include, pluginmanager=pm)
        findings.extend(found)
        if not args.json:
            for finding in found:
                print(finding.one_line())
    if args.json:
        print(json.dumps([f.model_dump(mode="json") for f in findings], indent=2))
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    print(
        f"wave lint: {files} file{'s' if files != 1 else ''} checked, "
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
        file=sys.stderr,
    )
    return EXIT_FAILED if errors or failed else EXIT_OK


# --------------------------------------------------------------------------- wave show


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a wave file")
    _add_repo_options(parser)
    parser.add_argument("--json", action="store_true", help="print the parsed model as JSON")


def _show(args: argparse.Namespace) -> int:
    from pytest_wave.parse.wave import parse_wave_file

    path = Path(args.path)
    if path.is_dir():
        raise UsageError(f"{args.path} is a directory", fix="pass one wave file")
    wave = parse_wave_file(path, display_path=args.path)
    if args.json:
        print(json.dumps(wave.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return EXIT_OK
    print("\n".join(summarize(wave, _executors(args, wave, path))))
    return EXIT_OK


def _executors(args: argparse.Namespace, wave: Wave, path: Path) -> dict[str, str]:
    """Agent id -> ``executor (how it was chosen)``; declared ids only when the config is broken."""
    from pytest_wave.engine.resolve import RoleIds, infer_role, resolve_executor
    from pytest_wave.lint.runner import resolve_lane_config

    try:
        lane = resolve_lane_config(_repo_root(args, path), args.lane)
    except WaveConfigError as exc:
        print(f"note: executors not resolved: {exc.one_line()}", file=sys.stderr)
        return {a.id: f"{a.executor_id} (declared)" if a.executor_id else "?" for a in wave.agents}
    out: dict[str, str] = {}
    for agent in wave.agents:
        role = infer_role(agent, RoleIds.from_lane(lane))
        resolved = resolve_executor(agent, role, lane, strict=False)
        via = f"profile {resolved.profile}" if resolved.selected_by == "agent-profile" else resolved.selected_by
        out[agent.id] = f"{resolved.id} ({role}, {via})"
    return out


def summarize(wave: Wave, executors: dict[str, str]) -> list[str]:
    """A short human overview of a wave: agents, executors, owned paths."""
    lines = [f"{wave.path}: {wave.heading or f'Wave {wave.number}'}"]
    if wave.commit_message:
        lines.append(f"commit message: {wave.commit_message}")
    if wave.component_promotions:
        lines.append(
            "promotions: " + ", ".join(f"{p.component_id} -> {p.target_level}" for p in wave.component_promotions)
        )
    if wave.context7_defaults and wave.context7_defaults.bundle:
        lines.append(f"context7 default bundle: {wave.context7_defaults.bundle}")
    if wave.deploy_environments:
        lines.append(
            "deploy environments: "
            + ", ".join(f"{e.id} ({e.kind}{', default' if e.is_default else ''})" for e in wave.deploy_environments)
        )
    lines.append(f"agents ({len(wave.agents)}):")
    for agent in wave.agents:
        lines.append(f"  {agent.id}: {agent.title}")
        lines.append(f"    executor: {executors.get(agent.id, '?')}")
        if agent.components:
            lines.append(f"    components: {', '.join(agent.components)}")
        lines.append(f"    owns: {', '.join(agent.owned) if agent.owned else '(nothing)'}")
    return lines


# --------------------------------------------------------------------------- wave schema

SCHEMAS: dict[str, tuple[str, str]] = {
    "config": ("pytest_wave.model.config", "WaveConfig"),
    "coordination": ("pytest_wave.model.coordination", "CoordinationRecord"),
    "result": ("pytest_wave.model.result", "AgentResult"),
    "outcome": ("pytest_wave.model.result", "WaveOutcome"),
    "finding": ("pytest_wave.model.findings", "Finding"),
    "markers": ("pytest_wave.model.markers", "MarkerScan"),
    "matrix": ("pytest_wave.model.matrix", "ComponentMatrix"),
    "task": ("pytest_wave.model.task", "AgentTask"),
    "wave": ("pytest_wave.model.wave", "Wave"),
}


def schema_names() -> list[str]:
    """Schema names whose model module is present in this installation."""
    return sorted(name for name, (module, _) in SCHEMAS.items() if importlib.util.find_spec(module) is not None)


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="schema to print; omit to list the names")


def _schema(args: argparse.Namespace) -> int:
    names = schema_names()
    if args.name is None:
        print("\n".join(names))
        return EXIT_OK
    if args.name not in names:
        raise UsageError(f'unknown schema "{args.name}" (choose from: {", ".join(names)})')
    module, attr = SCHEMAS[args.name]
    model: Any = getattr(importlib.import_module(module), attr)
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


# --------------------------------------------------------------------------- entry point

COMMANDS: dict[str, Subcommand] = {
    "lint": Subcommand("check wave files: the Node.js tool's validation plus extra lint rules", _lint_arguments, _lint),
    "show": Subcommand("print a parsed wave (a summary, or the model as JSON)", _show_arguments, _show),
    "schema": Subcommand("print the JSON Schema of a model (wave, config, matrix, ...)", _schema_arguments, _schema),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wave", description="pytest-wave: lint and inspect waves, coordinate agents, answer feedback."
    )
    parser.add_argument("--version", action="version", version=f"pytest-wave {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(child)
        child.set_defaults(handler=command.handler)
    # Command groups with verbs of their own (``wave coord post``) register themselves.
    from pytest_wave.commands import adhoc, coord, dashboard, dep, doctor, draft, feedback, init, project, update

    for module in (coord, feedback, dep, doctor, project, draft, update, adhoc, dashboard, init):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``wave`` command; returns the exit code."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help / --version (0) or a usage error (2)
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        try:
            return handler(args)
        except UsageError as exc:
            print(exc.one_line(), file=sys.stderr)
            return EXIT_USAGE
        except WaveError as exc:
            print(exc.one_line(), file=sys.stderr)
            return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (``| head``) went away: stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

"""``wave doctor``: can this machine run the agent runtimes a wave asks for?

For every runtime the waves reference (each agent's resolved executor and its fallbacks), it checks:

* **binary**: the configured command is on PATH (or the configured absolute path exists);
* **version**: ``<command> --version`` answers; a version other than the one pytest-wave was tested
  with is a warning, not a failure;
* **flags**: the exact launch pytest-wave would start for each agent of the wave is run once with an
  empty stdin, in a scratch HOME with every credential and base URL removed, so the CLI parses its
  arguments and stops at "no prompt" without contacting any model; an "unknown option" /
  "unexpected argument" answer fails the check and names the flag's agent;
* **credential**: a variable (or login file) the runtime authenticates with is present. Only
  names are printed, never values.

Exit status 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.executors.base import Executor, find_command
from pytest_wave.executors.common import AgentLaunchRequest
from pytest_wave.executors.redact import is_secret_name
from pytest_wave.model.config import LaneConfig
from pytest_wave.model.wave import Agent

HELP = "check the agent CLIs a wave uses: binary, version, accepted flags, credentials (names only)"
VENDOR = ("claude", "codex", "opencode")
TESTED_VERSIONS = {"claude": "2.1.197", "codex": "0.169.0", "opencode": "1.18.33"}
PROBE_TIMEOUT = 30.0
_REJECTED = re.compile(
    r"unknown option|unexpected argument|unknown argument|invalid value for|"
    r"run opencode with a message|error: option .* argument missing",
    re.IGNORECASE,
)
# Credential variables per runtime (names only ever reach the output).
CLAUDE_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
CLAUDE_CLOUD = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
CODEX_VARS = ("OPENAI_API_KEY", "CODEX_API_KEY")
OPENCODE_VARS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "GROQ_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY",
    "GITHUB_TOKEN",
)
Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str


@dataclass
class RuntimeReport:
    runtime: str
    command: str
    agents: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(check.status == "fail" for check in self.checks)


# --------------------------------------------------------------------------- which runtimes


def runtimes_of(ctx: WaveContext) -> dict[str, list[str]]:
    """Runtime id -> agents that use it (as their executor or a fallback), in wave order."""
    used: dict[str, list[str]] = {}
    for agent in ctx.wave.agents:
        executor = ctx.executor_for(agent)
        for runtime in (executor.id, *executor.fallbacks):
            if runtime in VENDOR:
                agents = used.setdefault(runtime, [])
                if agent.id not in agents:
                    agents.append(agent.id)
    return used


# --------------------------------------------------------------------------- checks


def _run(argv: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> tuple[int | None, str]:
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer within {PROBE_TIMEOUT:.0f}s"
    except OSError as exc:
        return None, str(exc)
    return proc.returncode, (proc.stdout or "") + (proc.stderr or "")


def check_version(runtime: str, path: str) -> Check:
    code, out = _run([path, "--version"])
    lines = [line.strip() for line in out.splitlines() if line.strip() and "WARNING" not in line]
    if code != 0 or not lines:
        return Check("version", "fail", f"'{path} --version' failed: {(lines or ['no output'])[-1][:200]}")
    version = lines[0]
    tested = TESTED_VERSIONS[runtime]
    if tested not in version:
        return Check("version", "warn", f"{version} (pytest-wave was tested with {tested})")
    return Check("version", "ok", version)


def scrubbed_env(home: Path) -> dict[str, str]:
    """An environment that cannot authenticate anywhere: a probe must never reach a model."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not is_secret_name(key) and not key.startswith(("ANTHROPIC_", "OPENAI_", "CODEX_", "OPENCODE_", "CLAUDE_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CODEX_HOME=str(home / ".codex"),
        ANTHROPIC_BASE_URL="http://127.0.0.1:9",  # discard port: nothing listens
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_AUTOUPDATE="1",
        DISABLE_AUTOUPDATER="1",
    )
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    return env


def probe_request(ctx: WaveContext, agent: Agent, runtime: str, scratch: Path) -> AgentLaunchRequest:
    from pytest_wave.engine.agent_run import build_task, launch_request  # what a real run builds

    executor = ctx.executor_for(agent)
    if executor.id != runtime:
        executor = replace(executor, id=runtime, model=None)  # probing a fallback runtime
    task = build_task(ctx, agent, executor, "doctor", 1)
    prompt = scratch / "prompt.md"
    prompt.write_text("")
    overlay = scratch / "overlay" / agent.slug / runtime
    task = task.model_copy(update={"prompt_path": str(prompt), "log_path": str(scratch / "probe.log")})
    return launch_request(ctx, agent, executor, task, overlay=overlay, repo_root=ctx.repo_root, with_skills=False)


def check_flags(impl: Executor, runtime: str, ctx: WaveContext, agents: list[Agent], path: str) -> Check:
    """Run each distinct launch once with no prompt and a credential-free environment."""
    seen: set[tuple[str, ...]] = set()
    problems: list[str] = []
    probed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wave-doctor-") as tmp:
        scratch = Path(tmp)
        env = scrubbed_env(scratch / "home")
        for agent in agents:
            request = probe_request(ctx, agent, runtime, scratch)
            try:
                spec = impl.build_launch(request)
            except WaveError as exc:
                problems.append(f"{agent.id}: {exc.message}")
                continue
            flags = tuple(arg.split("=", 1)[0] for arg in spec.argv if arg.startswith("-"))
            if flags in seen:
                continue
            seen.add(flags)
            for name, text in spec.overlay_files.items():  # the launch reads them (settings, prompts)
                target = request.overlay_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            argv = [find_command(spec.argv[0]) or path, *spec.argv[1:]]
            code, out = _run(argv, {**env, **{k: v for k, v in spec.env.items() if k != "PWD"}}, spec.cwd)
            probed.append(agent.id)
            rejected = _REJECTED.search(out)
            if rejected or code is None:
                line = next((ln.strip() for ln in out.splitlines() if _REJECTED.search(ln)), out.strip()[:200])
                problems.append(f"{agent.id}: {line or 'no answer'}")
    if problems:
        return Check("flags", "fail", "; ".join(problems))
    if not probed:
        return Check("flags", "warn", "no launch to probe")
    return Check("flags", "ok", f"launch of {', '.join(probed)} parsed (no prompt sent, no model contacted)")


def _set(names: Iterable[str], env: Mapping[str, str]) -> list[str]:
    return [name for name in names if env.get(name)]


def _codex_provider_key(lane: LaneConfig, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(provider name, its ``env_key``) from ``-c`` entries of the lane, else ``$CODEX_HOME/config.toml``."""
    provider: str | None = None
    keys: dict[str, str] = {}
    for entry in lane.executors.codex.config:
        name, _, value = entry.partition("=")
        value = value.strip().strip("'\"")
        if name.strip() == "model_provider":
            provider = value
        elif match := re.fullmatch(r"model_providers\.([^.]+)\.env_key", name.strip()):
            keys[match.group(1)] = value
    home = Path(env.get("CODEX_HOME") or Path(env.get("HOME", "~")).expanduser() / ".codex")
    try:
        config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        config = {}
    provider = provider or (config.get("model_provider") if isinstance(config.get("model_provider"), str) else None)
    if provider is None:
        return None, None
    table = (config.get("model_providers") or {}).get(provider) or {}
    key = keys.get(provider) or (table.get("env_key") if isinstance(table, dict) else None)
    return provider, key if isinstance(key, str) else None


def check_credentials(runtime: str, lane: LaneConfig, env: Mapping[str, str] | None = None) -> Check:
    env = os.environ if env is None else env
    home = Path(env.get("HOME", "~")).expanduser()
    if runtime == "claude":
        found = _set(CLAUDE_VARS, env)
        if found:
            return Check("credential", "ok", ", ".join(found) + " set")
        cloud = _set(CLAUDE_CLOUD, env)
        if cloud:
            return Check("credential", "ok", f"{', '.join(cloud)} set (cloud provider credentials apply)")
        store = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude") / ".credentials.json"
        if store.is_file():
            return Check("credential", "ok", f"login file {store} present")
        return Check("credential", "fail", f"none of {', '.join(CLAUDE_VARS)} set and no {store}")
    if runtime == "codex":
        provider, key = _codex_provider_key(lane, env)
        if provider is not None and provider != "openai":
            if key is None:
                return Check("credential", "ok", f"provider {provider} declares no env_key")
            if env.get(key):
                return Check("credential", "ok", f"{key} set (env_key of provider {provider})")
            return Check("credential", "fail", f"{key} (env_key of provider {provider}) is not set")
        found = _set(CODEX_VARS, env)
        if found:
            return Check("credential", "ok", ", ".join(found) + " set")
        auth = Path(env.get("CODEX_HOME") or home / ".codex") / "auth.json"
        if auth.is_file():
            return Check("credential", "ok", f"login file {auth} present")
        return Check("credential", "fail", f"none of {', '.join(CODEX_VARS)} set and no {auth}")
    found = _set(OPENCODE_VARS, env)
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    auth = data_home / "opencode" / "auth.json"
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    keyed = _opencode_config_keys([config_home / "opencode" / "opencode.json", Path(env.get("OPENCODE_CONFIG", ""))])
    details = [f"{', '.join(found)} set"] if found else []
    if auth.is_file():
        details.append(f"login file {auth} present")
    details += [f"provider {name} has options.apiKey in {path}" for name, path in keyed]
    if details:
        return Check("credential", "ok", "; ".join(details))
    return Check(
        "credential", "fail", f"no provider key variable ({', '.join(OPENCODE_VARS[:3])}, ...), no {auth}, no apiKey"
    )


def _opencode_config_keys(paths: list[Path]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for path in paths:
        if not str(path) or not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        providers = data.get("provider") if isinstance(data, dict) else None
        for name, spec in (providers or {}).items():
            options = spec.get("options") if isinstance(spec, dict) else None
            if isinstance(options, dict) and options.get("apiKey"):
                found.append((str(name), path))
    return found


def diagnose(ctx: WaveContext, extra: Iterable[str] = (), *, probe: bool = True) -> list[RuntimeReport]:
    used = runtimes_of(ctx)
    for runtime in extra:
        used.setdefault(runtime, [])
    reports: list[RuntimeReport] = []
    for runtime in sorted(used):
        impl = ctx.executor_impl(runtime)
        if impl is None:
            report = RuntimeReport(runtime, runtime, used[runtime])
            report.checks.append(Check("binary", "fail", f"no executor registered for {runtime}"))
            reports.append(report)
            continue
        command = impl.command(ctx.lane)
        report = RuntimeReport(runtime, command, used[runtime])
        path = find_command(command)
        if path is None:
            report.checks.append(Check("binary", "fail", f"'{command}' is not on PATH"))
        else:
            report.checks.append(Check("binary", "ok", path))
            report.checks.append(check_version(runtime, path))
            if probe:
                agents = [a for a in ctx.wave.agents if a.id in used[runtime]]
                report.checks.append(check_flags(impl, runtime, ctx, agents, path))
        report.checks.append(check_credentials(runtime, ctx.lane))
        reports.append(report)
    return reports


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="WAVE", help="wave files (default: every wave of the lane)")
    parser.add_argument("--repo-root", type=Path, default=None, help="repository root (default: found from the wave)")
    parser.add_argument("--lane", default=None, help="lane whose executor settings apply")
    parser.add_argument(
        "--runtime", action="append", default=[], choices=VENDOR, help="also check this runtime (repeatable)"
    )
    parser.add_argument("--no-probe", action="store_true", help="skip starting each launch to check its flags")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("doctor", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def _wave_paths(args: argparse.Namespace) -> list[Path]:
    if args.paths:
        return [Path(p) for p in args.paths]
    from pytest_wave.config import find_repo_root, load_config, resolve_lane

    root = (args.repo_root or find_repo_root(Path.cwd())).resolve()
    lane = resolve_lane(load_config(root), args.lane)
    found = sorted((root / lane.waves_dir).glob("wave-*.md"))
    if not found:
        raise WaveError(f"no wave files in {lane.waves_dir}", fix="pass a wave file: wave doctor path/to/wave-1.md")
    return found


def run(args: argparse.Namespace) -> int:
    reports: dict[str, RuntimeReport] = {}
    for path in _wave_paths(args):
        ctx = WaveContext.load(path, RunOptions(lane=args.lane), repo_root=args.repo_root)
        for report in diagnose(ctx, args.runtime, probe=not args.no_probe):
            known = reports.get(report.runtime)
            if known is None:
                reports[report.runtime] = report
            else:  # the same runtime in several waves: keep the worst answer per check
                known.agents += [a for a in report.agents if a not in known.agents]
                for index, check in enumerate(report.checks):
                    if check.status == "fail" and index < len(known.checks):
                        known.checks[index] = check
    ordered = [reports[name] for name in sorted(reports)]
    if args.json:
        print(json.dumps([{**asdict(r), "failed": r.failed} for r in ordered], indent=2))
    else:
        if not ordered:
            print("wave doctor: the wave uses no agent CLI (only local)")
        for report in ordered:
            used = f" (used by {', '.join(report.agents)})" if report.agents else ""
            print(f"{report.runtime}: {report.command}{used}")
            for check in report.checks:
                print(f"  {check.status.upper():<4}  {check.name}: {check.detail}")
    failed = [r.runtime for r in ordered if r.failed]
    if failed:
        print(f"wave doctor: problems with {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0

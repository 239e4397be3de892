"""Terminal surfaces (artifacts.md §12.1) as projections: tmux sessions that *watch* a run.

Agents never run inside tmux here (they are plain processes with pid and log files); a surface only
opens one tmux session per agent that follows its log (``tail -F`` on the stable
``logs/<safe>.log`` link, which moves to each new attempt) and one per wave running ``wave
dashboard``. ``vscode`` also adds entries to ``.vscode/terminals.json`` that attach to those
sessions; ``tmux`` never touches that file; ``none`` (the default) does nothing.

Names are namespaced by lane and workspace (the repository's folder name plus a hash of its path,
the 0.6.0 fix for two checkouts colliding) and are stable per wave, so a rerun replaces its sessions
instead of piling up new ones. Everything opened is closed when the session ends.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from pytest_wave.engine.context import WaveContext
from pytest_wave.engine.files import write_text_atomic
from pytest_wave.errors import WaveError
from pytest_wave.state import session_state

SURFACES = ("none", "tmux", "vscode")
AGENT_STYLE = {"icon": "circuit-board", "color": "terminal.ansiBrightMagenta"}
DASHBOARD_STYLE = {"icon": "pulse", "color": "terminal.ansiBlue"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_ATTACH = re.compile(r"new -As (\S+)\s*$")


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-") or "x"


def workspace_token(repo_root: Path) -> str:
    return f"{_safe(repo_root.name).lower()}-{hashlib.sha1(str(repo_root).encode()).hexdigest()[:8]}"


def socket_name(lane: str, repo_root: Path) -> str:
    return f"oc_{_safe(lane)}_waves_{workspace_token(repo_root)}"


@dataclass(frozen=True)
class Pane:
    """One tmux session of the surface and its terminals.json entry."""

    session: str
    title: str
    argv: list[str]
    kind: Literal["agent", "dashboard"]


def panes(ctx: WaveContext, run_id: str) -> list[Pane]:
    lane, number = ctx.lane.name, ctx.wave.number
    wave = "x" if number is None else str(number)
    prefix = f"oc_{_safe(lane)}_wave{wave}"
    out: list[Pane] = []
    for agent in [*ctx.implementation_agents(), *ctx.closure_agents()]:
        log = ctx.paths.log(ctx.paths.safe(number, agent.slug))
        out.append(
            Pane(
                f"{prefix}_{_safe(agent.id)}",
                f"{lane} wave {wave} {agent.id}",
                ["tail", "-n", "+1", "-F", str(log)],
                "agent",
            )
        )
    if number is not None:
        dashboard = [sys.executable, "-m", "pytest_wave.cli", "dashboard", "--repo-root", str(ctx.repo_root)]
        dashboard += ["--lane", lane, "--wave", wave, "--run", run_id]
        out.append(Pane(f"{prefix}_dashboard", f"{lane} wave {wave} dashboard", dashboard, "dashboard"))
    return out


class Tmux:
    def __init__(self, socket: str, binary: str = "tmux") -> None:
        self.socket = socket
        self.binary = binary

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, "-L", self.socket, *args], capture_output=True, text=True, check=False, timeout=10
        )

    def open(self, pane: Pane, cwd: Path) -> None:
        self.close(pane.session)  # stable names: a rerun replaces the session
        done = self._run("new-session", "-d", "-s", pane.session, "-c", str(cwd), shlex.join(pane.argv))
        if done.returncode != 0:
            raise WaveError(f"tmux could not open session {pane.session}: {done.stderr.strip() or done.returncode}")

    def close(self, session: str) -> None:
        self._run("kill-session", "-t", f"={session}")

    def sessions(self) -> set[str]:
        done = self._run("list-sessions", "-F", "#{session_name}")
        return set(done.stdout.split()) if done.returncode == 0 else set()

    def attach_command(self, session: str) -> str:
        return f"TMUX= {self.binary} -L {self.socket} new -As {session}"


class TerminalsJson:
    """``.vscode/terminals.json``: ``{terminals:[{name,icon,color,command}], autorun:true, env:{}}``."""

    def __init__(self, repo_root: Path) -> None:
        self.path = repo_root / ".vscode" / "terminals.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"terminals": [], "autorun": True, "env": {}}
        except (OSError, ValueError) as exc:
            raise WaveError(f"cannot read {self.path}: {exc}", fix="fix or remove the file") from None
        if not isinstance(data, dict) or not isinstance(data.get("terminals", []), list):
            raise WaveError(f"{self.path}: not a terminals.json object", fix="fix or remove the file")
        data.setdefault("terminals", [])
        return data

    def _save(self, data: dict[str, Any]) -> None:
        write_text_atomic(self.path, json.dumps(data, indent=2) + "\n")

    def add(self, entries: list[dict[str, str]]) -> None:
        """Append entries; an entry replaces an existing one of the same name."""
        data = self._load()
        names = {entry["name"] for entry in entries}
        data["terminals"] = [t for t in data["terminals"] if t.get("name") not in names] + entries
        self._save(data)

    def remove(self, names: set[str]) -> None:
        if not self.path.exists():
            return
        data = self._load()
        data["terminals"] = [t for t in data["terminals"] if t.get("name") not in names]
        self._save(data)

    def prune(self, socket: str, live: set[str]) -> None:
        """Drop entries of ``socket`` whose tmux session is gone (left by a run that was killed)."""
        if not self.path.exists():
            return
        data = self._load()
        kept = []
        for entry in data["terminals"]:
            command = str(entry.get("command", ""))
            match = _ATTACH.search(command)
            if f" -L {socket} " in command and match and match.group(1) not in live:
                continue
            kept.append(entry)
        if len(kept) != len(data["terminals"]):
            data["terminals"] = kept
            self._save(data)


class SurfacePlugin:
    """Controller-only plugin object for ``--wave-surface tmux|vscode``."""

    def __init__(self, config: pytest.Config, kind: str, binary: str) -> None:
        self.config = config
        self.kind = kind
        self.binary = binary
        self.opened: list[tuple[Tmux, Pane]] = []
        self.entries: dict[Path, set[str]] = {}
        self.notes: list[str] = []

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        from pytest_wave.controller import discover_wave_files

        state = session_state(self.config)
        for path in discover_wave_files(self.config):
            try:
                ctx = WaveContext.load(path, state.options, lookup=state.lookup)
                self._open(ctx, state.run_id)
            except (WaveError, OSError, subprocess.SubprocessError) as exc:
                message = exc.one_line() if isinstance(exc, WaveError) else str(exc)
                self.notes.append(f"surface {self.kind}: {message}")
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            for line in self.notes:
                terminal.write_line(f"[wave] {line}")
        return (yield)

    def _open(self, ctx: WaveContext, run_id: str) -> None:
        tmux = Tmux(socket_name(ctx.lane.name, ctx.repo_root), self.binary)
        opened = panes(ctx, run_id)
        for pane in opened:
            tmux.open(pane, ctx.repo_root)
            self.opened.append((tmux, pane))
        dashboards = [p.session for p in opened if p.kind == "dashboard"]
        if dashboards:
            self.notes.append(f"watch: {self.binary} -L {tmux.socket} attach -t {dashboards[0]}")
        if self.kind == "vscode":
            terminals = TerminalsJson(ctx.repo_root)
            terminals.prune(tmux.socket, tmux.sessions())
            entries = [
                {
                    "name": pane.title,
                    **(AGENT_STYLE if pane.kind == "agent" else DASHBOARD_STYLE),
                    "command": tmux.attach_command(pane.session),
                }
                for pane in opened
            ]
            terminals.add(entries)
            self.entries.setdefault(terminals.path, set()).update(e["name"] for e in entries)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for tmux, pane in self.opened:
            try:
                tmux.close(pane.session)
            except (OSError, subprocess.SubprocessError):
                continue
        self.opened.clear()
        for path, names in self.entries.items():
            try:
                TerminalsJson(path.parent.parent).remove(names)
            except (WaveError, OSError):
                continue
        self.entries.clear()


def check_surface(kind: str, binary: str = "tmux") -> str:
    """The tmux binary a surface needs; a usage error naming it when it is missing."""
    found = shutil.which(binary)
    if found is None:
        raise pytest.UsageError(
            f"--wave-surface {kind} needs tmux, which is not on PATH (fix: install tmux, or use --wave-surface none)"
        )
    return found

"""Terminal surfaces as projections: tmux sessions that follow the agents' logs, VS Code terminals.

Agents never run inside tmux: the surface only opens sessions that ``tail -F`` the logs and run
``wave dashboard``, and closes them (and its terminals.json entries) when the session ends.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from reportkit import WAVE, make_repo, run_wave, wave_text

from pytest_wave.reports.surfaces import Pane, TerminalsJson, Tmux, socket_name, workspace_token

FAKE_TMUX = """#!{python}
import json, os, shutil, sys
with open(os.environ["FAKE_TMUX_LOG"], "a") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\\n")
if "kill-session" in sys.argv and os.path.exists(".vscode/terminals.json"):
    shutil.copy(".vscode/terminals.json", os.environ["FAKE_TMUX_LOG"] + ".terminals")
sys.exit(1 if "list-sessions" in sys.argv else 0)
"""


@pytest.fixture
def fake_tmux(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``tmux`` on PATH that records its arguments (and terminals.json as it was at each kill)."""
    bin_dir = pytester.path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "tmux"
    script.write_text(FAKE_TMUX.format(python=sys.executable))
    script.chmod(0o755)
    log = pytester.path / "tmux.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_TMUX_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_vscode_surface_opens_log_sessions_and_terminal_entries(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fake_tmux: Path
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    socket = socket_name("main", repo.resolve())
    mine = {"name": "my shell", "command": "bash"}
    orphan = {"name": "main wave 9 A1", "command": f"TMUX= tmux -L {socket} new -As oc_main_wave9_A1"}
    (repo / ".vscode").mkdir()
    (repo / ".vscode" / "terminals.json").write_text(json.dumps({"terminals": [mine, orphan], "autorun": True}))
    result = run_wave(pytester, WAVE, "-p", "no:cacheprovider", "--wave-surface", "vscode")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines([f"[[]wave[]] watch: {fake_tmux.parent / 'bin' / 'tmux'} -L {socket} attach -t *"])
    calls = _calls(fake_tmux)
    opened = {c[5]: c[-1] for c in calls if c[2] == "new-session"}  # -L sock new-session -d -s NAME
    assert set(opened) == {f"oc_main_wave1_{a}" for a in ("A1", "A8", "A9", "A0", "dashboard")}
    assert all(c[:2] == ["-L", socket] for c in calls)
    state = repo.resolve() / ".tmp" / "main-wave-launcher"
    assert opened["oc_main_wave1_A1"] == f"tail -n +1 -F {state / 'logs' / 'wave-1-1-a1.log'}"
    assert " -m pytest_wave.cli dashboard --repo-root " in opened["oc_main_wave1_dashboard"]
    assert "--wave 1 --run " in opened["oc_main_wave1_dashboard"]
    # While the run went on, VS Code had one terminal per session (and the orphan was pruned).
    during = json.loads(Path(f"{fake_tmux}.terminals").read_text())
    entries = {t["name"]: t for t in during["terminals"]}
    assert set(entries) == {"my shell", "main wave 1 A1", "main wave 1 A8", "main wave 1 A9", "main wave 1 A0"} | {
        "main wave 1 dashboard"
    }
    a1 = entries["main wave 1 A1"]
    assert (a1["icon"], a1["color"]) == ("circuit-board", "terminal.ansiBrightMagenta")
    assert a1["command"].endswith(f" -L {socket} new -As oc_main_wave1_A1")
    assert a1["command"].startswith("TMUX= ")
    dashboard = entries["main wave 1 dashboard"]
    assert (dashboard["icon"], dashboard["color"]) == ("pulse", "terminal.ansiBlue")
    # At the end: every session closed, every entry of ours removed, the user's own kept.
    killed = {c[-1] for c in calls if c[2] == "kill-session"}
    assert {f"={s}" for s in opened} <= killed
    after = json.loads((repo / ".vscode" / "terminals.json").read_text())
    assert after["terminals"] == [mine] and after["autorun"] is True


@pytest.mark.slow
def test_tmux_surface_never_touches_terminals_json(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fake_tmux: Path
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1)})
    result = run_wave(pytester, WAVE, "-p", "no:cacheprovider", "--wave-surface", "tmux")
    assert result.ret == 0, result.stdout.str()
    assert any(c[2] == "new-session" for c in _calls(fake_tmux))
    assert not (repo / ".vscode").exists()


def test_surface_needs_tmux_and_a_known_name(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1)})
    monkeypatch.setenv("PATH", str(pytester.path / "empty"))
    result = run_wave(pytester, WAVE, "-p", "no:cacheprovider", "--wave-surface", "tmux")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--wave-surface tmux needs tmux, which is not on PATH (fix: install tmux*"])
    result = run_wave(pytester, WAVE, "-p", "no:cacheprovider", "-o", "wave_surface=screen")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option wave_surface must be one of none, tmux, vscode (got: 'screen')*"])


def test_names_are_namespaced_by_workspace(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "repo", tmp_path / "b" / "repo"
    assert workspace_token(one) != workspace_token(two)
    assert workspace_token(one).startswith("repo-")
    assert socket_name("main", one).startswith("oc_main_waves_repo-")


def test_terminals_json_replaces_by_name_and_refuses_a_broken_file(tmp_path: Path) -> None:
    terminals = TerminalsJson(tmp_path)
    terminals.add([{"name": "x", "command": "1"}])
    terminals.add([{"name": "x", "command": "2"}, {"name": "y", "command": "3"}])
    data = json.loads(terminals.path.read_text())
    assert data["terminals"] == [{"name": "x", "command": "2"}, {"name": "y", "command": "3"}]
    assert data["autorun"] is True and data["env"] == {}
    terminals.remove({"x"})
    assert [t["name"] for t in json.loads(terminals.path.read_text())["terminals"]] == ["y"]
    terminals.path.write_text("{not json")
    with pytest.raises(Exception, match=r"cannot read .*terminals\.json"):
        terminals.add([{"name": "z", "command": "4"}])
    assert terminals.path.read_text() == "{not json"  # never clobbered


def test_a_real_tmux_session_follows_a_log(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian: apt-get install -y tmux; the README test command does)")
    log = tmp_path / "agent.log"
    log.write_text("first line from the agent\n")
    tmux = Tmux(f"pytest-wave-test-{uuid.uuid4().hex[:8]}")
    pane = Pane("oc_test_wave1_A1", "test wave 1 A1", ["tail", "-n", "+1", "-F", str(log)], "agent")
    try:
        tmux.open(pane, tmp_path)
        assert pane.session in tmux.sessions()
        with log.open("a") as handle:
            handle.write("second line\n")
        deadline = time.monotonic() + 10
        shown = ""
        while "second line" not in shown and time.monotonic() < deadline:
            time.sleep(0.1)
            shown = subprocess.run(
                ["tmux", "-L", tmux.socket, "capture-pane", "-p", "-t", f"={pane.session}:"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        assert "first line from the agent" in shown and "second line" in shown, shown
        tmux.open(pane, tmp_path)  # a rerun replaces the session instead of adding one
        assert tmux.sessions() == {pane.session}
    finally:
        tmux.close(pane.session)
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, check=False)
    assert tmux.sessions() == set()

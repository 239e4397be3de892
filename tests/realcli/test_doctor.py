"""``wave doctor``: fake binaries pin each check; one realcli test runs it on the real CLIs."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path

import pytest
from clikit import MIXED_WAVE, isolated_env, make_repo, require_clis

from pytest_wave.commands import doctor
from pytest_wave.mockmodel import MockModelServer

# A stand-in CLI: answers --version, rejects one flag the way commander does, else "no prompt".
FAKE_CLI = """\
#!{python}
import sys
if sys.argv[1:] == ["--version"]:
    print("{version}")
    sys.exit(0)
if "{reject}" and "{reject}" in sys.argv:
    print("error: unknown option '{reject}'", file=sys.stderr)
    sys.exit(1)
print("Error: Input must be provided either through stdin or as a prompt argument", file=sys.stderr)
sys.exit(1)
"""


def fake_cli(path: Path, version: str, reject: str = "") -> Path:
    path.write_text(FAKE_CLI.format(python=sys.executable, version=version, reject=reject))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_doctor(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    doctor.register(parser.add_subparsers())
    args = parser.parse_args(["doctor", *argv])
    code: int = args.handler(args)
    return code


def repo_with(tmp_path: Path, executors: dict[str, object]) -> Path:
    repo = make_repo(tmp_path / "repo")
    config = json.loads((repo / "wave.config.json").read_text())
    config["executors"].update(executors)
    (repo / "wave.config.json").write_text(json.dumps(config))
    return repo


def clean_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "OPENCODE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def test_each_check_with_fake_binaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    claude = fake_cli(tmp_path / "claude", "2.1.197 (Claude Code)", reject="--max-turns")
    codex = fake_cli(tmp_path / "codex", "codex-cli 0.170.0")
    repo = repo_with(
        tmp_path,
        {
            "claude": {"command": str(claude), "maxTurns": 5},
            "codex": {"command": str(codex), "sandbox": "workspace-write"},
            "opencode": {"command": str(tmp_path / "missing-opencode")},
        },
    )
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-never-printed-value")
    assert run_doctor(str(repo / "waves" / "wave-1.md")) == 1
    out, err = capsys.readouterr()
    assert "claude: " in out and "(used by A1, A2, A8, A0)" in out
    assert "FAIL  flags: A1: error: unknown option '--max-turns'; A8: error: unknown option '--max-turns'" in out
    assert "OK    version: 2.1.197 (Claude Code)" in out
    assert "WARN  version: codex-cli 0.170.0 (pytest-wave was tested with 0.169.0)" in out
    assert "OK    credential: ANTHROPIC_API_KEY set" in out
    assert "FAIL  credential: none of OPENAI_API_KEY, CODEX_API_KEY set" in out
    assert f"FAIL  binary: '{tmp_path / 'missing-opencode'}' is not on PATH" in out
    assert "sk-ant-never-printed-value" not in out + err  # names only, never values
    assert "problems with claude, codex, opencode" in err


def test_codex_provider_env_key_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    codex = fake_cli(tmp_path / "codex", "codex-cli 0.169.0")
    repo = repo_with(
        tmp_path,
        {
            "codex": {
                "command": str(codex),
                "config": ["model_provider=corp", 'model_providers.corp.env_key="CORP_LLM_KEY"'],
            }
        },
    )
    wave = repo / "waves" / "wave-1.md"
    wave.write_text(MIXED_WAVE.replace("- fallbacks: claude, opencode", "- fallbacks: codex"))
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("CORP_LLM_KEY", "value-never-shown")
    assert run_doctor(str(wave), "--json", "--no-probe") == 1  # claude and opencode are still used by others
    reports = {r["runtime"]: r for r in json.loads(capsys.readouterr().out)}
    codex_checks = {c["name"]: c for c in reports["codex"]["checks"]}
    assert codex_checks["credential"] == {
        "name": "credential",
        "status": "ok",
        "detail": "CORP_LLM_KEY set (env_key of provider corp)",
    }
    assert "flags" not in codex_checks  # --no-probe


@pytest.mark.realcli
def test_doctor_on_the_real_clis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_clis()
    repo = make_repo(tmp_path / "repo")
    with MockModelServer() as server:
        env = isolated_env(tmp_path / "home", server)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_doctor(str(repo / "waves" / "wave-1.md")) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    for runtime in ("claude", "codex", "opencode"):
        assert f"{runtime}: {runtime}" in out
    assert out.count("OK    flags:") == 3 and "FAIL" not in out
    assert "MOCK_MODEL_KEY set (env_key of provider mock)" in out


def test_a_missing_cli_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"real CLI not installed: claude, codex, opencode"):
        require_clis()

"""The ``wave`` command: in-process through ``main()`` and as the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_wave import cli
from pytest_wave.cli import COMMANDS, Subcommand, main
from pytest_wave.config import clear_config_cache
from pytest_wave.lint import clear_lint_caches
from pytest_wave.model.wave import Wave

ANCHOR = Path(__file__).parent / "data" / "conformance" / "anchor-repo-0.5.4"
WAVE = "docs/plans/waves/wave-0.md"
FIX_EV = (
    "add '## Agent A0: Running Evaluator' importing docs/agents/wave-evaluator-role.md and owning a review report path"
)
WARNING_LINE = (
    f"{WAVE}:150: warning no-validation-commands: Agent A1 declares no validation commands "
    "(fix: add a 'Validation:' list of commands to the prompt, or a '### Validation' section)"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the anchor's starter repository, as the working directory."""
    root = tmp_path / "repo"
    shutil.copytree(ANCHOR, root, ignore=shutil.ignore_patterns(".tmp"))  # no state a careless run left
    monkeypatch.delenv("WAVE_REPO_ROOT", raising=False)
    monkeypatch.chdir(root)
    clear_config_cache()
    clear_lint_caches()
    return root


def break_evaluator(root: Path) -> None:
    path = root / WAVE
    path.write_text(path.read_text().replace("## Agent A0:", "## Agent A5:"))


# --------------------------------------------------------------------------- wave lint


def test_lint_clean_wave(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", WAVE]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [WARNING_LINE]
    assert err.strip() == "wave lint: 1 file checked, 0 errors, 1 warning"


def test_lint_broken_wave(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_evaluator(repo)
    assert main(["lint", WAVE]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == (
        f"{WAVE}:1: error missing-evaluator: Wave 0 must include Agent A0 as the running evaluator (fix: {FIX_EV})"
    )
    assert lines[1].startswith(f"{WAVE}:1: error evaluator-role-prompt: Agent A0 must import ")
    assert "wave lint: 1 file checked, 4 errors, 3 warnings" in err


def test_lint_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_evaluator(repo)
    assert main(["lint", "--json", WAVE]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert findings[0] == {
        "rule_id": "missing-evaluator",
        "severity": "error",
        "path": WAVE,
        "line": 1,
        "message": "Wave 0 must include Agent A0 as the running evaluator",
        "fix": FIX_EV,
        "agent_id": None,
    }


def test_lint_only_validation(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--only", "validation", WAVE]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "0 errors, 0 warnings" in err


def test_lint_directory_in_wave_number_order(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waves = repo / "docs/plans/waves"
    text = (waves / "wave-0.md").read_text()
    for name in ("wave-10.md", "wave-2.md", "wave-example-demo.md"):
        (waves / name).write_text(text)
    (waves / "notes.md").write_text("not a wave")
    (waves / "reviews").mkdir()
    (waves / "reviews" / "wave-0-evaluator.md").write_text("a review, not a wave")
    assert main(["lint", "--only", "lint", "docs/plans/waves"]) == 0
    out, err = capsys.readouterr()
    assert [line.split(":", 1)[0] for line in out.splitlines()] == [
        "docs/plans/waves/wave-0.md",
        "docs/plans/waves/wave-2.md",
        "docs/plans/waves/wave-10.md",
        "docs/plans/waves/wave-example-demo.md",
    ]
    assert "4 files checked" in err


def test_lint_empty_directory(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "empty").mkdir()
    assert main(["lint", "empty"]) == 1
    err = capsys.readouterr().err
    assert "empty: error: No wave files found in empty (fix: wave files are named wave-<n>.md)" in err


def test_lint_missing_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "missing.md", WAVE]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("missing.md: error parse-error: cannot read wave file: ")
    assert "2 files checked, 1 error, 1 warning" in err
    assert "Traceback" not in out + err


def test_lint_unparseable_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "wave-3.md").write_text("# Wave 3\n\n## Agent A1: x\n\nno prompt here\n")
    assert main(["lint", "wave-3.md"]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith('wave-3.md:3: error parse-error: agent A1 has no "### Prompt" section (fix: ')


def test_lint_broken_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "wave.config.json").write_text('{"version": 1,}')
    assert main(["lint", WAVE]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{repo / 'wave.config.json'}:1: error: invalid JSON")
    assert "Traceback" not in err


def test_lint_repo_root_and_lane_options(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(repo / WAVE, outside / "wave-0.md")
    assert main(["lint", "--repo-root", str(repo), "--lane", "main", str(outside / "wave-0.md")]) == 0
    assert capsys.readouterr().out.count("warning no-validation-commands") == 1


def test_lint_plugin_module(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my_wave_rules.py").write_text(
        "import pytest\n\n"
        "def says_review(ctx):\n"
        "    for agent in ctx.wave.agents:\n"
        "        if 'Review' in agent.prompt:\n"
        "            yield ctx.finding('says-review', 'prompt says Review',\n"
        "                              line=agent.prompt_line, severity='warning')\n\n"
        "@pytest.hookimpl\n"
        "def pytest_wave_lint_rules():\n"
        "    return [says_review]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["lint", "--plugin", "my_wave_rules", WAVE]) == 0
    assert f"{WAVE}:153: warning says-review: prompt says Review" in capsys.readouterr().out
    assert main(["lint", "--plugin", "no_such_module_here", WAVE]) == 2
    assert "cannot import plugin module 'no_such_module_here'" in capsys.readouterr().err


# --------------------------------------------------------------------------- wave show


def test_show_json_round_trips(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--json", WAVE]) == 0
    wave = Wave.model_validate_json(capsys.readouterr().out)
    assert wave.path == WAVE
    assert [a.id for a in wave.agents] == ["A0", "A8", "A9", "A1"]


def test_show_summary(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", WAVE]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{WAVE}: Wave 0 - Starter Scaffold Validation"
    assert "  A1: Starter Runtime and Docs Review" in out
    assert "    executor: codex (implementation, profile implement-fast)" in out
    assert "    owns: docs/plans/waves/reviews/wave-0-evaluator.md" in out


def test_show_missing_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "missing.md"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("missing.md: error: cannot read wave file")
    assert len(err.strip().splitlines()) == 1


def test_show_with_broken_config_still_works(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "wave.config.json").write_text("[]")
    assert main(["show", WAVE]) == 0
    out, err = capsys.readouterr()
    assert "executor: codex (declared)" in out
    assert err.startswith("note: executors not resolved:")


# --------------------------------------------------------------------------- wave schema


def test_schema_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    names = capsys.readouterr().out.split()
    assert {"wave", "config", "matrix", "finding"} <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize(("name", "title"), [("wave", "Wave"), ("matrix", "ComponentMatrix"), ("finding", "Finding")])
def test_schema_of_a_model(name: str, title: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", name]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == title


def test_schema_config_uses_file_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "config"]) == 0
    assert "defaultLane" in json.loads(capsys.readouterr().out)["properties"]


def test_unknown_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: unknown schema "nope" (choose from: config, coordination, finding, ')
    assert len(err.splitlines()) == 1


# --------------------------------------------------------------------------- usage, interrupts


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["lint"]) == 2
    assert main(["frobnicate"]) == 2
    assert "usage: wave" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert "pytest-wave" in capsys.readouterr().out


def test_keyboard_interrupt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(COMMANDS, "schema", Subcommand("boom", lambda parser: None, interrupted))
    assert main(["schema"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_subcommands_are_a_table() -> None:
    assert set(COMMANDS) >= {"lint", "show", "schema"}
    assert all(isinstance(c, Subcommand) for c in COMMANDS.values())
    assert cli.build_parser().prog == "wave"


# --------------------------------------------------------------------------- the installed console script


def _wave_script() -> str:
    script = shutil.which("wave")
    if script is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-e", str(Path(__file__).parents[1]), "--no-deps", "-q"],
            check=True,
        )
        script = shutil.which("wave")
    assert script is not None, "the wave console script is not installed"
    return script


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WAVE_REPO_ROOT"}
    return subprocess.run([_wave_script(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_console_script_lint_clean(repo: Path) -> None:
    done = _run(["lint", WAVE], repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [WARNING_LINE]
    assert done.stderr.strip() == "wave lint: 1 file checked, 0 errors, 1 warning"


def test_console_script_lint_broken(repo: Path) -> None:
    break_evaluator(repo)
    done = _run(["lint", WAVE], repo)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"{WAVE}:1: error missing-evaluator: Wave 0 must include Agent A0 as the running evaluator (fix: {FIX_EV})"
    )
    assert "Traceback" not in done.stderr


def test_console_script_schema_and_errors(repo: Path) -> None:
    done = _run(["schema", "wave"], repo)
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "Wave"
    missing = _run(["show", "missing.md"], repo)
    assert missing.returncode == 1
    assert missing.stderr.startswith("missing.md: error: cannot read wave file")
    assert "Traceback" not in missing.stderr

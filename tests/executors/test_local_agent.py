"""The deterministic ``local`` executor, run as the orchestrator runs it: a real subprocess in a repo."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_wave.executors import local_agent

MODULE = "pytest_wave.executors.local_agent"

# Closure-marker syntax from the markers spec §5.1, so our lines parse the way the gates read them.
MARKER_SYNTAX: dict[str, re.Pattern[str]] = {
    "wave-proof": re.compile(
        r"^\[wave-proof\]\s*completion=(contract|integrated|authoritative|live)\s+durability=(none|ephemeral|durable)"
        r"\s+proof=(unit|integration|live)\s+state=(met|gap)\s*(?:detail=(.*))?$"
    ),
    "wave-doc-delta": re.compile(r"^\[wave-doc-delta\]\s*state=(none|owned|shared-plan)(?:\s+detail=(.*))?$"),
    "wave-doc-closure": re.compile(r"^\[wave-doc-closure\]\s*state=(closed|no-change|delta)(?:\s+detail=(.*))?$"),
    "wave-integration": re.compile(
        r"^\[wave-integration\]\s*state=(ready-for-doc-closure|needs-more-work)\s+claims=(\d+)\s+conflicts=(\d+)"
        r"\s+blockers=(\d+)\s*(?:detail=(.*))?$"
    ),
    "wave-gate": re.compile(
        r"^\[wave-gate\]\s*architecture=(pass|concerns|blocked)\s+integration=(pass|concerns|blocked)\s+"
        r"durability=(pass|concerns|blocked)\s+live=(pass|concerns|blocked)\s+docs=(pass|concerns|blocked)"
        r"\s*(?:detail=(.*))?$"
    ),
    "wave-component": re.compile(
        r"^\[wave-component\]\s*component=([a-z0-9._-]+)\s+level=([a-z0-9._-]+)\s+state=(met|gap)\s*(?:detail=(.*))?$"
    ),
    "wave-verdict": re.compile(r"^\[wave-verdict\]\s*(pass|concerns|blocked|hold|fail)\s*(?:detail=(.*))?$"),
}
REPORT_VERDICT = re.compile(r"^Verdict:\s*(PASS|CONCERNS|BLOCKED|HOLD|FAIL)\b", re.IGNORECASE | re.MULTILINE)


# --------------------------------------------------------------------------- helpers


def write_task(tmp_path: Path, repo: Path, **fields: Any) -> Path:
    task: dict[str, Any] = {
        "wave": 0,
        "wave_path": "waves/wave-0.md",
        "lane": "main",
        "agent_id": "A1",
        "title": "Build the parser",
        "role": "implementation",
        "executor_id": "local",
        "attempt": 1,
        "repo_root": str(repo),
        "prompt_path": ".wave/agents/A1/prompt.md",
        "log_path": ".wave/agents/A1/log.txt",
    }
    task.update(fields)
    overlay = tmp_path / "overlay" / str(task["agent_id"])
    overlay.mkdir(parents=True, exist_ok=True)
    path = overlay / "task.json"
    path.write_text(json.dumps(task), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


def run_agent(
    repo: Path, task_file: Path | str, faults: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop(local_agent.FAULTS_ENV, None)
    if faults is not None:
        env[local_agent.FAULTS_ENV] = faults
    return subprocess.run(
        [sys.executable, "-m", MODULE, "--task-file", str(task_file)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def marker_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("[wave-")]


def parsed(stdout: str, name: str) -> list[tuple[str | None, ...]]:
    """Every ``[name]`` line, parsed with the spec's regex; a line that does not parse fails the test."""
    out: list[tuple[str | None, ...]] = []
    for line in marker_lines(stdout):
        if line.startswith(f"[{name}]"):
            match = MARKER_SYNTAX[name].match(line)
            assert match is not None, f"marker does not parse: {line!r}"
            out.append(match.groups())
    return out


def matrix(levels: dict[str, str]) -> dict[str, Any]:
    return {
        "version": 1,
        "levels": ["inventoried", "contract-frozen", "repo-landed", "baseline-proved", "pilot-live"],
        "components": {
            component: {
                "title": component.title(),
                "canonicalDocs": ["README.md"],
                "currentLevel": level,
                "promotions": [{"wave": 0, "target": "baseline-proved"}],
                "proofSurfaces": ["unit tests"],
            }
            for component, level in levels.items()
        },
    }


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("[local-executor] error: ")
    return lines[0]


# --------------------------------------------------------------------------- deliverables


def test_implementation_creates_each_deliverable_by_extension(tmp_path: Path, repo: Path) -> None:
    deliverables = [
        "docs/plans/parser-notes.md",
        "pkg/parser.py",
        "data/out.json",
        "ci/pipeline.yaml",
        "web/app.mjs",
        "web/view.ts",
        "svc/main.go",
        "db/schema.sql",
        "scripts/run.sh",
        "conf/settings.toml",
        "NOTES.txt",
    ]
    task = write_task(tmp_path, repo, deliverables=deliverables, owned_paths=["docs/", "pkg/"])
    proc = run_agent(repo, task)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == "[local-executor] task=A1 role=implementation attempt=1"
    assert lines[1 : 1 + len(deliverables)] == [f"[local-executor] created: {d}" for d in deliverables]
    assert lines[-1] == "[local-executor] completed."

    md = (repo / "docs/plans/parser-notes.md").read_text()
    assert md.startswith("# Parser Notes\n")
    assert "Generated by pytest-wave local executor" in md
    assert "## Objective" in md and "## Scope" in md and "- Build the parser" in md
    assert "Verdict" not in md
    py = (repo / "pkg/parser.py").read_text()
    assert py.startswith("# Generated by pytest-wave local executor")
    assert all(line.startswith("#") for line in py.splitlines())
    compile(py, "parser.py", "exec")
    assert json.loads((repo / "data/out.json").read_text()) == {}
    assert (repo / "data/out.json").read_text() == "{}\n"
    assert yaml.safe_load((repo / "ci/pipeline.yaml").read_text()) is None
    assert (repo / "ci/pipeline.yaml").read_text().startswith("# generated")
    for path in ("web/app.mjs", "web/view.ts"):
        text = (repo / path).read_text()
        assert text.startswith("// Generated by pytest-wave local executor")
        assert "export {};" in text
    assert (repo / "svc/main.go").read_text().startswith("// Generated")
    assert "package svc" in (repo / "svc/main.go").read_text()
    assert (repo / "db/schema.sql").read_text().startswith("-- Generated")
    assert (repo / "scripts/run.sh").read_text().startswith("#!/bin/sh\n# Generated")
    assert tomllib.loads((repo / "conf/settings.toml").read_text()) == {}
    assert (repo / "NOTES.txt").read_text().startswith("Generated by pytest-wave local executor")


def test_existing_files_are_left_alone_and_reported(tmp_path: Path, repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src/keep.py").write_text("print('mine')\n")
    task = write_task(tmp_path, repo, deliverables=["src/keep.py", "src/new.py"])
    proc = run_agent(repo, task)
    assert proc.returncode == 0
    assert "[local-executor] exists: src/keep.py" in proc.stdout.splitlines()
    assert "[local-executor] created: src/new.py" in proc.stdout.splitlines()
    assert (repo / "src/keep.py").read_text() == "print('mine')\n"


def test_owned_file_paths_stand_in_when_no_deliverables(tmp_path: Path, repo: Path) -> None:
    owned = ["src/", "src/core.py", "./docs/guide.md", "Makefile", "lib/*.py", "docs/guide.md"]
    task = write_task(tmp_path, repo, owned_paths=owned)
    proc = run_agent(repo, task)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if "created:" in line or "exists:" in line] == [
        "[local-executor] created: src/core.py",
        "[local-executor] created: docs/guide.md",
    ]
    assert not (repo / "Makefile").exists()
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()) == [
        "docs/guide.md",
        "src/core.py",
    ]


def test_no_deliverables_means_doc_delta_none(tmp_path: Path, repo: Path) -> None:
    contract = {"completion": "contract", "durability": "none", "proof": "unit", "doc_impact": "owned"}
    task = write_task(tmp_path, repo, owned_paths=["src/"], exit_contract=contract)
    proc = run_agent(repo, task)
    assert proc.returncode == 0
    assert "[local-executor] no deliverables detected; nothing to create." in proc.stdout
    assert parsed(proc.stdout, "wave-doc-delta") == [("none", "local-executor")]
    assert list(repo.iterdir()) == []


def test_output_is_deterministic_and_repo_relative(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        root.mkdir()
        task = write_task(tmp_path / f"t-{name}", root, deliverables=["docs/x.md", "a.py"], components={"core": "x"})
        proc = run_agent(root, task)
        assert str(tmp_path) not in proc.stdout
        outputs.append((proc.stdout, (root / "docs/x.md").read_text(), (root / "a.py").read_text()))
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------- markers per role


def test_implementation_markers_use_the_declared_contract(tmp_path: Path, repo: Path) -> None:
    contract = {"completion": "authoritative", "durability": "durable", "proof": "live", "doc_impact": "shared-plan"}
    task = write_task(
        tmp_path,
        repo,
        deliverables=["src/a.py"],
        exit_contract=contract,
        components={"wave-parser": "baseline-proved", "closure-gates": "repo-landed"},
    )
    proc = run_agent(repo, task)
    assert proc.returncode == 0
    assert marker_lines(proc.stdout) == [
        "[wave-proof] completion=authoritative durability=durable proof=live state=met detail=local-executor",
        "[wave-doc-delta] state=shared-plan detail=local-executor",
        "[wave-component] component=wave-parser level=baseline-proved state=met detail=local-executor",
        "[wave-component] component=closure-gates level=repo-landed state=met detail=local-executor",
    ]
    for name in ("wave-proof", "wave-doc-delta", "wave-component"):
        assert parsed(proc.stdout, name)


@pytest.mark.parametrize(
    "contract",
    [None, {"completion": None, "durability": None, "proof": None, "doc_impact": None}],
    ids=["no-contract", "null-fields"],
)
def test_contract_defaults(tmp_path: Path, repo: Path, contract: dict[str, Any] | None) -> None:
    task = write_task(tmp_path, repo, deliverables=["src/a.py"], exit_contract=contract)
    proc = run_agent(repo, task)
    assert marker_lines(proc.stdout) == [
        "[wave-proof] completion=contract durability=none proof=unit state=met detail=local-executor",
        "[wave-doc-delta] state=none detail=local-executor",
    ]


def test_evaluator_writes_a_passing_report_and_gate_markers(tmp_path: Path, repo: Path) -> None:
    task = write_task(
        tmp_path,
        repo,
        agent_id="A0",
        role="evaluator",
        title="Running evaluator",
        owned_paths=["docs/plans/waves/reviews/wave-0-evaluator.md"],
        evaluator_report_path="docs/plans/waves/reviews/wave-0-evaluator.md",
    )
    proc = run_agent(repo, task)
    assert proc.returncode == 0, proc.stderr
    assert marker_lines(proc.stdout) == [
        "[wave-gate] architecture=pass integration=pass durability=pass live=pass docs=pass detail=local-executor",
        "[wave-verdict] pass detail=local-executor",
    ]
    assert parsed(proc.stdout, "wave-gate") and parsed(proc.stdout, "wave-verdict")
    report = (repo / "docs/plans/waves/reviews/wave-0-evaluator.md").read_text()
    assert "## Verdict" in report
    assert REPORT_VERDICT.findall(report) == ["PASS"]


def test_evaluator_report_is_recognised_by_name_and_added_when_owned(tmp_path: Path, repo: Path) -> None:
    task = write_task(
        tmp_path,
        repo,
        agent_id="A0",
        role="evaluator",
        owned_paths=["docs/reviews/", "docs/Review-Notes.MD", "docs/other.md"],
        deliverables=["docs/Review-Notes.MD", "docs/other.md"],
        evaluator_report_path="docs/reviews/final.md",
    )
    proc = run_agent(repo, task)
    assert proc.returncode == 0
    assert "[local-executor] created: docs/reviews/final.md" in proc.stdout.splitlines()
    assert REPORT_VERDICT.findall((repo / "docs/reviews/final.md").read_text()) == ["PASS"]
    assert REPORT_VERDICT.findall((repo / "docs/Review-Notes.MD").read_text()) == ["PASS"]
    assert "Verdict" not in (repo / "docs/other.md").read_text()


def test_review_named_file_of_a_non_evaluator_gets_no_verdict(tmp_path: Path, repo: Path) -> None:
    task = write_task(tmp_path, repo, deliverables=["docs/reviews/notes.md"])
    assert run_agent(repo, task).returncode == 0
    assert "Verdict" not in (repo / "docs/reviews/notes.md").read_text()


def test_integration_steward_reports_ready(tmp_path: Path, repo: Path) -> None:
    task = write_task(tmp_path, repo, agent_id="A8", role="integration", deliverables=["docs/integration.md"])
    proc = run_agent(repo, task)
    assert proc.returncode == 0
    assert parsed(proc.stdout, "wave-integration") == [("ready-for-doc-closure", "0", "0", "0", "local-executor")]
    assert marker_lines(proc.stdout)[0] == (
        "[wave-integration] state=ready-for-doc-closure claims=0 conflicts=0 blockers=0 detail=local-executor"
    )
    assert parsed(proc.stdout, "wave-proof")[0][3] == "met"


MATRIX_PATH = "docs/plans/component-cutover-matrix.json"


def doc_task(tmp_path: Path, repo: Path, owned: list[str] | None = None, **fields: Any) -> Path:
    return write_task(
        tmp_path,
        repo,
        agent_id="A9",
        role="documentation",
        title="Documentation steward",
        owned_paths=owned if owned is not None else [MATRIX_PATH],
        deliverables=[],
        component_matrix_json_path=MATRIX_PATH,
        promotions={"wave-parser": "baseline-proved", "closure-gates": "repo-landed"},
        **fields,
    )


def test_documentation_promotes_the_component_matrix(tmp_path: Path, repo: Path) -> None:
    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    original = matrix({"wave-parser": "repo-landed", "closure-gates": "repo-landed", "other": "inventoried"})
    target.write_text(json.dumps(original))
    task = doc_task(tmp_path, repo)

    proc = run_agent(repo, task)
    assert proc.returncode == 0, proc.stderr
    assert marker_lines(proc.stdout) == ["[wave-doc-closure] state=closed detail=local-executor"]
    assert "[local-executor] matrix: wave-parser: repo-landed -> baseline-proved" in proc.stdout.splitlines()
    text = target.read_text()
    expected = json.loads(json.dumps(original))
    expected["components"]["wave-parser"]["currentLevel"] = "baseline-proved"
    assert text == json.dumps(expected, indent=2) + "\n"
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp file left behind

    again = run_agent(repo, task)
    assert marker_lines(again.stdout) == ["[wave-doc-closure] state=no-change detail=local-executor"]
    assert target.read_text() == text


def test_documentation_never_demotes_a_component(tmp_path: Path, repo: Path) -> None:
    """A later wave took wave-parser past this wave's target: the steward leaves it where it is."""
    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(matrix({"wave-parser": "pilot-live", "closure-gates": "inventoried"})))
    proc = run_agent(repo, doc_task(tmp_path, repo))
    assert proc.returncode == 0, proc.stderr
    assert "[local-executor] matrix: wave-parser is already at pilot-live, past baseline-proved; left alone" in (
        proc.stdout.splitlines()
    )
    levels = {c: e["currentLevel"] for c, e in json.loads(target.read_text())["components"].items()}
    assert levels == {"wave-parser": "pilot-live", "closure-gates": "repo-landed"}


def test_documentation_matrix_owned_through_a_directory(tmp_path: Path, repo: Path) -> None:
    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(matrix({"wave-parser": "inventoried"})))
    proc = run_agent(repo, doc_task(tmp_path, repo, owned=["docs/plans/"]))
    assert parsed(proc.stdout, "wave-doc-closure") == [("closed", "local-executor")]
    assert json.loads(target.read_text())["components"]["wave-parser"]["currentLevel"] == "baseline-proved"


def test_documentation_leaves_an_unowned_or_missing_matrix_alone(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, doc_task(tmp_path, repo))
    assert proc.returncode == 0
    assert marker_lines(proc.stdout) == ["[wave-doc-closure] state=no-change detail=local-executor"]
    assert not (repo / MATRIX_PATH).exists()

    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    before = json.dumps(matrix({"wave-parser": "inventoried"}))
    target.write_text(before)
    proc = run_agent(repo, doc_task(tmp_path, repo, owned=["docs/other.md"]))
    assert marker_lines(proc.stdout) == ["[wave-doc-closure] state=no-change detail=local-executor"]
    assert target.read_text() == before


def test_documentation_refuses_a_broken_matrix(tmp_path: Path, repo: Path) -> None:
    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    proc = run_agent(repo, doc_task(tmp_path, repo))
    assert proc.returncode == 1
    assert MATRIX_PATH in one_error_line(proc)
    assert marker_lines(proc.stdout) == []


# --------------------------------------------------------------------------- faults


def impl_task(tmp_path: Path, repo: Path, **fields: Any) -> Path:
    fields.setdefault("deliverables", ["src/first.py", "docs/second.md"])
    fields.setdefault("components", {"core": "repo-landed"})
    fields.setdefault(
        "exit_contract", {"completion": "integrated", "durability": "none", "proof": "unit", "doc_impact": "owned"}
    )
    return write_task(tmp_path, repo, **fields)


def test_fault_no_markers(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=no-markers")
    assert proc.returncode == 0
    assert "[local-executor] fault=no-markers" in proc.stdout.splitlines()
    assert marker_lines(proc.stdout) == []
    assert (repo / "src/first.py").exists() and (repo / "docs/second.md").exists()
    assert proc.stdout.splitlines()[-1] == "[local-executor] completed."


def test_fault_wrong_markers_for_every_role(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=wrong-markers")
    assert proc.returncode == 0
    assert parsed(proc.stdout, "wave-proof") == [("integrated", "none", "unit", "gap", "local-executor")]
    assert parsed(proc.stdout, "wave-doc-delta") == [("none", "local-executor")]  # below doc_impact=owned
    assert parsed(proc.stdout, "wave-component") == [("core", "repo-landed", "gap", "local-executor")]

    ev = write_task(
        tmp_path,
        repo,
        agent_id="A0",
        role="evaluator",
        owned_paths=["docs/reviews/eval.md"],
        evaluator_report_path="docs/reviews/eval.md",
    )
    proc = run_agent(repo, ev, faults="A0=wrong-markers")
    gate = parsed(proc.stdout, "wave-gate")
    assert gate and "blocked" in gate[0][:5]
    assert parsed(proc.stdout, "wave-verdict") == [("fail", "local-executor")]
    assert REPORT_VERDICT.findall((repo / "docs/reviews/eval.md").read_text()) == ["FAIL"]

    integ = write_task(tmp_path, repo, agent_id="A8", role="integration")
    proc = run_agent(repo, integ, faults="A8=wrong-markers")
    assert parsed(proc.stdout, "wave-integration")[0][0] == "needs-more-work"

    proc = run_agent(repo, doc_task(tmp_path, repo), faults="A9=wrong-markers")
    assert parsed(proc.stdout, "wave-doc-closure") == [("delta", "local-executor")]


def test_fault_exit_nonzero_still_does_the_work(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=exit-nonzero")
    assert proc.returncode == 3
    assert parsed(proc.stdout, "wave-proof")[0][3] == "met"
    assert (repo / "src/first.py").exists()


def test_fault_missing_deliverable_skips_only_the_first(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=missing-deliverable")
    assert proc.returncode == 0
    assert not (repo / "src/first.py").exists()
    assert (repo / "docs/second.md").exists()
    assert parsed(proc.stdout, "wave-proof")[0][3] == "met"
    assert parsed(proc.stdout, "wave-component")[0][2] == "met"


def test_fault_write_outside(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=write-outside")
    assert proc.returncode == 0
    assert (repo / "outside-ownership-A1.txt").is_file()
    assert (repo / "src/first.py").exists()


def test_fault_write_into_appends_to_the_named_file(tmp_path: Path, repo: Path) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "theirs.md").write_text("their line\n")
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=write-into=other/theirs.md+write-into=new/x.md")
    assert proc.returncode == 0
    assert (repo / "other" / "theirs.md").read_text() == "their line\nwritten by A1 (fault write-into)\n"
    assert (repo / "new" / "x.md").is_file()
    assert "[local-executor] wrote into: other/theirs.md" in proc.stdout.splitlines()


@pytest.mark.parametrize("target", ["../escape.md", "/tmp/escape.md"])
def test_fault_write_into_refuses_paths_outside_the_repo(tmp_path: Path, repo: Path, target: str) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults=f"A1=write-into={target}")
    assert proc.returncode == 1
    assert "write-into" in proc.stderr and not (tmp_path / "escape.md").exists()


def test_fault_write_into_needs_a_path(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=write-into=")
    assert proc.returncode == 2 and "expected write-into=<path>" in proc.stderr


def test_fault_lie_creates_nothing_but_claims_everything(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=lie")
    assert proc.returncode == 0
    assert list(repo.iterdir()) == []
    assert "[local-executor] created: src/first.py" in proc.stdout.splitlines()
    assert parsed(proc.stdout, "wave-proof")[0][3] == "met"

    target = repo / MATRIX_PATH
    target.parent.mkdir(parents=True)
    before = json.dumps(matrix({"wave-parser": "inventoried"}))
    target.write_text(before)
    proc = run_agent(repo, doc_task(tmp_path, repo), faults="A9=lie")
    assert parsed(proc.stdout, "wave-doc-closure") == [("closed", "local-executor")]
    assert target.read_text() == before


def test_fault_crash_dies_by_sigkill(tmp_path: Path, repo: Path) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=crash")
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout.splitlines()[:2] == [
        "[local-executor] task=A1 role=implementation attempt=1",
        "[local-executor] fault=crash",
    ]
    assert marker_lines(proc.stdout) == []
    assert not (repo / "src").exists()


def test_fault_hang_lives_until_terminated(tmp_path: Path, repo: Path) -> None:
    task = impl_task(tmp_path, repo)
    log = tmp_path / "hang.log"
    env = {**os.environ, local_agent.FAULTS_ENV: "A1=hang"}
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", MODULE, "--task-file", str(task)],
            cwd=repo,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(1.0)
            assert proc.poll() is None, "hang fault exited on its own"
            proc.terminate()
            assert proc.wait(timeout=10) == -signal.SIGTERM
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "[local-executor] hanging until killed (fault hang)." in text
    assert "[wave-" not in text and "Traceback" not in text


def test_fault_slow_sleeps_before_finishing(tmp_path: Path, repo: Path) -> None:
    started = time.monotonic()
    proc = run_agent(repo, impl_task(tmp_path, repo), faults="A1=slow=0.5")
    assert time.monotonic() - started >= 0.5
    assert proc.returncode == 0
    assert "[local-executor] fault=slow=0.5" in proc.stdout.splitlines()
    assert parsed(proc.stdout, "wave-proof")[0][3] == "met"


def test_fault_grammar_wildcard_combination_and_other_agents(tmp_path: Path, repo: Path) -> None:
    task = impl_task(tmp_path, repo)
    proc = run_agent(repo, task, faults=" A2=crash , *=no-markers, A1=exit-nonzero+no-markers ")
    assert proc.returncode == 3
    assert "[local-executor] fault=no-markers+exit-nonzero" in proc.stdout.splitlines()
    assert marker_lines(proc.stdout) == []

    proc = run_agent(repo, task, faults="A2=crash,A10=hang")
    assert proc.returncode == 0
    assert "fault=" not in proc.stdout


@pytest.mark.parametrize("faults", ["A1=explode", "A1=no-markers+bogus", "A2=slow=abc", "A1", "A1=", "=hang"])
def test_bad_fault_spec_exits_2_naming_the_env_var(tmp_path: Path, repo: Path, faults: str) -> None:
    proc = run_agent(repo, impl_task(tmp_path, repo), faults=faults)
    assert proc.returncode == 2
    assert local_agent.FAULTS_ENV in one_error_line(proc)
    assert list(repo.iterdir()) == []


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("bad", ["/etc/passwd-copy.md", "../outside.md", "src/../../outside.md", "."])
def test_unsafe_deliverable_paths_are_refused(tmp_path: Path, repo: Path, bad: str) -> None:
    task = write_task(tmp_path, repo, deliverables=["src/ok.py", bad])
    proc = run_agent(repo, task)
    assert proc.returncode == 1
    assert bad in one_error_line(proc)
    assert list(repo.iterdir()) == []
    assert not (tmp_path / "outside.md").exists()


def test_symlink_escaping_the_repo_is_refused(tmp_path: Path, repo: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "link").symlink_to(outside, target_is_directory=True)
    proc = run_agent(repo, write_task(tmp_path, repo, deliverables=["link/escape.md"]))
    assert proc.returncode == 1
    assert "escapes repo root: link/escape.md" in one_error_line(proc)
    assert list(outside.iterdir()) == []


def test_symlink_inside_the_repo_is_followed(tmp_path: Path, repo: Path) -> None:
    (repo / "real").mkdir()
    (repo / "alias").symlink_to(repo / "real", target_is_directory=True)
    proc = run_agent(repo, write_task(tmp_path, repo, deliverables=["alias/x.py"]))
    assert proc.returncode == 0, proc.stderr
    assert (repo / "real/x.py").is_file()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ("{not json", "Invalid JSON"),
        ('{"agent_id": "A1"}', "schema mismatch"),
        ("[]", "schema mismatch"),
    ],
    ids=["missing", "invalid-json", "missing-fields", "not-an-object"],
)
def test_bad_task_file_is_one_line_and_exit_2(tmp_path: Path, repo: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "task.json"
    if content is not None:
        path.write_text(content)
    proc = run_agent(repo, path)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert line.startswith(f"[local-executor] error: {path}: ")
    assert reason in line
    assert proc.stdout == ""


def test_task_with_unknown_role_or_extra_field_is_a_schema_mismatch(tmp_path: Path, repo: Path) -> None:
    for extra in ({"role": "wizard"}, {"surprise": True}):
        proc = run_agent(repo, write_task(tmp_path, repo, **extra))
        assert proc.returncode == 2
        assert "schema mismatch" in one_error_line(proc)


def test_usage_errors_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert local_agent.main([]) == 2
    assert "missing --task-file" in capsys.readouterr().err
    assert local_agent.main(["--task-file"]) == 2
    assert local_agent.main(["--frobnicate"]) == 2
    assert local_agent.main(["--help"]) == 0
    assert "--task-file" in capsys.readouterr().out

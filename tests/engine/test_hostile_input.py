"""Hostile input: wave files and coordination lines we did not write.

Paths that leave the repository (``..``, absolute, through a symlink) are refused at lint time with a
line number and again at check time; agent ids that are not plain names are refused before anything
is written; random and mutated wave files and coordination lines give our own one-line errors
(:class:`~pytest_wave.errors.WaveError`) or findings, never a traceback, and nothing is ever written
outside the repository.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_wave.coordination import engine as coordination
from pytest_wave.engine import confine, gates, isolation
from pytest_wave.engine.agent_run import build_task
from pytest_wave.engine.context import RunOptions, WaveContext
from pytest_wave.errors import WaveError
from pytest_wave.lint.runner import lint_wave
from pytest_wave.model.wave import PathEntry

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "conformance" / "waves"
WAVES = sorted(CONFORMANCE.glob("*/*.md"))
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
_COUNTER = itertools.count()

HOSTILE_LINES = [
    "- ../../outside/escape.md",
    "- /etc/passwd",
    "- ~/.ssh/id_rsa",
    "- C:\\Windows\\x",
    "- link/inside.md",
    "- ./ok/../../../x",
    "## Agent ../../outside/x: Evil",
    "## Agent A1/..: Evil",
    "## Agent A7: Seven",
    "### Deliverables",
    "### File ownership",
    "### Prompt",
    "```text",
    "```",
    "File ownership (only touch these paths):",
    "- \x00nul",
    "# Wave 99",
    "",
]

WAVE = """\
# Wave 1 - Hostile

## Agent A1: Part one

### Deliverables

- {deliverable}

### Prompt

```text
Do it.

File ownership (only touch these paths):
- {owned}
```
"""


def fresh_repo(base: Path) -> Path:
    """``base/<n>/repo`` with a sibling ``outside`` folder that must stay empty, and a symlink out."""
    folder = base / str(next(_COUNTER))
    (folder / "outside").mkdir(parents=True)
    repo = folder / "repo"
    (repo / "waves").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.wave]\nprojectName = "hostile"\n')
    (repo / "link").symlink_to(folder / "outside", target_is_directory=True)
    return repo


def assert_nothing_outside(repo: Path) -> None:
    assert sorted(os.listdir(repo.parent)) == ["outside", "repo"]
    assert list((repo.parent / "outside").iterdir()) == []


def load(repo: Path, text: str) -> WaveContext:
    path = repo / "waves" / "wave-1.md"
    path.write_text(text, encoding="utf-8")
    return WaveContext.load(path, RunOptions(), repo_root=repo)


def one_line(exc: WaveError) -> str:
    line = exc.one_line()
    assert "\n" not in line and "Traceback" not in line
    return line


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../x.md", "climbs out"),
        ("docs/../../x.md", "climbs out"),
        ("/abs/x.md", "absolute"),
        ("~/x.md", "absolute"),
        ("C:/x.md", "absolute"),
        ("link/x.md", "through a symlink"),
        ("link", "through a symlink"),
        ("link/..", "through a symlink"),  # normalizes to "." but opens as the link's parent
        ("a/../link/x", "through a symlink"),
        ("", "empty"),
    ],
)
def test_path_problem_refuses_escapes(tmp_path: Path, path: str, problem: str) -> None:
    repo = fresh_repo(tmp_path)
    found = confine.path_problem(repo, path)
    assert found is not None and problem in found
    with pytest.raises(WaveError, match="refused"):
        confine.inside(repo, path)


@pytest.mark.parametrize("path", ["docs/x.md", "./docs/x.md", "a/../b.md", "out/"])
def test_path_problem_accepts_inside(tmp_path: Path, path: str) -> None:
    repo = fresh_repo(tmp_path)
    assert confine.path_problem(repo, path) is None
    assert confine.inside(repo, path).resolve().is_relative_to(repo.resolve())


@given(st.lists(st.sampled_from([*"ab./\\~:-_ ", "link", "..", "/"]), max_size=12).map("".join))
@settings(SETTINGS, max_examples=200)
def test_accepted_paths_always_resolve_inside(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = fresh_repo(Path(tmp))
        if confine.path_problem(repo, text) is None:
            assert (repo / text.strip()).resolve().is_relative_to(repo.resolve())


def test_lint_names_the_file_and_line_of_every_escape(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path)
    # '..' and absolute deliverables are refused as the wave is read, with their line ...
    with pytest.raises(WaveError) as info:
        load(repo, WAVE.format(deliverable="../outside/x.md", owned="out/"))
    assert one_line(info.value).startswith("waves/wave-1.md:7: error: deliverable")
    # ... symlinks that lead out are lint errors on the line of the path.
    ctx = load(repo, WAVE.format(deliverable="link/x.md", owned="link/"))
    errors = [f for f in lint_wave(ctx.wave, repo, ctx.lane) if f.rule_id == "path-leaves-repo"]
    assert [(f.line, f.severity) for f in errors] == [(7, "error"), (15, "error")]
    assert errors[0].message.startswith('Deliverable "link/x.md" for agent A1 is refused: the path leads out')
    # A wave built in code (a planner) gets the same treatment for '..'.
    agent = ctx.wave.agents[0]
    built = agent.model_copy(update={"deliverables": [PathEntry(line=7, path="../x.md")]})
    wave = ctx.wave.model_copy(update={"agents": [built]})
    assert ("deliverable-outside-repo", 7) in {(f.rule_id, f.line) for f in lint_wave(wave, repo, ctx.lane)}


def test_check_time_refuses_escapes_without_touching_them(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path)
    (repo.parent / "outside" / "x.md").write_text("exists, but outside")
    ctx = load(repo, WAVE.format(deliverable="link/x.md", owned="link/"))
    agent = ctx.wave.agents[0]
    task = build_task(ctx, agent, ctx.executor_for(agent), "run", 1)
    checks = gates.deliverable_checks(task, repo, agent.owns)
    refused = [c for c in checks if c.code == "path-outside-repo"]
    assert [c.name for c in refused] == ["deliverable link/x.md", "owned path link/"]
    assert all(not c.ok and "symlink" in c.found for c in refused)
    assert not any(c.name == "deliverable link/x.md" and c.ok for c in checks)  # never "exists"


def test_unsafe_agent_id_is_refused_before_any_write(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path)
    text = WAVE.format(deliverable="out/x.md", owned="out/").replace("Agent A1:", "Agent ../../outside/A1:")
    with pytest.raises(WaveError) as info:
        load(repo, text)
    assert one_line(info.value).startswith("waves/wave-1.md:3: error: agent id")
    assert_nothing_outside(repo)


# --------------------------------------------------------------------------- random and mutated input


@st.composite
def mutated_wave(draw: st.DrawFn) -> str:
    lines = WAVES[draw(st.integers(0, len(WAVES) - 1))].read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "replace", "noise"]))
        at = draw(st.integers(0, len(lines)))
        if op == "insert":
            lines.insert(at, draw(st.sampled_from(HOSTILE_LINES)))
        elif op == "delete" and lines:
            del lines[min(at, len(lines) - 1)]
        elif op == "duplicate" and lines:
            lines.insert(at, lines[min(at, len(lines) - 1)])
        elif op == "replace" and lines:
            lines[min(at, len(lines) - 1)] = draw(st.sampled_from(HOSTILE_LINES))
        else:
            lines.insert(at, draw(st.text(max_size=40)))
    return "\n".join(lines) + "\n"


def judge_wave(repo: Path, text: str) -> None:
    """What a run does with a wave before any agent starts: load, lint, paths and task checks."""
    try:
        ctx = load(repo, text)
    except WaveError as exc:
        one_line(exc)
        return
    for finding in lint_wave(ctx.wave, repo, ctx.lane):
        assert "\n" not in finding.message
    for agent in ctx.wave.agents:
        assert confine.unsafe_id(agent.id) is None
        for written in (
            ctx.paths.attempt_dir(ctx.wave.number, "run", 1) / f"{agent.id}.json",
            isolation.worktree_path(ctx, agent),
            ctx.paths.prompt(ctx.paths.safe(ctx.wave.number, agent.slug)),
        ):
            assert written.resolve().is_relative_to(ctx.paths.state_dir)
        try:
            executor = ctx.executor_for(agent)
        except WaveError as exc:
            one_line(exc)
            continue
        task = build_task(ctx, agent, executor, "run", 1)
        for check in gates.deliverable_checks(task, repo, agent.owns):
            if check.code == "path-outside-repo":
                assert not check.ok


@given(text=mutated_wave())
@SETTINGS
def test_mutated_conformance_waves_give_only_wave_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = fresh_repo(Path(tmp))
        judge_wave(repo, text)
        assert_nothing_outside(repo)


@given(text=st.text(max_size=400))
@SETTINGS
def test_random_text_gives_only_wave_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = fresh_repo(Path(tmp))
        judge_wave(repo, "# Wave 1\n" + text)
        assert_nothing_outside(repo)


HOSTILE_VALUES: list[Any] = [
    "../../outside/x",
    "/etc/passwd",
    "A1",
    "A9",
    "main",
    "",
    None,
    -1,
    10**30,
    [],
    {"a": 1},
    "x" * 500,
    "agent:../x",
    "\x00",
]
RECORD_KEYS = [
    "id",
    "kind",
    "wave",
    "lane",
    "agentId",
    "targets",
    "status",
    "severity",
    "ownerLane",
    "requesterLane",
    "artifactRefs",
    "dependsOn",
    "summary",
    "closureCondition",
    "createdAt",
    "recordVersion",
]


@st.composite
def coordination_line(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.binary(max_size=80)).replace(b"\n", b" ")
    record: dict[str, Any] = {
        "recordVersion": 1,
        "id": draw(st.sampled_from(["r1", "r2", "../../outside/r", "a/b"])),
        "kind": draw(st.sampled_from(["request", "blocker", "human-escalation", "clarification-request", "bogus"])),
        "wave": 1,
        "lane": "main",
        "agentId": "A1",
        "summary": "s",
    }
    for key in draw(st.lists(st.sampled_from(RECORD_KEYS), max_size=6)):
        record[key] = draw(st.sampled_from(HOSTILE_VALUES))
    text = json.dumps(record)
    if choice == 3:
        text = text[: draw(st.integers(0, len(text)))]  # torn or truncated
    return text.encode("utf-8", "surrogatepass")


LONG_AGENT = (
    b'{"recordVersion": 1, "id": "q1", "kind": "clarification-request", "wave": 1, "lane": "main", '
    b'"agentId": "' + b"x" * 500 + b'", "summary": "s"}'
)

EMPTY_QUESTION = (
    b'{"recordVersion": 1, "id": "r1", "kind": "clarification-request", "wave": 1, "lane": "main", '
    b'"agentId": "A1", "summary": ""}'
)


@given(lines=st.lists(coordination_line(), min_size=1, max_size=12))
@example(lines=[LONG_AGENT])  # found by this test: a feedback request file name too long to write
@example(lines=[EMPTY_QUESTION])  # found by this test: escalating it asked a human an empty question
@settings(SETTINGS, max_examples=40)
def test_hostile_coordination_lines_never_raise_or_escape(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = fresh_repo(Path(tmp))
        ctx = load(repo, WAVE.format(deliverable="out/x.md", owned="out/"))
        log = coordination.log_path(ctx)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"\n".join(lines) + b"\n")
        checks = coordination.closure_checks(ctx, "run")  # reducer, projections, triage, barriers
        assert all("\n" not in check.found for check in checks if not check.ok)
        coordination.waiting_on_human(ctx, "run")
        coordination.relaunch_targets(ctx, "run")
        coordination.prompt_section(ctx, ctx.wave.agents[0], "run", 1)
        assert_nothing_outside(repo)

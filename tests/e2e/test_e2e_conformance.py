"""Every conformance wave file (the anchor tool's waves, versions 0.2.0 to 0.8.9), run for real.

Each file is copied into its own copy of the 0.5.4 anchor fixture, under ``docs/plans/waves/`` with
its original name, and all copies run in ONE session (``--wave-executor local -p no:xdist``): each
wave finds its own repository root (``wave.config.json``), so the copies do not share state.

File names: ``wave-example-*.md`` files keep their names. Named on the command line, a wave file is
collected whatever its name (and the default ``wave_files = wave-*.md`` glob matches them too); the
wave number comes from the ``# Wave <n>`` heading, not from the file name. Renaming them would gain
nothing, and would collide: several examples share a heading number (every live-proof example is
"Wave 14"). Separate repository copies keep same-numbered waves' state apart.

The table pins, per file, either that it closes or why it does not. Each reason was checked
against the file and the fixture; none is a pytest-wave bug. A 0.5.4 repository rejects newer waves:

- ``role-prompt-missing``: 0.6+ waves import ``docs/agents/wave-cont-qa-role.md`` (A0 became cont-QA),
  ``wave-cont-eval-role.md`` (E0) and ``wave-design-role.md`` (D1); the 0.5.4 fixture has none of them.
- ``evaluator-role-prompt``: so their A0 does not import the fixture's ``evaluatorRolePromptPath``.
- ``missing-components`` / ``missing-exit-contract``: 0.5.4 knows only A0/A8/A9 as closure roles, so
  the newer E0 (cont-eval), A7 (infra) and D1 (deploy/design) agents are judged as implementation agents.
- ``promotion-not-in-matrix`` / ``promotion-unknown-component`` / ``unknown-component`` /
  ``promoted-component-unowned``: the fixture's component matrix lacks the components and the
  wave-by-wave promotions those waves declare.
- ``runtime-mix-exceeded``: the waves declare more claude/codex agents than the fixture lane's
  ``runtimeMixTargets``. Validation judges the wave as written, so ``--wave-executor local`` does not
  change it.
- ``unknown-executor-profile``: ``design-pass`` is not a profile in the fixture's config.
- ``documentation-steward-paths``: A9 does not own the fixture's matrix files (``sharedPlanDocs``).
- v0.2.0 predates the integration steward that the fixture requires from wave 0.
- ``wave-benchmark-improvement.md`` (wave 99) is a minimal benchmark wave. It has no A9, no component
  promotions and no Context7 sections, and its prompts skip the fixture's required references.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2ekit import ANCHOR, CONFORMANCE_WAVES, LEAKY_ENV, STATE, assert_no_traceback

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Fails:
    errors: int  # "<n> validation error(s); no agent of this wave will be launched"
    rules: frozenset[str]


CLOSES = "closes"

_LIVE_PROOF = Fails(
    15,
    frozenset(
        {
            "documentation-steward-paths",
            "evaluator-role-prompt",
            "missing-components",
            "missing-exit-contract",
            "promoted-component-unowned",
            "promotion-not-in-matrix",
            "promotion-unknown-component",
            "role-prompt-missing",
            "runtime-mix-exceeded",
            "unknown-component",
        }
    ),
)
_DESIGN_HANDOFF = Fails(
    20,
    frozenset(
        {
            "documentation-steward-paths",
            "evaluator-role-prompt",
            "missing-components",
            "missing-exit-contract",
            "missing-prompt-reference",
            "promoted-component-unowned",
            "promotion-unknown-component",
            "role-prompt-missing",
            "unknown-component",
            "unknown-executor-profile",
        }
    ),
)
_CONT_QA = frozenset({"evaluator-role-prompt", "promotion-not-in-matrix", "role-prompt-missing"})

# file (relative to tests/data/conformance/waves) -> CLOSES or why it does not
CONFORMANCE: dict[str, str | Fails] = {
    "v0.2.0/wave-0.md": Fails(1, frozenset({"integration-steward"})),
    "v0.3.0/wave-0.md": CLOSES,
    "v0.4.0/wave-0.md": CLOSES,
    "v0.6.0/wave-0.md": Fails(2, frozenset({"evaluator-role-prompt", "role-prompt-missing"})),
    "v0.6.0/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.6.1/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.7.0/wave-benchmark-improvement.md": Fails(
        26,
        frozenset(
            {
                "documentation-steward",
                "evaluator-role-prompt",
                "integration-steward",
                "missing-component-promotions",
                "missing-components",
                "missing-context7",
                "missing-context7-defaults",
                "missing-exit-contract",
                "missing-prompt-reference",
            }
        ),
    ),
    "v0.7.0/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.7.0/wave-example-rollout-fidelity.md": Fails(
        7,
        frozenset(
            {
                "evaluator-role-prompt",
                "promoted-component-unowned",
                "promotion-unknown-component",
                "role-prompt-missing",
                "unknown-component",
            }
        ),
    ),
    "v0.7.1/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.7.2/wave-1.md": Fails(6, _CONT_QA | {"runtime-mix-exceeded"}),
    "v0.7.2/wave-2.md": Fails(3, _CONT_QA),
    "v0.7.2/wave-3.md": Fails(5, _CONT_QA | {"runtime-mix-exceeded"}),
    "v0.7.2/wave-4.md": Fails(4, _CONT_QA | {"runtime-mix-exceeded"}),
    "v0.7.2/wave-5.md": Fails(4, _CONT_QA | {"runtime-mix-exceeded"}),
    "v0.7.2/wave-6.md": Fails(5, _CONT_QA),
    "v0.7.2/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.7.3/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.0/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.1/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.2/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.3/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.4/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.5/wave-example-design-handoff.md": _DESIGN_HANDOFF,
    "v0.8.5/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.6/wave-example-design-handoff.md": _DESIGN_HANDOFF,
    "v0.8.6/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.7/wave-example-design-handoff.md": _DESIGN_HANDOFF,
    "v0.8.7/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.8/wave-example-design-handoff.md": _DESIGN_HANDOFF,
    "v0.8.8/wave-example-live-proof.md": _LIVE_PROOF,
    "v0.8.9/wave-example-design-handoff.md": _DESIGN_HANDOFF,
    "v0.8.9/wave-example-live-proof.md": _LIVE_PROOF,
}


def test_table_covers_every_conformance_wave() -> None:
    on_disk = sorted(p.relative_to(CONFORMANCE_WAVES).as_posix() for p in CONFORMANCE_WAVES.glob("*/*.md"))
    assert sorted(CONFORMANCE) == on_disk


@dataclass
class _Case:
    name: str  # the table key
    repo: Path
    wave: Path
    items: dict[str, tuple[str, str]]  # item name -> (outcome, failure text)


def _junit_items(report: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """repo dir name -> item name -> (passed|failed|skipped, failure text)."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for case in ET.parse(report).iter("testcase"):
        repo = (case.get("classname") or "").split(".")[0]
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcome = "failed" if failure is not None else ("skipped" if case.find("skipped") is not None else "passed")
        text = "" if failure is None else (failure.text or failure.get("message") or "")
        found.setdefault(repo, {})[case.get("name") or ""] = (outcome, text)
    return found


def _rule_ids(failure_text: str) -> tuple[int | None, set[str]]:
    lines = failure_text.splitlines()
    head = next((line for line in lines if "validation error(s)" in line), "")
    count = int(head.split()[0]) if head[:1].isdigit() else None
    rows = [line.split("|")[0].strip() for line in lines if line.count("|") >= 3]
    return count, set(rows) - {"check"}


@pytest.fixture(scope="module")
def conformance_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pytest.RunResult, list[_Case]]:
    """One session for every file (module scope: the tests below all read the same run)."""
    base = tmp_path_factory.mktemp("conformance")
    cases: list[_Case] = []
    for index, name in enumerate(sorted(CONFORMANCE), start=1):
        repo = base / f"c{index:02d}"
        shutil.copytree(ANCHOR, repo, ignore=shutil.ignore_patterns(".tmp"))
        source = CONFORMANCE_WAVES / name
        wave = repo / "docs" / "plans" / "waves" / source.name
        shutil.copyfile(source, wave)
        cases.append(_Case(name, repo, wave, {}))
    report = base / "report.xml"
    argv = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--wave-executor", "local"]
    argv += ["--junitxml", str(report), "-rA", *(str(c.wave.relative_to(base)) for c in cases)]
    env = {key: value for key, value in os.environ.items() if key not in LEAKY_ENV}  # module scope: no monkeypatch
    proc = subprocess.run(argv, cwd=base, env=env, capture_output=True, text=True, timeout=300, check=False)
    result = pytest.RunResult(proc.returncode, proc.stdout.splitlines(), proc.stderr.splitlines(), 0.0)
    items = _junit_items(report)
    for case in cases:
        case.items = items.get(case.repo.name, {})
    return result, cases


def test_conformance_session_has_no_traceback(conformance_run: tuple[pytest.RunResult, list[_Case]]) -> None:
    result, _ = conformance_run
    assert result.ret == 1  # most of these waves cannot run in a 0.5.4 repository
    assert_no_traceback(result)


@pytest.mark.parametrize("name", sorted(CONFORMANCE))
def test_conformance_wave(conformance_run: tuple[pytest.RunResult, list[_Case]], name: str) -> None:
    _, cases = conformance_run
    case = next(c for c in cases if c.name == name)
    expected = CONFORMANCE[name]
    assert "plan" in case.items, f"{name}: not collected ({sorted(case.items)})"
    outcomes = [json.loads(p.read_text()) for p in (case.repo / STATE).glob("results/wave-*/*/wave.json")]
    assert len(outcomes) == 1, f"{name}: expected one wave.json"
    outcome = outcomes[0]
    if expected == CLOSES:
        failed = {item: text for item, (status, text) in case.items.items() if status != "passed"}
        assert not failed, f"{name}: {failed}"
        assert outcome["closed"] is True
        run_state = json.loads((case.repo / STATE / "run-state.json").read_text())
        assert outcome["wave"] in run_state["completedWaves"]
        return
    assert isinstance(expected, Fails)
    status, text = case.items["plan"]
    assert status == "failed", f"{name}: plan {status}"
    count, rules = _rule_ids(text)
    assert (count, rules) == (expected.errors, set(expected.rules)), f"{name}:\n{text}"
    # Nothing was launched for an invalid wave: every agent item failed or skipped without a log.
    assert all(status != "passed" for status, _ in case.items.values())
    assert not list((case.repo / STATE).glob("**/*.log")), f"{name}: an agent was started"
    assert outcome["closed"] is False
    assert outcome["reason"] == "the wave has validation errors (see ::plan); no agent was launched"

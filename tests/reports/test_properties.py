"""Every agent and closure item's report carries the agent's facts in ``user_properties``.

junitxml writes the properties of an item's teardown report and pytest-reportlog serializes every
report (``pytest_report_to_serializable``); both must see them, from xdist workers and from closure
items run on the controller, for first attempts and for retries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reportkit import FLAKY, PROPERTY_KEYS, WAVE, junit_cases, make_repo, run_wave, run_with_faults, wave_text

# What pytest-reportlog does with every report (on the controller only), without depending on the package.
REPORTLOG_CONFTEST = """
import json, os

def pytest_runtest_logreport(report):
    if not report_config:
        return
    config = report_config[0]
    data = config.hook.pytest_report_to_serializable(config=config, report=report)
    with open(os.environ["REPORTLOG_PATH"], "a") as handle:
        handle.write(json.dumps(data, default=str) + "\\n")  # reportlog: cleanup_unserializable

report_config = []

def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        report_config.append(config)
"""


def _assert_agent_props(props: dict[str, str], agent: str, *, attempt: int, role: str, status: str) -> None:
    assert set(PROPERTY_KEYS) <= set(props), props
    assert props["agent"] == agent
    assert props["wave"].endswith("waves/wave-1.md")
    assert props["attempt"] == str(attempt)
    assert props["role"] == role
    assert props["executor"] == "local"
    assert props["status"] == status
    if status == "not-run":
        assert props["markers"] == props["log"] == props["proof_digest"] == ""
        return
    assert re.fullmatch(r"[0-9a-f]{16}", props["proof_digest"]), props["proof_digest"]
    assert Path(props["log"]).is_file(), props["log"]
    assert f"attempt-{attempt}" in props["log"]
    if status == "passed":
        assert props["markers"].startswith("[wave-"), props["markers"]


@pytest.mark.slow
def test_junitxml_from_an_xdist_run_has_every_agents_properties(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(pytester, monkeypatch, {1: wave_text(1, agents=3)})
    junit = pytester.path / "junit.xml"
    log = pytester.path / "reportlog.jsonl"
    (repo / "conftest.py").write_text(REPORTLOG_CONFTEST)
    monkeypatch.setenv("REPORTLOG_PATH", str(log))
    result = run_wave(pytester, WAVE, "-n", "2", "-p", "no:cacheprovider", f"--junitxml={junit}")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    cases = junit_cases(junit)
    roles = {"A1": "implementation", "A2": "implementation", "A3": "implementation"}
    roles |= {"A8": "integration", "A9": "documentation", "A0": "evaluator"}
    assert set(cases) == {"plan", *roles}
    for agent, role in roles.items():
        props, tags = cases[agent]
        assert tags == [], (agent, tags)
        _assert_agent_props(props, agent, attempt=1, role=role, status="passed")
    # Every agent's call report, as reportlog would write it, carries the same facts.
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    calls = [c for c in calls if c.get("when") == "call" and "::A" in c["nodeid"]]
    assert sorted(c["nodeid"].rsplit("::", 1)[1] for c in calls) == sorted(roles)
    for call in calls:
        props = dict(call["user_properties"])
        assert props["agent"] == call["nodeid"].rsplit("::", 1)[1]
        assert props["proof_digest"] == cases[props["agent"]][0]["proof_digest"]


@pytest.mark.slow
def test_retries_and_skipped_closure_stages_carry_properties(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(pytester, monkeypatch, {1: wave_text(1, agents=2, validation={1: [FLAKY]})})
    junit = pytester.path / "junit.xml"
    result = run_with_faults(
        pytester, monkeypatch, "A2=exit-nonzero", "-n", "2", "--wave-max-retries", "1", f"--junitxml={junit}"
    )
    assert result.ret == 1, result.stdout.str()
    cases = junit_cases(junit)
    _assert_agent_props(cases["A1"][0], "A1", attempt=1, role="implementation", status="failed")
    _assert_agent_props(cases["A1[attempt-2]"][0], "A1", attempt=2, role="implementation", status="passed")
    _assert_agent_props(cases["A2[attempt-2]"][0], "A2", attempt=2, role="implementation", status="failed")
    assert cases["A2[attempt-2]"][1] == ["failure"]
    # Closure stages that did not run (on the controller) still say who they are.
    for agent, role in (("A8", "integration"), ("A9", "documentation"), ("A0", "evaluator")):
        props, tags = cases[f"{agent}[attempt-2]"]
        assert tags == ["skipped"], (agent, tags)
        _assert_agent_props(props, agent, attempt=2, role=role, status="not-run")
    assert cases["A1"][0]["proof_digest"] != cases["A1[attempt-2]"][0]["proof_digest"]

"""Per-agent proof checks. Each returns :class:`Check` rows; an agent passes only when all hold.

Nothing here trusts the agent's narrative: markers are parsed from the current attempt's log only,
files are looked at on disk, and validation commands are run by the orchestrator itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pytest_wave.engine import confine
from pytest_wave.engine.process import ProcessResult
from pytest_wave.errors import WaveError
from pytest_wave.model.markers import GATE_DIMENSIONS, MarkerKind, MarkerScan
from pytest_wave.model.matrix import load_matrix
from pytest_wave.model.result import Check
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import COMPLETION_LEVELS, DOC_IMPACT_LEVELS, DURABILITY_LEVELS, PROOF_LEVELS

_ORDERS: dict[str, tuple[str, ...]] = {
    "completion": COMPLETION_LEVELS,
    "durability": DURABILITY_LEVELS,
    "proof": PROOF_LEVELS,
}
_GAP_CODES = {"completion": "completion-gap", "durability": "durability-gap", "proof": "proof-level-gap"}
_VERDICT_LINE = re.compile(r"^\s*Verdict:\s*(PASS|CONCERNS|BLOCKED|HOLD|FAIL)\b", re.IGNORECASE | re.MULTILINE)
_VERDICT_ALIASES = {"hold": "concerns", "fail": "blocked"}


def process_check(result: ProcessResult, log_path: Path) -> Check:
    return Check(
        name="exit status",
        ok=result.ok,
        expected="exit 0 before the deadline",
        found=result.describe(),
        code=None if result.ok else ("timeout" if result.timed_out else "nonzero-exit"),
        evidence=str(log_path),
    )


def _marker_present(scan: MarkerScan, kind: MarkerKind, log: str, what: str) -> Check:
    marker = scan.last(kind)
    rejected = scan.rejected_for(kind)
    if marker is not None:
        return Check(name=f"[{kind}] marker", ok=True, expected=what, found=marker.canonical, evidence=log)
    if rejected:
        return Check(
            name=f"[{kind}] marker",
            ok=False,
            expected=what,
            found=f"malformed: {rejected[-1].message}",
            code=f"invalid-{kind}-format",
            evidence=log,
        )
    return Check(name=f"[{kind}] marker", ok=False, expected=what, found="absent", code=f"missing-{kind}", evidence=log)


def _at_least(order: tuple[str, ...], found: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if found not in order or wanted not in order:
        return False
    return order.index(found) >= order.index(wanted)


def implementation_checks(task: AgentTask, scan: MarkerScan, log: str) -> list[Check]:
    """Exit contract and component proof for an implementation (or specialist) agent."""
    checks: list[Check] = []
    contract = task.exit_contract
    if contract is not None:
        proof = _marker_present(scan, "wave-proof", log, "a [wave-proof] line meeting the exit contract")
        checks.append(proof)
        marker = scan.last("wave-proof")
        if marker is not None:
            checks.append(
                Check(
                    name="proof state",
                    ok=marker.state == "met",
                    expected="state=met",
                    found=f"state={marker.state}",
                    code=None if marker.state == "met" else "wave-proof-gap",
                    evidence=log,
                )
            )
            for field, order in _ORDERS.items():
                wanted = getattr(contract, field)
                found = marker.get(field)
                ok = _at_least(order, found, wanted)
                checks.append(
                    Check(
                        name=f"exit contract {field}",
                        ok=ok,
                        expected=f">= {wanted}" if wanted in order else f"a valid {field} level (declared: {wanted})",
                        found=str(found),
                        code=None if ok else _GAP_CODES[field],
                        evidence=log,
                    )
                )
        doc = _marker_present(scan, "wave-doc-delta", log, "a [wave-doc-delta] line")
        checks.append(doc)
        doc_marker = scan.last("wave-doc-delta")
        if doc_marker is not None and contract.doc_impact is not None:
            ok = _at_least(DOC_IMPACT_LEVELS, doc_marker.state, contract.doc_impact)
            checks.append(
                Check(
                    name="exit contract doc-impact",
                    ok=ok,
                    expected=f">= {contract.doc_impact}",
                    found=str(doc_marker.state),
                    code=None if ok else "doc-impact-gap",
                    evidence=log,
                )
            )
    reported = scan.components()
    for component, level in task.components.items():
        component_marker = reported.get(component)
        if component_marker is None:
            checks.append(
                Check(
                    name=f"component {component}",
                    ok=False,
                    expected=f"[wave-component] component={component} level={level} state=met",
                    found="absent",
                    code="missing-wave-component",
                    evidence=log,
                )
            )
            continue
        found_level, state = component_marker.get("level"), component_marker.state
        ok = found_level == level and state == "met"
        code = None if ok else ("component-level-mismatch" if found_level != level else "component-gap")
        checks.append(
            Check(
                name=f"component {component}",
                ok=ok,
                expected=f"level={level} state=met",
                found=f"level={found_level} state={state}",
                code=code,
                evidence=log,
            )
        )
    return checks


def deliverable_checks(task: AgentTask, repo_root: Path, owns: Callable[[str], bool]) -> list[Check]:
    """Each deliverable exists, is owned, and (like every owned path) stays inside the repository:
    a path out through ``..``, an absolute path or a symlink fails here even if lint was skipped."""
    checks = _confinement_checks(task, repo_root)
    refused = {check.evidence for check in checks}
    for path in task.deliverables:
        if path in refused:
            continue  # never look at (or report on) a file outside the repository
        target = repo_root / path
        exists = target.is_file()
        checks.append(
            Check(
                name=f"deliverable {path}",
                ok=exists,
                expected="file exists",
                found="exists" if exists else ("a directory" if target.is_dir() else "missing"),
                code=None if exists else "missing-deliverable",
                evidence=str(target),
            )
        )
        if not owns(path):
            checks.append(
                Check(
                    name=f"ownership {path}",
                    ok=False,
                    expected="inside the agent's file ownership",
                    found="outside: " + ", ".join(task.owned_paths or ["(no owned paths)"]),
                    code="deliverable-not-owned",
                )
            )
    return checks


def _confinement_checks(task: AgentTask, repo_root: Path) -> list[Check]:
    checks: list[Check] = []
    for kind, paths in (("deliverable", task.deliverables), ("owned path", task.owned_paths)):
        for path in dict.fromkeys(paths):
            problem = confine.path_problem(repo_root, path)
            if problem is not None:
                checks.append(
                    Check(
                        name=f"{kind} {path}",
                        ok=False,
                        expected="a path inside the repository",
                        found=problem,
                        code="path-outside-repo",
                        evidence=path,  # the path as written: nothing outside the repository is opened
                    )
                )
    return checks


def integration_marker_checks(scan: MarkerScan, log: str) -> list[Check]:
    checks = [_marker_present(scan, "wave-integration", log, "[wave-integration] state=ready-for-doc-closure")]
    marker = scan.last("wave-integration")
    if marker is not None:
        ok = marker.state == "ready-for-doc-closure"
        checks.append(
            Check(
                name="integration recommendation",
                ok=ok,
                expected="ready-for-doc-closure",
                found=f"{marker.state} (claims={marker.get('claims')} conflicts={marker.get('conflicts')} "
                f"blockers={marker.get('blockers')})",
                code=None if ok else "integration-needs-more-work",
                evidence=log,
            )
        )
    return checks


def documentation_marker_checks(scan: MarkerScan, log: str) -> list[Check]:
    checks = [_marker_present(scan, "wave-doc-closure", log, "[wave-doc-closure] state=closed or no-change")]
    marker = scan.last("wave-doc-closure")
    if marker is not None:
        ok = marker.state in ("closed", "no-change")
        checks.append(
            Check(
                name="documentation closure",
                ok=ok,
                expected="closed or no-change",
                found=str(marker.state),
                code=None if ok else "doc-closure-open",
                evidence=log,
            )
        )
    return checks


def report_verdict(report: Path | None) -> str | None:
    """The first ``Verdict:`` line of the evaluator's report, normalized (hold->concerns, fail->blocked)."""
    if report is None or not report.is_file():
        return None
    match = _VERDICT_LINE.search(report.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return None
    verdict = match.group(1).lower()
    return _VERDICT_ALIASES.get(verdict, verdict)


def evaluator_checks(scan: MarkerScan, log: str, report: Path | None) -> list[Check]:
    checks = [_marker_present(scan, "wave-gate", log, "[wave-gate] with every dimension pass")]
    gate = scan.last("wave-gate")
    if gate is not None:
        for dimension in GATE_DIMENSIONS:
            value = gate.get(dimension)
            ok = value == "pass"
            checks.append(
                Check(
                    name=f"gate {dimension}",
                    ok=ok,
                    expected="pass",
                    found=str(value),
                    code=None if ok else f"gate-{dimension}-{value}",
                    evidence=log,
                )
            )
    # The current attempt's log marker is the agent's last word; the report file may be older.
    marker = scan.last("wave-verdict")
    verdict = marker.value if marker is not None else report_verdict(report)
    source = log if marker is not None else (str(report) if report else log)
    verdict = _VERDICT_ALIASES.get(verdict or "", verdict)
    checks.append(
        Check(
            name="evaluator verdict",
            ok=verdict == "pass",
            expected="pass",
            found=verdict or "no verdict ([wave-verdict] line or report 'Verdict:' line)",
            code=None if verdict == "pass" else (f"evaluator-{verdict}" if verdict else "missing-evaluator-verdict"),
            evidence=source,
        )
    )
    return checks


def first_failure(checks: Iterable[Check]) -> Check | None:
    return next((check for check in checks if not check.ok), None)


def matrix_checks(promoted: dict[str, str], matrix_path: Path, wave: int | None = None) -> list[Check]:
    """The documentation steward's matrix gate: each promoted component at its target ``currentLevel``.

    A component above its target passes only when a later wave's promotion took it there (``wave``
    given): a wave that closed before later waves moved the component on is re-verified as it was.
    """
    try:
        matrix = load_matrix(matrix_path)
        problem = None
    except WaveError as exc:
        matrix, problem = None, exc.one_line()
    checks: list[Check] = []
    for component, target in promoted.items():
        entry = matrix.components.get(component) if matrix is not None else None
        current = entry.current_level if entry is not None else None
        found = problem or (f"currentLevel {current}" if current else "component not in the matrix")
        ok = problem is None and current == target
        later = None if matrix is None or wave is None else matrix.passed_by_later_wave(component, target, wave)
        if later is not None:
            ok = True
            found = f"currentLevel {current} (wave {later.wave} promoted it to {later.target})"
        checks.append(
            Check(
                name=f"matrix level {component}",
                ok=ok,
                expected=f"currentLevel {target}",
                found=found,
                code=None if ok else ("unknown-component" if current is None else "component-current-level-stale"),
                evidence=str(matrix_path),
            )
        )
    return checks

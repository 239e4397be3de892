"""Replay: recompute every gate of a bundle from its recorded artifacts, and compare.

Nothing here starts an agent or runs a command, and nothing outside the bundle is read. Per agent,
the checks the engine computed are computed again with the engine's own gate functions
(:mod:`pytest_wave.engine.gates`): the exit status from the recorded status, the markers by scanning
the copied log, deliverables and the evaluator report against the copied tree, the integration
steward's proof rows from the recorded results, ownership from the recorded tree changes and the
matrix levels from the copied matrix. Two kinds of checks are *carried* (taken as recorded):
validation commands (re-running them is ``--wave-gate``'s job) and each stage's coordination
barrier, which depends on the log at that instant; the wave-level barrier is recomputed from the
copied log. Every difference names the bundle file it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pytest_wave.coordination.store import barrier_checks
from pytest_wave.engine import gates
from pytest_wave.engine.gates import matrix_checks
from pytest_wave.engine.markers import scan_log
from pytest_wave.engine.process import ProcessResult
from pytest_wave.errors import WaveError
from pytest_wave.model.coordination import Roster
from pytest_wave.model.result import AgentResult, Check
from pytest_wave.model.task import AgentTask
from pytest_wave.model.wave import Wave
from pytest_wave.parse.wave import parse_wave_file
from pytest_wave.traces.bundle import Bundle, TraceAgent, TraceError, verify_files
from pytest_wave.traces.capture import OWNERSHIP_CHECK
from pytest_wave.traces.derived import (
    CLOSURE_ROLES,
    RAW_LOG,
    check_key,
    closure_summary,
    latest_results,
    markers,
    materialized,
    quality_metrics,
    reduce_log,
    spend,
    timeline,
)


@dataclass
class Difference:
    file: str  # bundle-relative
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class AgentReplay:
    agent_id: str
    recorded_status: str
    replayed_status: str
    checks: list[Check] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)  # names taken as recorded
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.replayed_status in ("passed", "reused")


@dataclass
class VerdictReplay:
    recorded_closed: bool
    replayed_closed: bool
    final: bool
    differences: list[Difference] = field(default_factory=list)


def _show(check: Check) -> str:
    return f"{'ok' if check.ok else 'FAILED'} ({check.found})"


class BundleReplay:
    """One bundle's replay, computed lazily and once (items of the bundle share it)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        self._wave: Wave | None = None
        self._history: dict[int, dict[str, AgentResult]] | None = None
        self._agents: dict[str, AgentReplay] = {}

    # -- inputs --------------------------------------------------------------------------------
    def integrity(self) -> list[Difference]:
        return [Difference(path, what) for path, what in verify_files(self.bundle)]

    @property
    def tree(self) -> Path:
        return self.bundle.path("tree")

    def wave(self) -> Wave:
        if self._wave is None:
            try:
                self._wave = parse_wave_file(
                    self.bundle.path(self.manifest.wave_copy), display_path=self.manifest.wave_file
                )
            except WaveError as exc:
                raise TraceError(
                    f"{self.manifest.wave_copy}: the recorded wave does not parse: {exc.message}"
                ) from None
        return self._wave

    def history(self) -> dict[int, dict[str, AgentResult]]:
        if self._history is None:
            self._history = self.bundle.history()
        return self._history

    def _closure_ids(self) -> tuple[str, str, str]:
        roles = self.manifest.roles
        return (roles.integration, roles.documentation, roles.evaluator)

    def _norm(self, text: str) -> str:
        return text.replace(str(self.tree), self.manifest.repo_root)

    # -- per agent -----------------------------------------------------------------------------
    def agent(self, agent_id: str) -> AgentReplay:
        if agent_id not in self._agents:
            trace_agent = self.manifest.agent(agent_id)
            if trace_agent is None:
                raise TraceError(f"run-metadata.json: no agent {agent_id}")
            self._agents[agent_id] = self._replay_agent(trace_agent)
        return self._agents[agent_id]

    def _replay_agent(self, entry: TraceAgent) -> AgentReplay:
        if entry.result is None:
            return AgentReplay(entry.agent_id, "not-run", "not-run")
        result = self.bundle.result(entry.result)
        replay = AgentReplay(entry.agent_id, result.status, result.status)
        diffs = replay.differences
        if entry.prompt_fingerprint != result.prompt_hash:
            diffs.append(
                Difference("run-metadata.json", f"{entry.agent_id}: prompt fingerprint differs from {entry.result}")
            )
        if entry.status_file is not None and self.bundle.has(entry.status_file):
            self._status_file(entry, result, diffs)
        if not result.checks:
            return replay  # the attempt stopped before its process: nothing was judged, nothing to recompute
        replayed = self._recompute(entry, result, diffs)
        pending: dict[str, list[tuple[Check, str]]] = {}
        for check, source in replayed:
            pending.setdefault(check.name, []).append((check, source))
        final: list[Check] = []
        for recorded in result.checks:
            matches = pending.get(recorded.name)
            if matches:
                check, source = matches.pop(0)
                final.append(check)
                want, got = check_key(recorded), check_key(check)
                got = {k: self._norm(v) if isinstance(v, str) else v for k, v in got.items()}
                if want != got:
                    diffs.append(
                        Difference(
                            source,
                            f'{entry.agent_id} "{recorded.name}": recorded {_show(recorded)}, replayed {_show(check)}',
                        )
                    )
                continue
            final.append(recorded)
            replay.carried.append(recorded.name)
            if recorded.name.startswith("validation `") and recorded.evidence:
                name = Path(recorded.evidence).name
                if not any(Path(rel).name == name for rel in entry.validation_logs):
                    diffs.append(Difference(entry.result, f"{entry.agent_id}: validation log {name} was not captured"))
        for left in pending.values():
            for check, source in left:
                final.append(check)
                diffs.append(
                    Difference(source, f'{entry.agent_id}: replay finds "{check.name}" {_show(check)}, not recorded')
                )
        replay.checks = final
        replay.replayed_status = "passed" if all(c.ok for c in final) else "failed"
        if result.status == "reused":
            replay.replayed_status = "reused" if replay.replayed_status == "passed" else "failed"
        if replay.replayed_status != result.status:
            diffs.append(
                Difference(
                    entry.result,
                    f"{entry.agent_id}: recorded {result.status}, replayed {replay.replayed_status}",
                )
            )
        return replay

    def _status_file(self, entry: TraceAgent, result: AgentResult, diffs: list[Difference]) -> None:
        assert entry.status_file is not None
        status = self.bundle.json(entry.status_file)
        if not isinstance(status, dict):
            diffs.append(Difference(entry.status_file, "not a status object"))
            return
        if result.exit_code is not None or result.signal is not None:
            code = result.exit_code if result.exit_code is not None else -(result.signal or 1)
            if status.get("code") != code:
                diffs.append(
                    Difference(
                        entry.status_file, f"{entry.agent_id}: exit code {status.get('code')}, result says {code}"
                    )
                )
        if result.prompt_hash and status.get("promptHash") != result.prompt_hash:
            diffs.append(Difference(entry.status_file, f"{entry.agent_id}: promptHash differs from the result's"))

    def _recompute(self, entry: TraceAgent, result: AgentResult, diffs: list[Difference]) -> list[tuple[Check, str]]:
        out: list[tuple[Check, str]] = []
        status_source = entry.status_file or entry.result or "run-metadata.json"
        process = ProcessResult(
            exit_code=result.exit_code,
            signal=result.signal,
            timed_out=result.timed_out,
            started_at=result.started_at,
            finished_at=result.finished_at,
            pid=0,
        )
        log_rel = entry.log
        log = self.bundle.path(log_rel) if log_rel else Path("/nonexistent")
        exit_check = gates.process_check(process, log)
        if result.timed_out:  # the kill time is not recorded to the digit: keep the recorded wording
            recorded = next((c for c in result.checks if c.name == exit_check.name), None)
            if recorded is not None:
                exit_check = exit_check.model_copy(update={"found": recorded.found})
        out.append((exit_check, status_source))
        task = self._task(entry, diffs)
        if task is None:
            return out
        if log_rel is None or not log.is_file():
            diffs.append(
                Difference(log_rel or f"logs/{entry.agent_id}", f"{entry.agent_id}: log missing; markers not replayed")
            )
            return out
        scan = scan_log(log)
        found = [marker.canonical for marker in scan.accepted]
        if found != result.markers:
            diffs.append(Difference(log_rel, f"{entry.agent_id}: markers in the log differ from the result's"))
        role = task.role
        if role == "evaluator":
            report = self.tree / task.evaluator_report_path if task.evaluator_report_path else None
            marker_checks = gates.evaluator_checks(scan, str(log), report)
        elif role == "integration":
            marker_checks = gates.integration_marker_checks(scan, str(log))
        elif role == "documentation":
            marker_checks = gates.documentation_marker_checks(scan, str(log))
        else:
            marker_checks = gates.implementation_checks(task, scan, str(log))
        for check in marker_checks:  # the evaluator's verdict may come from its report rather than the log
            from_report = role == "evaluator" and task.evaluator_report_path and check.evidence != str(log)
            out.append((check, f"tree/{task.evaluator_report_path}" if from_report else log_rel))
        wave_agent = self.wave().agent(entry.agent_id)
        if wave_agent is None:
            diffs.append(Difference(self.manifest.wave_copy, f"{entry.agent_id} is not in the recorded wave"))
            return out
        for check in gates.deliverable_checks(task, self.tree, wave_agent.owns):
            source = (
                f"tree/{check.name.split(' ', 1)[1]}"
                if check.name.startswith("deliverable ")
                else self.manifest.wave_copy
            )
            out.append((check, source))
        if role in CLOSURE_ROLES and entry.agent_id in self._closure_ids():
            out += self._closure_extras(entry, result, task)
        return out

    def _task(self, entry: TraceAgent, diffs: list[Difference]) -> AgentTask | None:
        if entry.task is None or not self.bundle.has(entry.task):
            diffs.append(
                Difference(
                    entry.task or f"tasks/{entry.agent_id}", f"{entry.agent_id}: task.json missing; gates not replayed"
                )
            )
            return None
        try:
            return AgentTask.model_validate_json(self.bundle.text(entry.task))
        except ValidationError as exc:
            diffs.append(Difference(entry.task, f"not a valid task: {exc.errors()[0]['msg']}"))
            return None

    def _closure_extras(self, entry: TraceAgent, result: AgentResult, task: AgentTask) -> list[tuple[Check, str]]:
        out: list[tuple[Check, str]] = []
        closure_ids = set(self._closure_ids())
        wave = self.wave()
        if task.role == "integration":
            seen = latest_results(self.history(), upto=result.attempt)
            for agent in wave.agents:
                if agent.id in closure_ids:
                    continue
                other = seen.get(agent.id)
                ok = other is not None and other.ok
                check = Check(
                    name=f"agent {agent.id} proof",
                    ok=ok,
                    expected="passed",
                    found="no result" if other is None else f"{other.status} ({other.reason or 'all checks met'})",
                    code=None if ok else "proof-gap",
                    evidence=other.log_path if other else None,
                )
                source = f"results/attempt-{other.attempt}/{agent.id}.json" if other else "results/"
                out.append((check, source))
        if task.role == "documentation" and wave.promoted:
            matrix_rel = f"tree/{task.component_matrix_json_path}"
            matrix = self.bundle.path(matrix_rel)
            out += [(check, matrix_rel) for check in matrix_checks(wave.promoted, matrix, wave.number)]
        if task.role in ("integration", "evaluator"):
            out += self._ownership(entry)
        return out

    def _ownership(self, entry: TraceAgent) -> list[tuple[Check, str]]:
        rel = entry.tree_snapshot or "tree-changes.json"
        if not self.bundle.has(rel):
            return []  # the run had no baseline: the engine checked nothing either
        data = self.bundle.json(rel)
        changed = data.get("changed", []) if isinstance(data, dict) else []
        wave = self.wave()
        stray = [path for path in changed if not any(agent.owns(path) for agent in wave.agents)]
        check = Check(
            name=OWNERSHIP_CHECK,
            ok=not stray,
            expected="every changed file is owned by an agent of the wave",
            found="all owned" if not stray else "unowned changes: " + ", ".join(stray[:10]),
            code=None if not stray else "write-outside-ownership",
        )
        return [(check, rel)]

    # -- the wave ------------------------------------------------------------------------------
    def verdict(self) -> VerdictReplay:
        bundle = self.bundle
        manifest = self.manifest
        outcome = bundle.json("outcome.json")
        if not isinstance(outcome, dict):
            raise TraceError("outcome.json: not an object")
        diffs: list[Difference] = []
        wave = self.wave()
        statuses = {
            agent.id: self.agent(agent.id).replayed_status if manifest.agent(agent.id) else "not-run"
            for agent in wave.agents
        }
        roster = Roster.model_validate(bundle.json("roster.json"))
        has_log = manifest.wave is not None
        state, issues = reduce_log(bundle.path(RAW_LOG), roster)
        dependencies = bundle.json_or("dependency-snapshot.json", None)
        barrier = barrier_checks(state, dependencies, RAW_LOG) if has_log else []
        recorded_barrier = [Check.model_validate(item) for item in outcome.get("barrier", [])]
        self._compare_checks("barrier", recorded_barrier, barrier, RAW_LOG, diffs)
        closed = (
            bool(wave.agents)
            and all(s in ("passed", "reused") for s in statuses.values())
            and all(c.ok for c in barrier)
        )
        recorded_closed = bool(outcome.get("closed"))
        if closed != recorded_closed:
            diffs.append(
                Difference(
                    "outcome.json",
                    f"verdict: recorded {'CLOSED' if recorded_closed else 'NOT CLOSED'}, "
                    f"replayed {'CLOSED' if closed else 'NOT CLOSED'}",
                )
            )
        if manifest.verdict.closed != recorded_closed:
            diffs.append(Difference("run-metadata.json", "verdict differs from outcome.json"))
        for agent_id, status in (outcome.get("agents") or {}).items():
            if statuses.get(agent_id, "not-run") != status:
                diffs.append(
                    Difference(
                        "outcome.json", f"{agent_id}: recorded {status}, replayed {statuses.get(agent_id, 'not-run')}"
                    )
                )
        history = self.history()
        integration = bundle.json_or("integration.json", {})
        quality = quality_metrics(
            attempt=manifest.attempt,
            state=state,
            roster=roster,
            integration=integration,
            docs_queue=bundle.json_or("docs-queue.json", {}),
            dependencies=dependencies,
            history=history,
        )
        self._compare_json("quality.json", bundle.json("quality.json"), quality, diffs)
        if outcome.get("quality") != bundle.json("quality.json"):
            diffs.append(Difference("outcome.json", "quality differs from quality.json"))
        if has_log:
            self._compare_json(
                "coordination.materialized.json",
                bundle.json("coordination.materialized.json"),
                materialized(state, roster, issues).model_dump(mode="json", by_alias=True),
                diffs,
            )
        logs = {agent.agent_id: agent.log for agent in manifest.agents}
        self._compare_json("markers.json", bundle.json("markers.json"), markers(bundle.folder, logs), diffs)
        self._compare_json("timeline.json", bundle.json("timeline.json"), timeline(history), diffs)
        executors = {a.agent_id: a.executor.model_dump(by_alias=True) for a in manifest.agents if a.executor}
        self._compare_json(
            "budgets.json",
            bundle.json("budgets.json"),
            spend(history, executors, manifest.options.model_dump(by_alias=True)),
            diffs,
        )
        roles = manifest.roles
        summary = closure_summary(
            latest_results(history),
            integration_id=roles.integration,
            documentation_id=roles.documentation,
            evaluator_id=roles.evaluator,
            integration=integration,
        )
        self._compare_json("closure.json", bundle.json("closure.json"), summary, diffs)
        if bundle.has("wave.json"):
            recorded = bundle.json("wave.json")
            if isinstance(recorded, dict) and bool(recorded.get("closed")) != closed:
                diffs.append(Difference("wave.json", f"closed={recorded.get('closed')}, replayed closed={closed}"))
        return VerdictReplay(recorded_closed, closed, bool(outcome.get("final")), diffs)

    def _compare_checks(
        self, what: str, recorded: list[Check], replayed: list[Check], source: str, diffs: list[Difference]
    ) -> None:
        want = {c.name: c for c in recorded}
        got = {c.name: c for c in replayed}
        for name in dict.fromkeys([*want, *got]):
            a, b = want.get(name), got.get(name)
            if a is None or b is None:
                diffs.append(Difference(source, f'{what} "{name}": {"not recorded" if a is None else "not replayed"}'))
            elif check_key(a) != check_key(b):
                diffs.append(Difference(source, f'{what} "{name}": recorded {_show(a)}, replayed {_show(b)}'))

    @staticmethod
    def _compare_json(rel: str, recorded: Any, replayed: Any, diffs: list[Difference]) -> None:
        if recorded == replayed:
            return
        if isinstance(recorded, dict) and isinstance(replayed, dict):
            keys = [k for k in dict.fromkeys([*recorded, *replayed]) if recorded.get(k) != replayed.get(k)]
            shown = ", ".join(
                f"{k}: recorded {json_short(recorded.get(k))}, replayed {json_short(replayed.get(k))}" for k in keys[:3]
            )
            diffs.append(Difference(rel, f"differs from its recomputation ({shown})"))
        else:
            diffs.append(Difference(rel, "differs from its recomputation"))


def json_short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

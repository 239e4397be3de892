"""Rate-limit classification, backoff policy and the relaunch loop (fake launches, no CLI)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.executors.ratelimit import (
    RateLimitPolicy,
    RateLimitSignal,
    classify,
    reset_after,
    run_with_rate_limits,
)
from pytest_wave.model.result import AgentResult, ExecutorSwitch, Usage

# Lines the real CLIs printed against the mock model (codex 0.169.0, claude 2.1.197, opencode 1.18.33).
CODEX_429_JSON = '{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests"}}'
CODEX_529_TEXT = (
    "ERROR: unexpected status 529 <unknown status code>: Overloaded (mock), url: http://127.0.0.1:1/v1/responses"
)
CLAUDE_429 = "API Error: Request rejected (429) · Rate limit exceeded (mock)"
CLAUDE_529 = "API Error: 529 Overloaded (mock). This is a server-side issue, usually temporary — try again in a moment."
OPENCODE_529 = '{"type":"error","error":{"name":"APIError","data":{"message":"Overloaded (mock)","statusCode":529}}}'


@pytest.mark.parametrize(
    ("line", "kind", "status"),
    [
        (CODEX_429_JSON, "rate-limit", 429),
        (CODEX_529_TEXT, "overloaded", 529),
        (CLAUDE_429, "rate-limit", 429),
        (CLAUDE_529, "overloaded", 529),
        (OPENCODE_529, "overloaded", 529),
        ("Claude AI usage limit reached|1700000000", "session-limit", None),
        ("You've hit your session limit · resets 3pm", "session-limit", None),
        ('{"error":{"code":"insufficient_quota","message":"You exceeded your current quota"}}', "quota", None),
        ("HTTP 429 Too Many Requests; retry-after: 12", "rate-limit", 429),
    ],
)
def test_classify_real_cli_lines(line: str, kind: str, status: int | None) -> None:
    signal = classify(1, f"starting\nwork\n{line}\n")
    assert signal is not None
    assert (signal.kind, signal.status) == (kind, status)
    assert signal.transient is (kind != "quota")


@pytest.mark.parametrize(
    "line",
    [
        "Error: Reached max turns (1)",
        "error: unexpected argument '--search' found",
        "tests/test_api.py:429: AssertionError",
        "E   assert 529 == 200",
        "Refactored the overloaded parse() method.",
        "Added a rate limit to the public API (429 on abuse).",
        "AssertionError: expected 429, got 200",
    ],
)
def test_ordinary_failures_are_not_rate_limits(line: str) -> None:
    assert classify(1, f"{line}\nmissing [wave-proof]\n") is None


def test_a_clean_exit_is_read_only_at_its_end() -> None:
    assert classify(0, f"{CLAUDE_529}\n" + "work\n" * 10) is None
    assert classify(0, f"work\n{CLAUDE_529}\n") is not None


def test_newest_line_wins() -> None:
    signal = classify(1, f"{CLAUDE_429}\n...\n{CLAUDE_529}\n")
    assert signal is not None and signal.kind == "overloaded"


def test_reset_times() -> None:
    now = 1_700_000_000.0
    assert reset_after("retry-after: 7", now) == 7.0
    assert reset_after("Please try again in 1.5s.", now) == 1.5
    assert reset_after("rate limited, try again in 20 minutes", now) == 1200.0
    assert reset_after("try again in 250ms", now) == 0.25
    assert reset_after("Claude AI usage limit reached|1700000300", now) == 300.0
    clock = reset_after("limit reached - resets 3pm", now)
    assert clock is not None and 0 < clock <= 86400
    assert reset_after("no reset here", now) is None


def test_policy_from_env() -> None:
    policy = RateLimitPolicy.from_env(
        {"WAVE_RATE_LIMIT_RETRIES": "4", "WAVE_RATE_LIMIT_BASE_DELAY": "0.5", "WAVE_RATE_LIMIT_FALLBACK": "off"}
    )
    assert (policy.retries, policy.base_delay, policy.max_delay, policy.fallback) == (4, 0.5, 180.0, False)
    with pytest.raises(WaveError, match="WAVE_RATE_LIMIT_BASE_DELAY must be a number"):
        RateLimitPolicy.from_env({"WAVE_RATE_LIMIT_BASE_DELAY": "soon"})
    with pytest.raises(WaveError, match="0 or more"):
        RateLimitPolicy.from_env({"WAVE_RATE_LIMIT_RETRIES": "-1"})


def test_backoff_grows_with_bounded_jitter_and_parks_until_reset() -> None:
    policy = RateLimitPolicy(base_delay=10, max_delay=25, jitter=0.5)
    rng = random.Random(7)
    signal = RateLimitSignal("rate-limit", 429, "429")
    delays = [policy.delay(n, signal, rng) for n in (1, 2, 3)]
    assert 10 <= delays[0] <= 15 and 20 <= delays[1] <= 30 and 25 <= delays[2] <= 37.5
    parked = RateLimitSignal("session-limit", None, "resets", reset_after=42.0)
    assert 42.0 <= policy.delay(1, parked, rng) <= 43.0


# --------------------------------------------------------------------------- the relaunch loop


class FakeRuns:
    """Plays scripted tries: each entry is (executor expected, log text, passed?)."""

    def __init__(self, tmp_path: Path, script: list[tuple[str, str, bool]]) -> None:
        self.tmp_path = tmp_path
        self.script = list(script)
        self.seen: list[str] = []

    def __call__(self, executor: ResolvedExecutor) -> AgentResult:
        expected, log_text, passed = self.script.pop(0)
        assert executor.id == expected
        self.seen.append(executor.id)
        log = self.tmp_path / "a1.log"
        log.write_text(log_text)
        return AgentResult(
            wave=1,
            wave_path="w.md",
            lane="main",
            run_id="r",
            attempt=1,
            agent_id="A1",
            title="t",
            role="implementation",
            executor_id=executor.id,
            status="passed" if passed else "failed",
            reason=None if passed else "exit status: expected exit 0, found exit status 1",
            exit_code=0 if passed else 1,
            started_at=float(len(self.seen)),
            log_path=str(log),
            usage=Usage(total_tokens=10),
        )


def loop(
    runs: FakeRuns, policy: RateLimitPolicy, fallbacks: tuple[str, ...] = ("claude", "opencode"), **kwargs: object
) -> tuple[AgentResult, list[float], list[ExecutorSwitch]]:
    sleeps: list[float] = []
    observed: list[ExecutorSwitch] = []
    executor = ResolvedExecutor(id="codex", selected_by="agent-id", model="gpt-x", fallbacks=fallbacks)
    result = run_with_rate_limits(
        executor,
        runs,
        policy=policy,
        available=kwargs.get("available", lambda runtime: True),  # type: ignore[arg-type]
        on_switch=lambda switch, given_up: observed.append(switch),
        sleep=sleeps.append,
        rng=random.Random(1),
    )
    return result, sleeps, observed


def test_429_twice_then_success_stays_on_the_runtime(tmp_path: Path) -> None:
    runs = FakeRuns(
        tmp_path, [("codex", CODEX_429_JSON, False), ("codex", CODEX_429_JSON, False), ("codex", "ok", True)]
    )
    result, sleeps, observed = loop(runs, RateLimitPolicy(retries=2, base_delay=1, max_delay=10))
    assert result.ok and result.executor_id == "codex"
    assert [s.kind for s in result.executor_switches] == ["retry", "retry"] == [s.kind for s in observed]
    assert len(sleeps) == 2 and 1 <= sleeps[0] <= 1.5 and 2 <= sleeps[1] <= 3
    # Each given-up try's log is kept beside the new one; the current log is the last try's only.
    kept = [Path(s.log_path or "") for s in result.executor_switches]
    assert [p.name for p in kept] == ["a1.try-1.log", "a1.try-2.log"]
    assert all(CODEX_429_JSON in p.read_text() for p in kept)
    assert Path(result.log_path or "").read_text() == "ok"
    assert result.usage is not None and result.usage.total_tokens == 30  # every try's spending counts
    assert result.started_at == 1.0


def test_overload_forever_falls_back_after_the_retries(tmp_path: Path) -> None:
    runs = FakeRuns(
        tmp_path,
        [("codex", CODEX_529_TEXT, False)] * 3 + [("claude", "done", True)],
    )
    result, _, _ = loop(runs, RateLimitPolicy(retries=2, base_delay=0.01))
    assert result.ok and result.executor_id == "claude"
    switches = result.executor_switches
    assert [(s.kind, s.from_executor, s.to_executor) for s in switches] == [
        ("retry", "codex", "codex"),
        ("retry", "codex", "codex"),
        ("fallback", "codex", "claude"),
    ]
    assert switches[-1].reason.startswith("overloaded (HTTP 529)")


def test_quota_skips_the_retries(tmp_path: Path) -> None:
    quota = '{"error":{"code":"insufficient_quota"}}'
    runs = FakeRuns(tmp_path, [("codex", quota, False), ("opencode", "done", True)])
    result, sleeps, _ = loop(runs, RateLimitPolicy(retries=5), available=lambda runtime: runtime != "claude")
    assert result.executor_id == "opencode"  # claude is not installed: skipped
    assert [s.kind for s in result.executor_switches] == ["fallback"] and sleeps == [0.0]


def test_exhausted_chain_keeps_the_failure_and_says_why(tmp_path: Path) -> None:
    runs = FakeRuns(tmp_path, [("codex", CLAUDE_429, False)] * 2)
    result, _, _ = loop(runs, RateLimitPolicy(retries=1, base_delay=0), fallbacks=())
    assert not result.ok
    assert "rate limited after 1 retry, no fallback left: rate-limit (HTTP 429)" in (result.reason or "")


def test_a_reset_beyond_the_park_limit_falls_back_at_once(tmp_path: Path) -> None:
    runs = FakeRuns(tmp_path, [("codex", "usage limit reached, try again in 5 hours", False), ("claude", "ok", True)])
    result, _, _ = loop(runs, RateLimitPolicy(retries=3, max_park=60))
    assert [s.kind for s in result.executor_switches] == ["fallback"]


def test_passing_or_plain_failures_are_never_relaunched(tmp_path: Path) -> None:
    runs = FakeRuns(tmp_path, [("codex", f"{CLAUDE_429}\n[wave-proof] ...", True)])
    result, sleeps, _ = loop(runs, RateLimitPolicy())
    assert result.ok and sleeps == [] and result.executor_switches == []
    runs = FakeRuns(tmp_path, [("codex", "Error: Reached max turns (1)", False)])
    result, sleeps, _ = loop(runs, RateLimitPolicy())
    assert not result.ok and sleeps == [] and runs.seen == ["codex"]


def test_fallback_disabled(tmp_path: Path) -> None:
    runs = FakeRuns(tmp_path, [("codex", CODEX_529_TEXT, False)])
    result, _, _ = loop(runs, RateLimitPolicy(retries=0, fallback=False))
    assert "fallback disabled" in (result.reason or "")

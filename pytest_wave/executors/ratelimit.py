"""Rate limits and overload: recognise them, wait and retry on the same runtime, then fall back.

A failed try is classified from its exit status and the tail of *its own* log (each try writes a
fresh log; the ones given up on are kept beside it as ``<log stem>.try-<n>.log``), never from an
earlier try. Only a try that failed its checks is looked at: a passing agent that merely talks
about rate limits is not retried.

* ``rate-limit`` (HTTP 429, "Too Many Requests", "rate limit"), ``overloaded`` (HTTP 529,
  "Overloaded") and ``session-limit`` (subscription usage windows) are transient: back off
  (exponential, with jitter) or, when the CLI reported when the limit resets, park until then
  (at most ``max_park`` seconds), and relaunch on the same runtime, ``retries`` times.
* ``quota`` (insufficient quota, billing) does not heal by waiting: fall back at once.
* When the retries are spent, the next runtime of the agent's ``fallbacks:`` chain that is
  installed and not yet tried takes over, inside the same attempt. Every relaunch is recorded as an
  :class:`~pytest_wave.model.result.ExecutorSwitch` on the result, and as a ``resolved-by-policy``
  coordination record when the coordination package is present.

The knobs come from the environment so test runs can make every delay tiny:
``WAVE_RATE_LIMIT_RETRIES`` (2), ``WAVE_RATE_LIMIT_BASE_DELAY`` (20 s), ``WAVE_RATE_LIMIT_MAX_DELAY``
(180 s), ``WAVE_RATE_LIMIT_MAX_PARK`` (900 s), ``WAVE_RATE_LIMIT_FALLBACK`` (1; 0 = never switch).
"""

from __future__ import annotations

import importlib
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_wave.engine.resolve import ResolvedExecutor
from pytest_wave.errors import WaveError
from pytest_wave.model.result import AgentResult, ExecutorSwitch, Usage, sum_usage

if TYPE_CHECKING:
    from pytest_wave.engine.context import WaveContext

SignalKind = Literal["rate-limit", "overloaded", "session-limit", "quota"]
TAIL_LINES = 40  # the CLI's own error is its last words; earlier lines are the agent's
TAIL_BYTES = 256 * 1024


@dataclass(frozen=True)
class RateLimitSignal:
    kind: SignalKind
    status: int | None
    evidence: str  # the log line that said so (trimmed)
    reset_after: float | None = None  # seconds until the provider said the limit resets

    @property
    def transient(self) -> bool:
        return self.kind != "quota"

    def describe(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        reset = f", resets in {self.reset_after:.0f}s" if self.reset_after is not None else ""
        return f"{self.kind}{status}{reset}: {self.evidence}"


@dataclass(frozen=True)
class RateLimitPolicy:
    retries: int = 2
    base_delay: float = 20.0
    max_delay: float = 180.0
    max_park: float = 900.0
    fallback: bool = True
    jitter: float = 0.5  # up to this fraction of the backoff is added at random

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RateLimitPolicy:
        source = os.environ if env is None else env
        policy = cls()

        def number(name: str, default: float) -> float:
            raw = source.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise WaveError(f"{name} must be a number (got {raw!r})", fix=f"unset {name} or fix it") from None
            if value < 0:
                raise WaveError(f"{name} must be 0 or more (got {raw!r})", fix=f"unset {name} or fix it")
            return value

        return cls(
            retries=int(number("WAVE_RATE_LIMIT_RETRIES", policy.retries)),
            base_delay=number("WAVE_RATE_LIMIT_BASE_DELAY", policy.base_delay),
            max_delay=number("WAVE_RATE_LIMIT_MAX_DELAY", policy.max_delay),
            max_park=number("WAVE_RATE_LIMIT_MAX_PARK", policy.max_park),
            fallback=source.get("WAVE_RATE_LIMIT_FALLBACK", "1").strip().lower() not in ("0", "false", "no", "off"),
        )

    def delay(self, retry: int, signal: RateLimitSignal, rng: random.Random) -> float:
        """Seconds to wait before relaunch ``retry`` (1-based)."""
        if signal.reset_after is not None and signal.reset_after <= self.max_park:
            return signal.reset_after + rng.uniform(0, min(1.0, self.base_delay))
        backoff = min(self.base_delay * 2.0 ** (retry - 1), self.max_delay)
        return backoff + rng.uniform(0, backoff * self.jitter)


# --------------------------------------------------------------------------- classification

# Patterns need context around the numbers and words: an agent's own output (a failing test at
# "test_api.py:429", "an overloaded method", "add a rate limit") must not read as the provider's answer.
_QUOTA = re.compile(r"insufficient_quota|exceeded your current quota|quota (?:exceeded|exhausted)", re.IGNORECASE)
_SESSION = re.compile(
    r"(?:usage|session|5-hour|five-hour|weekly|daily) limit (?:reached|exceeded|hit)|"
    r"hit your (?:usage|session|weekly|daily) limit|limit reached\W+resets?",
    re.IGNORECASE,
)
_OVERLOADED = re.compile(
    r"overloaded_error|server_overloaded|(?:status|http|api error)\D{0,12}529\b|"
    r"\b529\b\W{0,3}(?:<[^>]*>\W*)?overloaded|\"(?:statusCode|api_error_status|error_status)\":\s*529",
    re.IGNORECASE,
)
_RATE = re.compile(
    r"too many requests|rate[ _-]?limit(?:ed\b|_error|_exceeded| exceeded| reached| hit)|exceeded retry limit|"
    r"(?:status|http|rejected)\D{0,12}429\b|\"(?:statusCode|api_error_status|error_status)\":\s*429",
    re.IGNORECASE,
)
_STATUS = re.compile(r"\b(429|529|503)\b")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_RETRY_AFTER = re.compile(r"retry[-_ ]after\W{0,3}(\d+(?:\.\d+)?)", re.IGNORECASE)
_IN = re.compile(
    r"(?:try again|retry|resets?) in (\d+(?:\.\d+)?)\s*"
    r"(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b",
    re.IGNORECASE,
)
_EPOCH = re.compile(r"\|(\d{10})\b")
_CLOCK = re.compile(r"resets?(?: at)? (\d{1,2})(?::(\d{2}))?\s*(am|pm)\b", re.IGNORECASE)


def _unit(text: str) -> float:
    text = text.lower()
    if text.startswith("ms") or text.startswith("milli"):
        return _UNITS["ms"]
    return _UNITS.get(text[0], 1.0)


def reset_after(line: str, now: float | None = None) -> float | None:
    """Seconds until a reset the line reports, if it reports one."""
    now = time.time() if now is None else now
    if match := _RETRY_AFTER.search(line):
        return float(match.group(1))
    if match := _IN.search(line):
        return float(match.group(1)) * _unit(match.group(2))
    if match := _EPOCH.search(line):
        return max(0.0, float(match.group(1)) - now)
    if match := _CLOCK.search(line):
        hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "pm" else 0)
        minute = int(match.group(2) or 0)
        local = time.localtime(now)
        target = float(time.mktime((local.tm_year, local.tm_mon, local.tm_mday, hour, minute, 0, 0, 0, -1)))
        if target <= now:
            target += 86400
        return target - now
    return None


def classify(exit_code: int | None, text: str, now: float | None = None) -> RateLimitSignal | None:
    """The rate-limit / overload signal in a failed try's output, if any (newest line wins).

    A process that exited 0 (and still failed its checks) is read only in its last few lines: a CLI
    that swallows an API error prints it last, while earlier lines are the agent's own work.
    """
    lines = text.splitlines()[-(TAIL_LINES if exit_code != 0 else 5) :]
    for line in reversed(lines):
        kind: SignalKind | None = None
        if _QUOTA.search(line):
            kind = "quota"
        elif _SESSION.search(line):
            kind = "session-limit"
        elif _OVERLOADED.search(line):
            kind = "overloaded"
        elif _RATE.search(line):
            kind = "rate-limit"
        if kind is None:
            continue
        status = _STATUS.search(line)
        evidence = " ".join(line.split())[:240]
        return RateLimitSignal(kind, int(status.group(1)) if status else None, evidence, reset_after(line, now))
    return None


def classify_result(result: AgentResult) -> RateLimitSignal | None:
    """Look only at failed, not-timed-out tries; read the tail of that try's own log."""
    if result.ok or result.timed_out or not result.log_path:
        return None
    path = Path(result.log_path)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    return classify(result.exit_code, text)


# --------------------------------------------------------------------------- the relaunch loop


def next_fallback(current: ResolvedExecutor, tried: list[str], available: Callable[[str], bool]) -> str | None:
    for candidate in current.fallbacks:
        if candidate in tried or candidate in current.history:
            continue
        if available(candidate):
            return candidate
    return None


def preserve_log(result: AgentResult, number: int) -> str | None:
    """Move a given-up try's log aside (``<stem>.try-<n>.log``) so the relaunch starts a fresh one."""
    if not result.log_path:
        return None
    path = Path(result.log_path)
    kept = path.with_name(f"{path.stem}.try-{number}{path.suffix}")
    try:
        os.replace(path, kept)
    except OSError:
        return None
    return str(kept)


SwitchObserver = Callable[[ExecutorSwitch, AgentResult], None]


def run_with_rate_limits(
    executor: ResolvedExecutor,
    launch: Callable[[ResolvedExecutor], AgentResult],
    *,
    policy: RateLimitPolicy,
    available: Callable[[str], bool],
    on_switch: SwitchObserver | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> AgentResult:
    """Run ``launch`` until a try is not rate limited, retries and fallbacks are spent, or it passes."""
    rng = rng or random.Random()
    current = executor
    tried = [executor.id]
    switches: list[ExecutorSwitch] = []
    usages: list[Usage | None] = []
    retries = 0
    first_start: float | None = None
    while True:
        result = launch(current)
        first_start = result.started_at if first_start is None else first_start
        usages.append(result.usage)
        signal = classify_result(result)
        if signal is None:
            break
        parked_too_long = signal.reset_after is not None and signal.reset_after > policy.max_park
        if signal.transient and not parked_too_long and retries < policy.retries:
            retries += 1
            delay = policy.delay(retries, signal, rng)
            kind: Literal["retry", "fallback"] = "retry"
            target = current.id
        else:
            found = next_fallback(current, tried, available) if policy.fallback else None
            if found is None:
                why = "no fallback left" if policy.fallback else "fallback disabled"
                note = f"rate limited after {retries} retr{'y' if retries == 1 else 'ies'}, {why}: {signal.describe()}"
                result = result.model_copy(update={"reason": f"{result.reason} ({note})" if result.reason else note})
                break
            kind, delay, retries, target = "fallback", 0.0, 0, found
        switch = ExecutorSwitch(
            kind=kind,
            from_executor=current.id,
            to_executor=target,
            reason=signal.describe(),
            delay_seconds=round(delay, 3),
            at=time.time(),
            log_path=preserve_log(result, len(switches) + 1),
        )
        switches.append(switch)
        if on_switch is not None:
            on_switch(switch, result)
        if kind == "fallback":
            current = replace(
                current,
                id=target,
                selected_by="rate-limit-fallback",
                model=None,  # a model named for the old runtime means nothing to the new one
                history=(*current.history, current.id),
            )
            tried.append(target)
        sleep(delay)
    update: dict[str, object] = {"usage": sum_usage(usages)}
    if switches:
        update["executor_switches"] = [*result.executor_switches, *switches]
        update["started_at"] = first_start or result.started_at
    return result.model_copy(update=update)


def record_switch(ctx: WaveContext, switch: ExecutorSwitch, result: AgentResult) -> None:
    """A ``resolved-by-policy`` coordination record for a switch (skipped without the package)."""
    try:
        # Imported by name: coordination is optional here, and its absence must not break a launch.
        coordination = importlib.import_module("pytest_wave.coordination.engine")
        make_record = importlib.import_module("pytest_wave.coordination.records").make_record
    except ImportError:
        return
    try:
        store = coordination.for_context(ctx)
        if store is None:
            return
        verb = "retried on" if switch.kind == "retry" else "switched to"
        store.append(
            [
                make_record(
                    kind="resolved-by-policy",
                    wave=result.wave or 0,
                    lane=result.lane,
                    agent_id=result.agent_id,
                    status="resolved",
                    summary=f"{result.agent_id}: rate limit on {switch.from_executor}; {verb} {switch.to_executor}",
                    detail=switch.reason,
                    attempt=result.attempt,
                    executor_id=switch.to_executor,
                    artifact_refs=[switch.log_path] if switch.log_path else [],
                    severity="advisory",
                    source="launcher",
                )
            ]
        )
    except Exception:  # the record is a courtesy; the switch itself is in the result
        return

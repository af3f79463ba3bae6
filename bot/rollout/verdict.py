"""What a guard's answer means: pass, inconclusive or fail, with the value and the threshold.

Pure functions over what the probes brought back (an HTTP status and body, or the error that
stopped them; the check runs and commit statuses of the head). Anything that is not a clear
answer (no data, a timeout, a 5xx, a pending or missing check, a reply that does not parse)
is inconclusive: the job holds and does not bump. Only a clear answer outside the bounds fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.flags.guard import Check, CheckGuard, HttpGuard, PrometheusGuard

Verdict = Literal["pass", "inconclusive", "fail"]
_RANK: dict[Verdict, int] = {"pass": 0, "inconclusive": 1, "fail": 2}

# As branch protection counts them.
PASSING_CONCLUSIONS = ("success", "neutral", "skipped")
FAILING_CONCLUSIONS = ("failure", "timed_out", "action_required")


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP exchange as a probe saw it: a status and body, or why there was none."""

    status: int | None = None
    body: bytes = b""
    error: str | None = None  # timeout, refused connection, unset variable


@dataclass(frozen=True, slots=True)
class RunState:
    """The newest check run of a name on the head commit."""

    name: str
    status: str  # queued | in_progress | completed (or waiting, requested, pending)
    conclusion: str | None


@dataclass(frozen=True, slots=True)
class StatusState:
    """The newest commit status of a context on the head commit."""

    context: str
    state: str  # success | pending | failure | error


@dataclass(frozen=True, slots=True)
class Outcome:
    check: Check
    verdict: Verdict
    value: str  # what was seen: "0.071", "HTTP 500", "failure", "no data"
    threshold: str  # what it had to be: "<= 0.02", "HTTP 200", "success"
    detail: str = ""

    @property
    def title(self) -> str:
        return self.check.title

    def describe(self) -> str:
        """`prometheus <query>: 0.071, needs <= 0.02 (fail)`."""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.title}: {self.value}, needs {self.threshold}: {self.verdict}{extra}"


def overall(outcomes: Iterable[Outcome]) -> Verdict:
    """The worst of the outcomes; no checks pass."""
    worst: Verdict = "pass"
    for o in outcomes:
        if _RANK[o.verdict] > _RANK[worst]:
            worst = o.verdict
    return worst


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def judge_prometheus(guard: PrometheusGuard, reply: Reply) -> Outcome:
    """`GET /api/v1/query`: every sample of the result must lie within the bounds."""

    def out(verdict: Verdict, value: str, detail: str = "") -> Outcome:
        return Outcome(guard, verdict, value, guard.threshold, detail)

    if reply.error is not None:
        return out("inconclusive", "no answer", reply.error)
    try:
        doc = json.loads(reply.body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return out("inconclusive", f"HTTP {reply.status}", "the reply is not Prometheus JSON")
    if doc.get("status") != "success" or reply.status != 200:
        error = str(doc.get("error") or "")[:200]
        return out("inconclusive", f"HTTP {reply.status}", f"Prometheus: {error}".rstrip(": "))
    values = _samples(doc.get("data"))
    if values is None:
        return out("inconclusive", "no data", "the reply holds no vector or scalar")
    numbers = [v for v in values if not math.isnan(v)]
    if not numbers:
        return out("inconclusive", "no data", "the query returned no samples")
    worst = None
    for v in numbers:
        if guard.max is not None and v > guard.max and (worst is None or v > worst):
            worst = v
        if guard.min is not None and v < guard.min and (worst is None or v < worst):
            worst = v
    if worst is not None:
        return out("fail", _fmt(worst))
    shown = max(numbers) if guard.max is not None else min(numbers)
    return out("pass", _fmt(shown))


def _samples(data: object) -> list[float] | None:
    if not isinstance(data, dict):
        return None
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "scalar" and isinstance(result, list):
            return [float(result[1])]
        if kind == "vector" and isinstance(result, list):
            return [float(item["value"][1]) for item in result]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None


def judge_http(guard: HttpGuard, reply: Reply) -> Outcome:
    """The expected status passes; a 5xx or no answer is inconclusive; anything else fails."""
    threshold = f"HTTP {guard.expect}"
    if reply.error is not None or reply.status is None:
        return Outcome(guard, "inconclusive", "no answer", threshold, reply.error or "")
    value = f"HTTP {reply.status}"
    if reply.status == guard.expect:
        return Outcome(guard, "pass", value, threshold)
    if reply.status >= 500:
        return Outcome(guard, "inconclusive", value, threshold, "server error")
    return Outcome(guard, "fail", value, threshold)


def judge_check(
    guard: CheckGuard, runs: Sequence[RunState], statuses: Sequence[StatusState]
) -> Outcome:
    """The head's newest check run and commit status of that name; the worse one counts."""
    found: list[Outcome] = []
    for run in (r for r in runs if r.name == guard.name):
        if run.status != "completed":
            found.append(Outcome(guard, "inconclusive", run.status, "success", "check run pending"))
        elif run.conclusion in PASSING_CONCLUSIONS:
            found.append(Outcome(guard, "pass", str(run.conclusion), "success"))
        elif run.conclusion in FAILING_CONCLUSIONS:
            found.append(Outcome(guard, "fail", str(run.conclusion), "success"))
        else:  # cancelled, stale: it did not say
            found.append(Outcome(guard, "inconclusive", str(run.conclusion), "success"))
    for st in (s for s in statuses if s.context == guard.name):
        verdict: Verdict = (
            "pass"
            if st.state == "success"
            else "fail"
            if st.state in ("failure", "error")
            else "inconclusive"
        )
        found.append(Outcome(guard, verdict, st.state, "success"))
    if not found:
        return Outcome(
            guard,
            "inconclusive",
            "missing",
            "success",
            "no check run or status of that name on the head",
        )
    return max(found, key=lambda o: _RANK[o.verdict])

"""Injected faults and staged races.

A `Fault` matches calls by method and route template
(`"PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"`, `"*"` for any) and optionally by
caller login. It fires on the next `times` matching calls
(after letting `skip` through), or forever, or at a `rate` drawn from a seeded RNG. Kinds:

- `status`: a GitHub-style error with the given status (500/502/503…)
- `latency`: the call is served, `seconds` later
- `secondary_rate_limit`: 403 "You have exceeded a secondary rate limit…" with `Retry-After`
- `too_many_requests`: 429 with `Retry-After`
- `rate_limit`: 403 with `X-RateLimit-Remaining: 0` (primary budget exhausted)

A faulted call is answered before any handler runs, so it changes no state. A `Stage` runs a
Python action just before the Nth matching call is served — e.g. push to the pull request's
head between the bot's read and its merge.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.emulator.errors import ApiError

FaultKind = Literal["status", "latency", "secondary_rate_limit", "too_many_requests", "rate_limit"]
KINDS: tuple[str, ...] = (
    "status",
    "latency",
    "secondary_rate_limit",
    "too_many_requests",
    "rate_limit",
)

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
_STATUS_MESSAGES = {
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _split(target: str) -> tuple[str, str]:
    """ "PUT /repos/…" → ("PUT", "/repos/…"); "/repos/…" → ("*", …); "*" → ("*", "*")."""
    target = target.strip()
    if target == "*":
        return "*", "*"
    method, _, route = target.partition(" ")
    if not route:
        return "*", method
    return method.upper(), route.strip()


@dataclass
class Fault:
    id: int
    kind: FaultKind
    method: str = "*"
    route: str = "*"
    status: int = 500
    message: str | None = None
    times: int | None = 1  # None = every matching call
    rate: float | None = None
    skip: int = 0
    retry_after: int | None = None
    seconds: float = 0.0
    login: str | None = None
    fired: int = 0
    seen: int = 0

    def matches(self, method: str, route: str, login: str | None) -> bool:
        if self.method not in ("*", method) or self.route not in ("*", route):
            return False
        return self.login is None or (login is not None and self.login.lower() == login.lower())

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def error(self, rate_limit_headers: dict[str, str]) -> ApiError:
        if self.kind == "secondary_rate_limit":
            return ApiError(
                403,
                self.message or SECONDARY_MESSAGE,
                documentation_url=SECONDARY_DOCS,
                headers={
                    "Retry-After": str(self.retry_after if self.retry_after is not None else 60)
                },
            )
        if self.kind == "too_many_requests":
            return ApiError(
                429,
                self.message or SECONDARY_MESSAGE,
                documentation_url=SECONDARY_DOCS,
                headers={
                    "Retry-After": str(self.retry_after if self.retry_after is not None else 60)
                },
            )
        if self.kind == "rate_limit":
            headers = dict(rate_limit_headers)
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Used"] = headers.get("X-RateLimit-Limit", "5000")
            return ApiError(
                403,
                self.message or "API rate limit exceeded for installation.",
                documentation_url="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                headers=headers,
            )
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return ApiError(
            self.status,
            self.message or _STATUS_MESSAGES.get(self.status, "Server Error"),
            headers=headers,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": f"{self.method} {self.route}",
            "status": self.status,
            "times": self.times,
            "rate": self.rate,
            "skip": self.skip,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "login": self.login,
            "fired": self.fired,
        }


@dataclass
class Stage:
    """Run `action` just before serving the `nth` matching call (counted from now)."""

    id: int
    method: str
    route: str
    nth: int
    action: Callable[[], Any]
    login: str | None = None
    seen: int = 0
    done: bool = False

    def matches(self, method: str, route: str, login: str | None) -> bool:
        if self.method not in ("*", method) or self.route not in ("*", route):
            return False
        return self.login is None or (login is not None and self.login.lower() == login.lower())


@dataclass
class Decision:
    error: ApiError | None = None
    fault_kind: str | None = None
    latency: float = 0.0
    actions: list[Callable[[], Any]] = field(default_factory=list)
    fault_ids: list[int] = field(default_factory=list)


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.rng = random.Random(seed)
        self.faults: list[Fault] = []
        self.stages: list[Stage] = []

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.rng = random.Random(seed)

    def add(self, target: str = "*", kind: FaultKind = "status", **options: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        method, route = _split(target)
        with self._lock:
            fault = Fault(next(self._ids), kind, method, route, **options)
            self.faults.append(fault)
        return fault

    # convenience spellings -----------------------------------------------------------------
    def fail(self, target: str, status: int = 500, times: int | None = 1, **options: Any) -> Fault:
        """Answer the next `times` calls to `target` with `status` (None: every call)."""
        return self.add(target, "status", status=status, times=times, **options)

    def latency(
        self, target: str, seconds: float, times: int | None = None, **options: Any
    ) -> Fault:
        return self.add(target, "latency", seconds=seconds, times=times, **options)

    def secondary_rate_limit(
        self, target: str = "*", retry_after: int = 60, times: int | None = 1, **options: Any
    ) -> Fault:
        return self.add(
            target,
            "secondary_rate_limit",
            retry_after=retry_after,
            times=times,
            status=403,
            **options,
        )

    def too_many_requests(
        self, target: str = "*", retry_after: int = 60, times: int | None = 1, **options: Any
    ) -> Fault:
        return self.add(
            target, "too_many_requests", retry_after=retry_after, times=times, status=429, **options
        )

    def rate_limited(self, target: str = "*", times: int | None = 1, **options: Any) -> Fault:
        return self.add(target, "rate_limit", times=times, status=403, **options)

    def before_call(
        self, target: str, action: Callable[[], Any], nth: int = 1, login: str | None = None
    ) -> Stage:
        """Run `action` (under the emulator's lock) just before the `nth` next call to `target`."""
        method, route = _split(target)
        with self._lock:
            stage = Stage(next(self._ids), method, route, nth, action, login)
            self.stages.append(stage)
        return stage

    def remove(self, ident: int) -> bool:
        with self._lock:
            before = len(self.faults) + len(self.stages)
            self.faults = [f for f in self.faults if f.id != ident]
            self.stages = [s for s in self.stages if s.id != ident]
            return before != len(self.faults) + len(self.stages)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.stages.clear()

    def decide(
        self, method: str, route: str, login: str | None, rate_limit_headers: dict[str, str]
    ) -> Decision:
        decision = Decision()
        with self._lock:
            for stage in self.stages:
                if not stage.done and stage.matches(method, route, login):
                    stage.seen += 1
                    if stage.seen >= stage.nth:
                        stage.done = True
                        decision.actions.append(stage.action)
            self.stages = [s for s in self.stages if not s.done]
            for fault in self.faults:
                if fault.spent or not fault.matches(method, route, login):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                if fault.rate is not None and self.rng.random() >= fault.rate:
                    continue
                if fault.kind == "latency":
                    fault.fired += 1
                    decision.latency += fault.seconds
                    decision.fault_ids.append(fault.id)
                    continue
                if decision.error is None:
                    fault.fired += 1
                    decision.error = fault.error(rate_limit_headers)
                    decision.fault_kind = fault.kind
                    decision.fault_ids.append(fault.id)
            self.faults = [f for f in self.faults if not f.spent]
        return decision

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [f.describe() for f in self.faults],
                "stages": [
                    {
                        "id": s.id,
                        "target": f"{s.method} {s.route}",
                        "nth": s.nth,
                        "seen": s.seen,
                        "login": s.login,
                    }
                    for s in self.stages
                ],
            }

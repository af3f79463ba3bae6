"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do its job).

Ready means GitHub answered with the credentials accepted recently and the backlog is under
its bound. Every GitHub answer the service gets anyway updates the verdict (`Readiness.saw`),
so a busy service never probes; an idle one, or one whose last answer was a failure, asks
GitHub once (the start-up credential check) when `/readyz` is called, one probe at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

# A success older than this is re-checked by the next /readyz (an idle service).
FRESH_FOR = 60.0


@dataclass
class Readiness:
    """The verdict from the latest GitHub answers; pure, the clock is passed in."""

    backlog_bound: int
    fresh_for: float = FRESH_FOR
    last_ok: float | None = None
    problem: str | None = None  # the latest failure, until a success clears it

    def saw(self, now: float, problem: str | None) -> None:
        if problem is None:
            self.last_ok = now
        self.problem = problem

    def needs_probe(self, now: float) -> bool:
        return (
            self.problem is not None or self.last_ok is None or now - self.last_ok > self.fresh_for
        )

    def verdict(self, backlog: int) -> str | None:
        """None when ready, else the reason."""
        if self.problem is not None:
            return self.problem
        if self.last_ok is None:
            return "GitHub not reached yet"
        if backlog > self.backlog_bound:
            return (
                f"backlog {backlog} is over its bound {self.backlog_bound} (FLAGBOT_READY_BACKLOG)"
            )
        return None


def api_problem(status: int | None, api_url: str) -> str | None:
    """What a GitHub answer says about readiness: None for any answer that shows GitHub
    reachable and the credentials accepted (a 404 or 422 is about the request, not us)."""
    if status is None:
        return f"GitHub unreachable at {api_url}"
    if status == 401:
        return "GitHub refused the credentials (401)"
    if status >= 500:
        return f"GitHub answered {status}"
    return None


@dataclass
class ReadinessCheck:
    """The shell around `Readiness`: probes GitHub when needed, one probe at a time."""

    readiness: Readiness
    probe: Callable[[], Awaitable[str | None]]  # None when GitHub accepts the credentials
    backlog: Callable[[], int]
    clock: Callable[[], float] = time.monotonic
    _running: asyncio.Task[str | None] | None = field(default=None, repr=False)

    async def reason(self) -> str | None:
        if self.readiness.needs_probe(self.clock()):
            if self._running is None or self._running.done():
                self._running = asyncio.create_task(self.probe())
            problem = await asyncio.shield(self._running)
            self.readiness.saw(self.clock(), problem)
        return self.readiness.verdict(self.backlog())

    async def handle(self, request: web.Request) -> web.Response:
        reason = await self.reason()
        backlog = self.backlog()
        if reason is None:
            return web.json_response({"status": "ready", "backlog": backlog})
        return web.json_response(
            {"status": "unready", "reason": reason, "backlog": backlog}, status=503
        )

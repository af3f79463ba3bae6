"""The sweep: every open pull request into a repository's default branch, and every merge
whose announcement a crash left unfinished, reconciled again.

GitHub does not redeliver a failed webhook, so without a sweep a pull request whose delivery
was lost (the service down, killed, or GitHub's retries exhausted) waits for an event that
may never come. Listing is conditional: when nothing changed GitHub answers 304, which costs
no rate limit, and so does each pull request's reconcile when nothing changed on it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.gh.errors import NotOurs
from bot.service.events import Work
from bot.service.pool import ClientPool

log = logging.getLogger("flagbot.sweep")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SweepReport:
    repositories: int
    pulls: int  # open pull requests into a default branch
    unfinished: int  # merges whose announcement was claimed and not completed


async def sweep(
    pool: ClientPool,
    submit: Callable[[Work], None],
    repositories: list[tuple[str, int | None]] | None = None,
) -> SweepReport:
    """Queue every open pull request into each repository's default branch, and each
    unfinished announcement, for a recovering reconcile. `repositories` default: every
    repository the App is installed on."""
    repos = repositories if repositories is not None else await pool.repositories()
    pulls = unfinished = 0
    for repo, installation in repos:
        try:
            gw = await pool.gateway_for(repo, installation)
            default = await gw.default_branch()
            numbers = [int(p["number"]) for p in await gw.open_pulls(default)]
            claimed = await gw.unfinished_announcements()
        except NotOurs as exc:
            log.warning("sweep: skipped %s: %s", repo, exc)
            continue
        for number in dict.fromkeys([*numbers, *claimed]):
            submit(Work(repo, number, installation, recover=True))
        pulls += len(numbers)
        unfinished += len(claimed)
    return SweepReport(len(repos), pulls, unfinished)


class Sweeper:
    """Sweeps at start-up and every `interval` seconds (jittered by up to a tenth, so replicas
    drift apart), one at a time per process."""

    def __init__(
        self,
        run: Callable[[], Awaitable[SweepReport]],
        interval: float,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.run = run
        self.interval = interval
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.lock = asyncio.Lock()
        self.sweeps = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def once(self) -> SweepReport | None:
        """One sweep, unless one is running (then None)."""
        if self.lock.locked():
            return None
        async with self.lock:
            report = await self.run()
            self.sweeps += 1
            log.info(
                "sweep: %d open pull requests and %d unfinished announcements in %d "
                "repositories queued",
                report.pulls,
                report.unfinished,
                report.repositories,
            )
            return report

    def next_delay(self) -> float:
        return self.interval * (1 + self.rng.uniform(-0.1, 0.1))

    async def _loop(self) -> None:
        while True:
            try:
                await self.once()
            except Exception as exc:  # GitHub down: the next sweep tries again
                log.warning("sweep failed: %s: %s", type(exc).__name__, str(exc)[:200])
            await self.sleep(self.next_delay())

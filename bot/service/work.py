"""The work queue: pull requests to reconcile, one at a time per pull request, concurrent
across them, with failed reconciles retried on a capped schedule.

Sleeping is injected, so tests never wait through real backoff. Nothing is lost when retries
run out or the process stops: the pull request is still open on GitHub, and the next sweep
finds it (a merged one by its unfinished announcement claim).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractContextManager

from gidgethub import GitHubException

from bot.gh.errors import NotOurs
from bot.gh.retry import RetryPolicy
from bot.service.events import Work
from bot.service.instruments import Reconcile, unwatched
from bot.service.queue import KeyedQueue
from bot.service.reconcile import Outcome

log = logging.getLogger("flagbot.service")

RECONCILE_ATTEMPTS = 5
Key = tuple[str, int]
Sleep = Callable[[float], Awaitable[None]]


def backoff(failures: int, policy: RetryPolicy) -> float:
    """Seconds before reconcile try `failures + 1`: exponential, never past the policy's cap."""
    return min(policy.cap, policy.base * 4**failures)


class WorkQueue:
    def __init__(
        self,
        reconcile: Callable[..., Awaitable[Outcome]],
        *,
        workers: int,
        retry: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
        watch: Callable[[Key], AbstractContextManager[Reconcile]] = unwatched,
    ) -> None:
        self.reconcile = reconcile
        self.watch = watch  # log context, metrics and the summary line of each reconcile
        self.retry = retry
        self.sleep = sleep
        self.queue = KeyedQueue(self._work, workers=workers)
        self.installations: dict[Key, int | None] = {}
        self.fresh: set[Key] = set()
        self.recover: set[Key] = set()
        self.outcomes: deque[Outcome] = deque(maxlen=100)  # the latest, for logs and tests
        # told of each reconcile: its outcome, or None when it failed
        self.listeners: list[Callable[[Key, Outcome | None], None]] = []
        self._failures: dict[Key, int] = {}
        self._retries: dict[Key, asyncio.Task[None]] = {}

    def start(self) -> None:
        self.queue.start()

    async def stop(self) -> None:
        for task in list(self._retries.values()):
            task.cancel()
        await asyncio.gather(*self._retries.values(), return_exceptions=True)
        await self.queue.stop()

    def submit(self, item: Work) -> None:
        key = (item.repo, item.number)
        self.installations[key] = item.installation_id
        if item.fresh:
            self.fresh.add(key)
        if item.recover:
            self.recover.add(key)
        self.queue.submit(key)

    @property
    def pending(self) -> int:
        """Pull requests waiting for, in, or waiting to retry a reconcile."""
        return self.queue.pending + len(self._retries)

    def unfinished(self) -> list[Key]:
        """Every pull request acknowledged work is still owed to (for the shutdown log)."""
        return sorted({*self.queue.keys(), *self._retries})  # type: ignore[arg-type]

    async def drain(self) -> None:
        """Until nothing is queued, running or waiting to be retried."""
        while True:
            await self.queue.drain()
            if self._retries:  # `wait`, not `gather`: a drain given up on cancels no retry
                await asyncio.wait(list(self._retries.values()))
            elif not self.queue.pending:
                return

    async def _work(self, key: Hashable) -> None:
        repo, number = key  # type: ignore[misc]
        k: Key = (repo, number)
        fresh, recover = k in self.fresh, k in self.recover
        self.fresh.discard(k)
        self.recover.discard(k)
        with self.watch(k) as seen:  # its one summary line says what came of it
            try:
                outcome = await self.reconcile(
                    repo, number, self.installations.get(k), fresh=fresh, recover=recover
                )
            except NotOurs as exc:  # not this App's to act on: one line, no retry
                seen.result = "not_ours"
                log.warning("ignored %s#%s: %s", repo, number, exc)
                self._tell(k, None)
                return
            except Exception as exc:
                self._tell(k, None)
                if fresh:  # still owed: the retry starts the re-requested check's new run
                    self.fresh.add(k)
                self._retry_later(k, exc)
                return
            seen.decided(outcome)
        self._tell(k, outcome)
        self.outcomes.append(outcome)
        if outcome.retry:  # the head or base kept moving under it: again, on the schedule
            self._retry_later(k, MovedUnder("the head or base kept moving during the reconcile"))
        else:
            self._failures.pop(k, None)

    def _tell(self, key: Key, outcome: Outcome | None) -> None:
        for listener in self.listeners:
            listener(key, outcome)

    def _retry_later(self, key: Key, exc: Exception) -> None:
        """GitHub kept failing past the client's retries: try the whole reconcile again later,
        since no further webhook may come for this pull request."""
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        repo, number = key
        if failures > RECONCILE_ATTEMPTS:
            log.error(
                "%s#%s: %d reconciles failed (last: %s); left for the next sweep",
                repo,
                number,
                failures,
                _short(exc),
            )
            self._failures.pop(key, None)
            return
        delay = backoff(failures, self.retry)
        log.warning(
            "%s#%s: reconcile failed (%s); trying again in %.1fs", repo, number, _short(exc), delay
        )
        if _is_bug(exc):
            log.error("%s#%s: reconcile failed", repo, number, exc_info=exc)

        async def later() -> None:
            try:
                await self.sleep(delay)
            finally:
                self._retries.pop(key, None)
            self.queue.submit(key)

        if key not in self._retries:
            self._retries[key] = asyncio.create_task(later())


class MovedUnder(Exception):
    """A reconcile ran out of rounds: each one's merge found the head or base moved."""


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _is_bug(exc: Exception) -> bool:
    """GitHub's errors and lost connections are GitHub's; anything else is worth a
    traceback."""
    return not isinstance(
        exc, GitHubException | ConnectionError | OSError | TimeoutError | MovedUnder
    )

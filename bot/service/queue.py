"""Per-pull-request work queue: concurrent across pull requests, serial within one.

Webhooks for one pull request often arrive in bursts (a review and its check-run update, or the
same delivery redelivered). Work is keyed by pull request: a key already waiting absorbs new
requests; a key being worked on is run once more afterwards, because the event that arrived
may have changed what the first run read. Across processes, the merge's `sha` guard keeps
concurrent copies safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class KeyedQueue:
    def __init__(self, work: Callable[[Hashable], Awaitable[None]], workers: int = 8) -> None:
        self._work = work
        self._workers = workers
        self._ready: asyncio.Queue[Hashable] = asyncio.Queue()
        self._queued: set[Hashable] = set()  # waiting in _ready
        self._running: set[Hashable] = set()
        self._again: set[Hashable] = set()  # submitted while running
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def submit(self, key: Hashable) -> None:
        if key in self._running:
            self._again.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._idle.clear()
            self._ready.put_nowait(key)

    async def drain(self) -> None:
        """Wait until nothing is queued or running (tests, graceful shutdown)."""
        await self._idle.wait()

    def keys(self) -> set[Hashable]:
        """Every key waiting or being worked on."""
        return self._queued | self._running

    @property
    def pending(self) -> int:
        return len(self._queued) + len(self._running)

    async def _worker(self) -> None:
        while True:
            key = await self._ready.get()
            self._queued.discard(key)
            self._running.add(key)
            try:
                await self._work(key)
            except Exception:  # the service stays up; the next event reconciles again
                log.exception("reconcile of %s failed", key)
            finally:
                self._running.discard(key)
                if key in self._again:
                    self._again.discard(key)
                    self.submit(key)
                if not self._queued and not self._running:
                    self._idle.set()

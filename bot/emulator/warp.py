"""Waiting on the emulator's clock without waiting in real time, so a benchmark or a test can
run code that waits out GitHub's limits for an hour in seconds.

`Warp.sleep` is a drop-in for `asyncio.sleep` (inject it as the service's `sleep`). Sleepers
wake in order of their end on the emulator's clock. The clock keeps flowing in real time (so
real work, network latency included, takes simulated time too); it jumps ahead to the earliest
sleeper's end only once the emulated GitHub has been quiet (no call answered, no webhook
queued) for `quiet` real seconds, so a jump skips only time in which nothing was happening,
as a discrete-event simulation would. Work that is busy without calling GitHub for longer
than `quiet` is overtaken by a jump and finishes later on the clock than it would have: the
simulated times are upper bounds, never flattering.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from contextlib import suppress
from typing import TYPE_CHECKING

from bot.emulator.clock import Clock

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator


class Warp:
    def __init__(self, clock: Clock, *, quiet: float = 0.5) -> None:
        self.clock = clock
        self.quiet = quiet  # real seconds without GitHub activity before the clock may jump
        self.skipped = 0.0  # simulated seconds jumped over, in total
        self.jumps = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []  # a heap by end
        self._order = itertools.count()
        self._active = time.monotonic()
        self._driver: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @classmethod
    def over(cls, emulator: Emulator, *, quiet: float = 0.5) -> Warp:
        """A warp of `emulator`'s clock that hears its calls and webhooks."""
        warp = cls(emulator.clock, quiet=quiet)
        emulator.calls.listeners.append(warp.heard)
        emulator.webhooks.listeners.append(warp.heard)
        return warp

    def heard(self, *_: object) -> None:
        """GitHub did something (a listener for the call log and the webhooks)."""
        self._active = time.monotonic()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.clock.timestamp() + seconds, next(self._order), woken))
        self._changed.set()
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive())
        await woken  # a cancelled sleeper's future is skipped when its turn comes

    async def _drive(self) -> None:
        while self._sleepers:
            end = self._sleepers[0][0]
            now = self.clock.timestamp()
            idle = time.monotonic() - self._active
            if end <= now:
                self._wake(now)
            elif idle >= self.quiet:
                self.clock.advance(end - now)
                self.skipped += end - now
                self.jumps += 1
                self._wake(self.clock.timestamp())
            else:
                self._changed.clear()
                wait = min(self.quiet - idle, end - now)
                with suppress(TimeoutError):  # a new, earlier sleeper may arrive meanwhile
                    await asyncio.wait_for(self._changed.wait(), wait)

    def _wake(self, now: float) -> None:
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)
        self._active = time.monotonic()  # the woken go first: they need a quiet spell to pass

"""Pacing one installation's calls under GitHub's limits, so a burst is slowed by us instead of
refused by GitHub.

GitHub documents secondary limits on content-creating requests (every POST, PATCH, PUT and
DELETE): no more than 80 in a minute and 500 in an hour. Writes wait their turn in a line, the
urgent ones (merges) ahead of the rest; a write goes out as soon as every window has room
(`next_slot`, a pure function), each write counted from its answer. Being first in line is
not enough in a burst (a merge's worker reads between merges, and announcements would take
each freed place meanwhile), so the rest also leave as many places free as merges recently
used, down to a share they always keep. A refusal's
`Retry-After`, or a spent primary budget until `x-ratelimit-reset`, pauses the line (or every
call) for everyone, not just the caller.
Reads run concurrently up to a limit. Clock and sleep are injected.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from bisect import bisect_right
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    seconds: float
    limit: int


# GitHub's secondary limits on content-creating requests (REST "Rate limits").
GITHUB_WRITE_WINDOWS = (Window(60.0, 80), Window(3600.0, 500))
READ_CONCURRENCY = 16  # GitHub allows 100 concurrent requests per identity, all kinds together
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_URGENT: ContextVar[bool] = ContextVar("flagbot_urgent_write", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """Writes made inside go ahead of the line's other writes (a merge before announcements)."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    return _URGENT.get()


# Of each window, the share other writes may always use, however many merges went lately.
OTHER_SHARE = 0.1


def next_slot(
    sent: Sequence[float],
    now: float,
    windows: Sequence[Window],
    in_flight: int = 0,
    held_for: Sequence[float] = (),
) -> float:
    """The earliest time from `now` when one more write keeps every window within its limit;
    infinity when writes still in flight fill a window (wait for their answers).

    `sent`: when earlier writes were answered, oldest first (none later than `now`). A write
    counts from its answer, not its departure: GitHub stamps it somewhere in between, so a
    window measured from answers is never shorter than GitHub's. In-flight writes count as
    sent now.

    `held_for`: when recent urgent writes (merges, claims) were answered, for a write that is
    not urgent. As many places as a window holds urgent writes are kept free for more of
    them (all but `OTHER_SHARE` of the window at most): during a burst of merges,
    announcements do not take the room the next merges need, yet always keep a share."""
    sent = list(sent)
    held = list(held_for)
    if all(_fits(w, now, sent, held, in_flight) for w in windows):
        return now  # the usual answer: no need to list the moments places free up
    times = {now}
    for w in windows:
        times.update(t + w.seconds for t in (*sent, *held) if t + w.seconds > now)
    for at in sorted(times):
        if all(_fits(w, at, sent, held, in_flight) for w in windows):
            return at
    return float("inf")


def _fits(w: Window, at: float, sent: list[float], held: list[float], in_flight: int) -> bool:
    """Whether one more write at `at` keeps window `w` within its limit and, unless other
    writes have had less than their share of it, leaves the places kept for urgent writes
    free. Answers at or before `at - w.seconds` have left the window."""
    since = at - w.seconds
    used = len(sent) - bisect_right(sent, since) + in_flight
    if used + 1 > w.limit:
        return False
    kept = len(held) - bisect_right(held, since)  # urgent writes in the window: as many again
    others = used - kept
    return used + 1 + kept <= w.limit or others < max(1, int(w.limit * OTHER_SHARE))


class Pacer:
    """One installation's line of writes and its pool of concurrent reads."""

    def __init__(
        self,
        windows: Sequence[Window] = GITHUB_WRITE_WINDOWS,
        *,
        reads: int = READ_CONCURRENCY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.windows = tuple(windows)
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque(maxlen=max((w.limit for w in windows), default=1))
        self._urgent_sent: deque[float] = deque(maxlen=self._sent.maxlen)  # merges, claims
        self._line: list[tuple[int, int]] = []  # (0 urgent | 1 normal, arrival), a heap
        self._arrivals = itertools.count()
        self._moved = asyncio.Event()
        self._flying = 0  # writes sent and not yet answered
        self._reads = asyncio.Semaphore(reads)
        self.writes_paused_until = 0.0
        self.all_paused_until = 0.0
        self.waited = 0.0  # seconds writes spent in line, summed (for benchmarks and logs)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        async with self._reads:
            await self._until(self.all_paused_until)
            yield

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Wait for this write's turn and room in every window; the write is made inside the
        block and counted from when it was answered."""
        await self._turn(urgent)
        self._flying += 1
        try:
            yield
        finally:
            self._flying -= 1
            answered = self.clock()
            self._sent.append(answered)
            if urgent:
                self._urgent_sent.append(answered)
            self._wake()

    async def _turn(self, urgent: bool) -> None:
        ticket = (0 if urgent else 1, next(self._arrivals))
        heapq.heappush(self._line, ticket)
        started = self.clock()
        try:
            while True:
                now = self.clock()
                paused = max(self.writes_paused_until, self.all_paused_until)
                held = () if urgent else self._urgent_sent
                at = max(next_slot(self._sent, now, self.windows, self._flying, held), paused)
                if self._line[0] != ticket or at == float("inf"):
                    await self._moved.wait()  # someone ahead went, or a write was answered
                elif at <= now:
                    heapq.heappop(self._line)
                    self.waited += now - started
                    return
                else:
                    await self.sleep(at - now)
        finally:
            if ticket in self._line:  # cancelled while waiting
                self._line.remove(ticket)
                heapq.heapify(self._line)
            self._wake()

    def _wake(self) -> None:
        """Whoever waits in line looks again."""
        self._moved.set()
        self._moved = asyncio.Event()

    def pause_writes(self, until: float) -> None:
        """GitHub refused a write with a secondary limit: no write before `until`."""
        self.writes_paused_until = max(self.writes_paused_until, until)

    def pause_all(self, until: float) -> None:
        """The primary budget is spent: no call at all before `until` (its reset)."""
        self.all_paused_until = max(self.all_paused_until, until)

    async def _until(self, when: float) -> None:
        while (now := self.clock()) < when:
            await self.sleep(when - now)

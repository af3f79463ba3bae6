"""GitHub's secondary limit on content-creating requests: at most 80 a minute and 500 an hour
per identity (every POST, PATCH, PUT and DELETE counts, check runs included). A request over
either limit is refused with 403 "You have exceeded a secondary rate limit…" and a
`Retry-After` saying when the oldest request in the full window leaves it. A refused request
changes nothing and does not count. Time is the emulator's clock, so tests advance it instead
of waiting.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.emulator.errors import ApiError
from bot.emulator.faults import SECONDARY_DOCS, SECONDARY_MESSAGE

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Window:
    seconds: float
    limit: int


def wait_for_room(sent: deque[float], now: float, windows: tuple[Window, ...]) -> float:
    """Seconds until one more request fits every window (0: now). `sent` holds the times of
    accepted requests, oldest first; only the last `max(limit)` matter."""
    wait = 0.0
    for w in windows:
        if w.limit <= 0:
            return math.inf
        recent = [t for t in sent if now - t < w.seconds]
        if len(recent) >= w.limit:
            # room comes when the request `limit` places from the end leaves the window
            wait = max(wait, recent[-w.limit] + w.seconds - now)
    return wait


class SecondaryLimiter:
    """Counts accepted content-creating requests per identity (`Actor.budget_key`)."""

    def __init__(self, windows: Callable[[], tuple[Window, ...]], now: Callable[[], float]):
        self.windows = windows  # read on every call, so changed options apply at once
        self.now = now
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self, key: str, method: str) -> None:
        """Count a write, or raise GitHub's refusal when it would exceed a limit."""
        if method not in WRITES:
            return
        windows = self.windows()
        now = self.now()
        keep = max((w.limit for w in windows), default=0)
        with self._lock:
            sent = self._sent.setdefault(key, deque())
            longest = max((w.seconds for w in windows), default=0.0)
            while sent and now - sent[0] >= longest:
                sent.popleft()
            wait = wait_for_room(sent, now, windows)
            if wait > 0:
                self.refused += 1
                retry = "3600" if math.isinf(wait) else str(max(1, math.ceil(wait)))
                raise ApiError(
                    403,
                    SECONDARY_MESSAGE,
                    documentation_url=SECONDARY_DOCS,
                    headers={"Retry-After": retry},
                )
            sent.append(now)
            while len(sent) > keep:
                sent.popleft()

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self.refused = 0

"""The primary rate limit: a budget per identity per hour, reported in `X-RateLimit-*` headers.

A call is charged after it is served; a `304 Not Modified` is not charged (GitHub: conditional
requests answered with 304 do not count). When the budget is spent GitHub answers 403 with
`X-RateLimit-Remaining: 0` and "API rate limit exceeded…".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.emulator.errors import ApiError

WINDOW = 3600
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class Budget:
    limit: int
    used: int
    reset: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class RateLimiter:
    def __init__(
        self, limit: int = 5000, anonymous_limit: int = 60, now: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.anonymous_limit = anonymous_limit
        self.now = now
        self._budgets: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def budget(self, key: str) -> Budget:
        current = int(self.now())
        with self._lock:
            b = self._budgets.get(key)
            if b is None or b.reset <= current:
                limit = self.anonymous_limit if key == "anonymous" else self.limit
                b = Budget(limit, 0, current + WINDOW)
                self._budgets[key] = b
            return b

    def check(self, key: str, who: str) -> None:
        b = self.budget(key)
        if b.remaining <= 0:
            raise ApiError(
                403,
                f"API rate limit exceeded for {who}. (But here's the good news: Authenticated "
                "requests get a higher rate limit. Check out the documentation for more details.)",
                documentation_url=DOCS,
                headers=self.headers(key),
            )

    def charge(self, key: str) -> None:
        b = self.budget(key)
        with self._lock:
            b.used += 1

    def exhaust(self, key: str) -> None:
        b = self.budget(key)
        with self._lock:
            b.used = b.limit

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._budgets.clear()
            else:
                self._budgets.pop(key, None)

    def headers(self, key: str) -> dict[str, str]:
        b = self.budget(key)
        return {
            "X-RateLimit-Limit": str(b.limit),
            "X-RateLimit-Remaining": str(b.remaining),
            "X-RateLimit-Reset": str(b.reset),
            "X-RateLimit-Used": str(min(b.used, b.limit)),
            "X-RateLimit-Resource": "core",
        }

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                k: {"limit": b.limit, "used": b.used, "remaining": b.remaining, "reset": b.reset}
                for k, b in self._budgets.items()
            }

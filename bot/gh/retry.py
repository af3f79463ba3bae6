"""When to retry a GitHub call and how long to wait: a pure function of the response.

GitHub documents (REST "Rate limits" and "Best practices"): honour `retry-after`; when
`x-ratelimit-remaining` is 0 wait until `x-ratelimit-reset`; otherwise, for a secondary limit,
wait at least a minute, then back off exponentially. 5xx and dropped connections are retried
with exponential backoff and full jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base: float = 0.5  # seconds before the first retry of a transient error
    cap: float = 30.0  # never back off longer than this between tries
    max_wait: float = 120.0  # a rate-limit wait longer than this is not worth it: give up
    secondary_default: float = 60.0  # no retry-after on a secondary limit


DEFAULT_POLICY = RetryPolicy()


def retry_delay(
    status: int | None,
    headers: Mapping[str, str],
    attempt: int,
    now: float,
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    message: str = "",
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next try, or None to give up. `status` None = no response
    (connection error or timeout). `attempt` counts tries made so far (1-based)."""
    if attempt >= policy.attempts:
        return None
    r = rng or random
    limited = status == 429 or (
        status == 403
        and (
            "retry-after" in headers
            or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in message.lower()
        )
    )
    if limited:
        wait = _rate_limit_wait(headers, now, policy)
        if wait is None or wait > policy.max_wait:
            return None
        return wait + r.uniform(0, min(1.0, wait / 10 + 0.1))  # spread out the herd
    if status is None or 500 <= status <= 599:
        return r.uniform(0, min(policy.cap, policy.base * 2 ** (attempt - 1)))
    return None


def _rate_limit_wait(headers: Mapping[str, str], now: float, policy: RetryPolicy) -> float | None:
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return policy.secondary_default
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - now) + 1.0
        except (KeyError, ValueError):
            return None
    return policy.secondary_default

"""The emulator's clock: every timestamp it records (commits it makes, reviews, check runs,
deliveries) comes from here, so tests and the demo can run on simulated time.

It follows real UTC time by default; it can be offset (time still flows) or frozen at an
instant (and advanced by hand). Authentication expiry (JWTs, installation tokens) deliberately
uses wall time instead: clients compare those against their own real clocks.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant as GitHub accepts it (`2024-01-02T03:04:05Z`, offsets allowed)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    @staticmethod
    def _real() -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        """To the second, as GitHub shows time."""
        return self._instant().replace(microsecond=0)

    def timestamp(self) -> float:
        """Epoch seconds to the microsecond: for code that paces itself by this clock (a
        pacer reading whole seconds would oversleep by up to one)."""
        return self._instant().timestamp()

    def _instant(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else self._real() + self._offset

    def set(self, instant: datetime | str) -> None:
        """Freeze the clock at `instant`; it stays there until advanced or released."""
        if isinstance(instant, str):
            instant = parse_time(instant)
        with self._lock:
            self._frozen = instant.astimezone(UTC)

    def advance(self, delta: timedelta | float) -> None:
        """Move the clock forward (seconds or a timedelta), frozen or not."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def set_offset(self, delta: timedelta | float) -> None:
        """Run `delta` ahead of (or behind) real time, flowing."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        with self._lock:
            self._frozen = None
            self._offset = delta

    def release(self) -> None:
        """Back to real time."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    def describe(self) -> dict:
        with self._lock:
            frozen = self._frozen is not None
            offset = self._offset.total_seconds()
        return {"now": iso(self.now()), "frozen": frozen, "offset_seconds": offset}

"""Which webhook deliveries to redeliver: GitHub's documented recovery, as a pure function.

GitHub lists every attempt of every delivery (`GET /app/hook/deliveries`); attempts of one
event share its `guid`. An event is redelivered when none of its attempts succeeded (a status
code in 200-399, GitHub's own classification), once, by its latest attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Redelivery:
    delivery_id: int  # the attempt to redeliver (the event's latest)
    guid: str
    event: str
    action: str | None
    delivered_at: datetime | None
    status: str


def succeeded(attempt: Mapping[str, Any]) -> bool:
    code = attempt.get("status_code") or 0
    return 200 <= int(code) < 400


def to_redeliver(attempts: Iterable[Mapping[str, Any]], since: datetime) -> list[Redelivery]:
    """Events first attempted at or after `since` with no successful attempt, oldest first."""
    by_guid: dict[str, list[Mapping[str, Any]]] = {}
    for a in attempts:
        by_guid.setdefault(str(a.get("guid", "")), []).append(a)
    out = []
    for guid, tries in by_guid.items():
        if not guid or any(succeeded(t) for t in tries):
            continue
        first = min((_when(t) for t in tries if _when(t)), default=None)
        if first is None or first < since:
            continue
        latest = max(tries, key=lambda t: int(t["id"]))
        out.append(
            Redelivery(
                int(latest["id"]),
                guid,
                str(latest.get("event", "")),
                latest.get("action"),
                _when(latest),
                str(latest.get("status", "")),
            )
        )
    return sorted(out, key=lambda r: r.delivery_id)


def _when(attempt: Mapping[str, Any]) -> datetime | None:
    text = attempt.get("delivered_at")
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))

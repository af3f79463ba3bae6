"""Announcements handed off after a merge: drained, and a failed one reconciled again."""

from __future__ import annotations

import asyncio

from bot.service.announcing import Announcements
from bot.service.reconcile import Outcome

KEY = ("acme/flags", 7)


async def test_an_announcement_in_flight_is_held_and_drained():
    failed: list[tuple[str, int]] = []
    gate = asyncio.Event()
    ann = Announcements(failed.append)

    async def announce() -> Outcome:
        await gate.wait()
        return Outcome(7, None, notified=True, actions=("Claim", "Announce"))

    ann.hand(KEY, announce())
    await asyncio.sleep(0)
    assert ann.holds(KEY) and ann.pending == 1 and ann.unfinished() == [KEY]
    gate.set()
    await ann.drain()
    assert not ann.holds(KEY) and ann.pending == 0 and failed == []
    assert [o.notified for o in ann.finished] == [True]


async def test_a_failed_announcement_is_handed_back_not_held():
    seen: list[bool] = []
    ann = Announcements(lambda key: seen.append(ann.holds(key)))

    async def announce() -> Outcome:
        raise ConnectionError("GitHub went away")

    ann.hand(KEY, announce())
    await ann.drain()
    # handed back for a reconcile, which must not see it as still in flight
    assert seen == [False] and ann.pending == 0 and not ann.finished

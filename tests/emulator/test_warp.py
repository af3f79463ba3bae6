"""Waits on the emulator's clock that take no real time (`bot.emulator.warp`)."""

from __future__ import annotations

import asyncio

from bot.emulator.clock import Clock
from bot.emulator.warp import Warp

START = "2026-01-05T10:00:00Z"


def frozen() -> Clock:
    clock = Clock()
    clock.set(START)
    return clock


async def test_sleepers_wake_in_order_of_their_ends_on_the_clock() -> None:
    clock = frozen()
    warp = Warp(clock, quiet=0.01)
    start = clock.timestamp()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await warp.sleep(seconds)
        woke.append((name, clock.timestamp() - start))

    await asyncio.wait_for(
        asyncio.gather(sleeper("hour", 3600), sleeper("minute", 60), sleeper("second", 1)), 10
    )
    assert woke == [("second", 1.0), ("minute", 60.0), ("hour", 3600.0)]
    assert warp.skipped == 3600.0 and warp.jumps == 3


async def test_the_clock_does_not_jump_while_github_is_busy() -> None:
    clock = frozen()
    warp = Warp(clock, quiet=5.0)
    start = clock.timestamp()
    sleeping = asyncio.create_task(warp.sleep(60))
    for _ in range(10):  # GitHub answers a call every 10 ms
        warp.heard()
        await asyncio.sleep(0.01)
    assert not sleeping.done() and clock.timestamp() == start
    warp.quiet = 0.01  # now GitHub goes quiet
    await asyncio.wait_for(sleeping, 10)
    assert clock.timestamp() == start + 60


async def test_time_that_flows_wakes_a_sleeper_without_a_jump() -> None:
    clock = Clock()  # real time
    warp = Warp(clock, quiet=60.0)  # GitHub never goes quiet long enough for a jump
    await asyncio.wait_for(warp.sleep(0.05), 10)
    assert warp.jumps == 0


async def test_a_cancelled_sleeper_holds_nobody_up() -> None:
    clock = frozen()
    warp = Warp(clock, quiet=0.01)
    gone = asyncio.create_task(warp.sleep(10))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(warp.sleep(20), 10)
    assert gone.cancelled()

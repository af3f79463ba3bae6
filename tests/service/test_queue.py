"""The keyed queue: one run at a time per key, bursts coalesce, other keys run alongside."""

import asyncio

from bot.service.queue import KeyedQueue


async def test_burst_for_one_key_coalesces_and_runs_serially():
    runs: list[str] = []
    active = 0
    peak = 0
    gate = asyncio.Event()

    async def work(key):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        runs.append(key)
        await gate.wait()
        active -= 1

    q = KeyedQueue(work, workers=4)
    q.start()
    try:
        for _ in range(10):
            q.submit("pr-1")
        await asyncio.sleep(0.01)  # first run started, nine submissions absorbed
        for _ in range(10):
            q.submit("pr-1")  # arrive while running: exactly one more run
        gate.set()
        await q.drain()
    finally:
        await q.stop()
    assert runs == ["pr-1", "pr-1"]
    assert peak == 1


async def test_different_keys_run_concurrently():
    started = set()
    both = asyncio.Event()

    async def work(key):
        started.add(key)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 2)

    q = KeyedQueue(work, workers=2)
    q.start()
    try:
        q.submit("a")
        q.submit("b")
        await asyncio.wait_for(q.drain(), 3)
    finally:
        await q.stop()
    assert started == {"a", "b"}


async def test_a_failing_run_does_not_stop_the_queue():
    seen = []

    async def work(key):
        seen.append(key)
        if key == "bad":
            raise RuntimeError("boom")

    q = KeyedQueue(work, workers=1)
    q.start()
    try:
        q.submit("bad")
        q.submit("good")
        await q.drain()
    finally:
        await q.stop()
    assert seen == ["bad", "good"]

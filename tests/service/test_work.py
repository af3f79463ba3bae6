"""The work queue's retry schedule, on an injected sleep: capped, and never a drop."""

import logging

from bot.gh.retry import RetryPolicy
from bot.service.events import Work
from bot.service.reconcile import Outcome
from bot.service.work import RECONCILE_ATTEMPTS, WorkQueue, backoff


def test_backoff_grows_and_honours_the_cap():
    policy = RetryPolicy(base=0.5, cap=30.0)
    assert [backoff(f, policy) for f in range(1, 6)] == [2.0, 8.0, 30.0, 30.0, 30.0]


async def test_failing_reconciles_retry_on_the_schedule_then_wait_for_the_sweep(caplog):
    waits: list[float] = []
    tries: list[tuple[str, int, bool]] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def reconcile(repo, number, installation_id, *, fresh, recover):
        tries.append((repo, number, recover))
        raise ConnectionError("GitHub is down")

    policy = RetryPolicy(base=0.5, cap=30.0)
    work = WorkQueue(reconcile, workers=2, retry=policy, sleep=sleep)
    work.start()
    try:
        with caplog.at_level(logging.WARNING, logger="flagbot.service"):
            work.submit(Work("acme/flags", 7, None, recover=True))
            await work.drain()
    finally:
        await work.stop()
    assert waits == [backoff(f, policy) for f in range(1, RECONCILE_ATTEMPTS + 1)]
    assert max(waits) == policy.cap
    assert len(tries) == RECONCILE_ATTEMPTS + 1
    assert tries[0] == ("acme/flags", 7, True) and not any(r for _, _, r in tries[1:])
    [last] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "left for the next sweep" in last.getMessage() and last.exc_info is None
    assert work.unfinished() == []


async def test_a_success_after_failures_resets_the_count():
    results = [ConnectionError("down"), Outcome(7, None)]

    async def reconcile(repo, number, installation_id, *, fresh, recover):
        r = results.pop(0)
        if isinstance(r, Exception):
            raise r
        return r

    async def sleep(seconds: float) -> None:
        pass

    work = WorkQueue(reconcile, workers=1, retry=RetryPolicy(), sleep=sleep)
    work.start()
    try:
        work.submit(Work("acme/flags", 7, None))
        await work.drain()
    finally:
        await work.stop()
    assert [o.number for o in work.outcomes] == [7]


async def test_a_head_that_keeps_moving_is_tried_again_on_the_schedule_not_in_a_loop(caplog):
    """A reconcile that ran out of rounds (the head or base moved under each of them) is
    tried again after a backoff, and left to the sweep like a failure: never in a hot loop
    that spends the rate limit."""
    import asyncio

    waits: list[float] = []
    tries: list[int] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def reconcile(repo, number, installation_id, *, fresh, recover):
        tries.append(number)
        await asyncio.sleep(0)
        return Outcome(number, None, retry=True)

    policy = RetryPolicy(base=0.5, cap=30.0)
    work = WorkQueue(reconcile, workers=1, retry=policy, sleep=sleep)
    work.start()
    try:
        with caplog.at_level(logging.WARNING, logger="flagbot.service"):
            work.submit(Work("acme/flags", 7, None))
            await asyncio.wait_for(work.drain(), 5)
    finally:
        await work.stop()
    assert len(tries) == RECONCILE_ATTEMPTS + 1
    assert waits == [backoff(f, policy) for f in range(1, RECONCILE_ATTEMPTS + 1)]
    assert any("left for the next sweep" in r.getMessage() for r in caplog.records)

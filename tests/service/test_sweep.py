"""The sweep: finds what lost deliveries left behind, costs nothing when nothing changed, and
runs one at a time on a jittered interval."""

import asyncio
import random

from bot.service.sweep import Sweeper, SweepReport
from tests.service.conftest import NEW_FLAG, REPO, ROOT

FLAG = (ROOT / NEW_FLAG).read_text()
BOT = "flagbot[bot]"


def deaf(h, deaf: bool) -> None:
    with h.emulator.lock:
        for hook in h.emulator.state.hooks.values():
            hook.active = not deaf


async def test_a_sweep_finds_unheard_pull_requests_and_costs_nothing_when_nothing_changed(harness):
    h = harness
    deaf(h, True)
    numbers = [
        h.open("dev", {f"flags/s{i}.yaml": FLAG}, branch=f"s{i}", title=f"Flag {i}")
        for i in range(3)
    ]
    h.person("mgr").approve(REPO, numbers[0])
    h.person("qa").approve(REPO, numbers[0])
    deaf(h, False)
    h.emulator.clock.advance(5)  # GitHub's seconds: what changed settled before the sweep
    report = await h.service.sweep()
    await h.settle()
    assert report == SweepReport(repositories=1, pulls=3, unfinished=0)
    assert h.pull(numbers[0])["merged"]
    assert [h.title(n) for n in numbers[1:]] == ["Waiting for manager approval"] * 2
    h.emulator.clock.advance(5)
    await h.service.sweep()  # reads back the check runs it wrote
    await h.settle()
    mark = len(h.emulator.calls.calls())
    report = await h.service.sweep()
    await h.settle()
    calls = [c for c in h.emulator.calls.calls()[mark:] if c.login == BOT]
    assert calls and [c for c in calls if c.charged] == []  # every answer a free 304
    assert (report.pulls, report.unchanged) == (2, 2)  # not even read again
    # A change GitHub did not tell flagbot about is still found: the pull request moved.
    deaf(h, True)
    h.person("mgr").approve(REPO, numbers[1])
    h.person("qa").approve(REPO, numbers[1])
    deaf(h, False)
    report = await h.service.sweep()  # in the same second: not taken for unchanged
    await h.settle()
    assert report.unchanged == 1 and h.pull(numbers[1])["merged"]


async def test_the_sweeper_runs_at_start_then_on_a_jittered_interval_one_at_a_time():
    waits: list[float] = []
    runs = 0
    release = asyncio.Event()

    async def run() -> SweepReport:
        nonlocal runs
        runs += 1
        await release.wait()
        return SweepReport(1, 0, 0)

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) >= 3:
            await asyncio.Event().wait()  # park the loop
        await asyncio.sleep(0)

    sweeper = Sweeper(run, 600.0, sleep=sleep, rng=random.Random(1))
    sweeper.start()
    await asyncio.sleep(0)
    assert runs == 1  # at start-up, before any wait
    assert await sweeper.once() is None  # one at a time: a second sweep does not start
    release.set()
    for _ in range(50):
        await asyncio.sleep(0)
    await sweeper.stop()
    assert runs == 3 and sweeper.sweeps == 3
    assert all(540 <= w <= 660 for w in waits) and len(set(waits)) == len(waits)


def test_the_memo_forgets_on_failure_on_change_when_due_and_after_an_hour():
    from datetime import UTC, datetime, timedelta

    from bot.service.reconcile import Outcome
    from bot.service.sweep import REREAD_AFTER, SweepMemo

    t = datetime(2026, 12, 1, tzinfo=UTC)
    key, sig = ("acme/flags", 7), ("2026-11-30T23:00:00Z", "h" * 40, "b" * 40)
    memo = SweepMemo()
    assert not memo.unchanged(key, sig, t)
    memo.queued(key, (sig, t))
    memo.finished(key, Outcome(7, None, wake_at=t + timedelta(minutes=30)))
    assert memo.unchanged(key, sig, t + timedelta(minutes=29))
    assert not memo.unchanged(key, sig, t + timedelta(minutes=30))  # the approval clock is due
    assert not memo.unchanged(key, (sig[0], "x" * 40, sig[2]), t)  # a push
    memo.queued(key, (sig, t))
    memo.finished(key, Outcome(7, None))
    assert memo.unchanged(key, sig, t + REREAD_AFTER - timedelta(seconds=1))
    assert not memo.unchanged(key, sig, t + REREAD_AFTER)  # read again now and then anyway
    memo.finished(key, None)  # a failed reconcile (for any reason): the next sweep retries
    assert not memo.unchanged(key, sig, t)

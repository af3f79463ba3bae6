"""Write pacing under GitHub's secondary limits: the pure window decision, the line of writes on
a fake clock, and the client against an emulator that refuses as GitHub does."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.emulator import Emulator
from bot.gh.client import GitHubClient
from bot.gh.pacing import GITHUB_WRITE_WINDOWS, Pacer, Window, is_urgent, next_slot, urgent
from bot.gh.retry import RetryPolicy
from tests.emulator_harness import REPO, seed_for

MINUTE, HOUR = GITHUB_WRITE_WINDOWS


def test_room_now_while_every_window_has_room() -> None:
    assert next_slot([], 5.0, GITHUB_WRITE_WINDOWS) == 5.0
    assert next_slot([float(i) for i in range(79)], 79.0, GITHUB_WRITE_WINDOWS) == 79.0


def test_a_full_minute_waits_until_its_oldest_write_is_a_minute_old() -> None:
    sent = [float(i) / 10 for i in range(80)]  # 80 writes in 8 seconds
    assert next_slot(sent, 8.0, GITHUB_WRITE_WINDOWS) == 60.0
    assert next_slot(sent, 61.0, GITHUB_WRITE_WINDOWS) == 61.0


def test_a_full_hour_waits_for_the_hour() -> None:
    sent = [i * 60.0 / 80 + 60.0 * (i // 80) for i in range(500)]
    assert next_slot(sent, sent[-1], GITHUB_WRITE_WINDOWS) == sent[0] + 3600.0


def test_writes_in_flight_take_room_until_answered() -> None:
    assert next_slot([0.0], 1.0, [Window(60.0, 2)], in_flight=1) == 60.0
    assert next_slot([], 1.0, [Window(60.0, 2)], in_flight=2) == float("inf")


def test_a_closed_window_never_opens() -> None:
    assert next_slot([], 0.0, [Window(60.0, 0)]) == float("inf")


def test_other_writes_leave_as_many_places_as_merges_lately_used() -> None:
    """Ten places a minute; four merges went in the last minute: an announcement finds only
    six places, so with five writes in the window it goes now and with six it waits until
    the oldest write (or merge) ages out. A merge itself is held back by nothing."""
    window = [Window(60.0, 10)]
    merges = [10.0, 11.0, 12.0, 13.0]
    assert next_slot([10.0, 11.0, 12.0, 13.0, 14.0], 20.0, window, held_for=merges) == 20.0
    six = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert next_slot(six, 20.0, window, held_for=merges) == 70.0  # 10.0 ages out: 5 + 3 kept
    assert next_slot(six, 20.0, window) == 20.0  # a merge: the window has room


def test_other_writes_always_keep_a_share_of_the_window() -> None:
    """A tenth of each window stays theirs however many merges went: after nine merges the
    last place goes to an announcement; a second one waits until as many places are free as
    merges remain in the window (at 64 s: four merges, the announcement, four kept, its own)."""
    window = [Window(60.0, 10)]
    merges = [float(i) for i in range(9)]
    assert next_slot(merges, 9.0, window, held_for=merges) == 9.0
    assert next_slot([*merges, 9.0], 9.5, window, held_for=merges) == 64.0


def test_without_merges_lately_the_rule_is_unchanged() -> None:
    sent = [float(i) / 10 for i in range(80)]
    assert next_slot(sent, 8.0, GITHUB_WRITE_WINDOWS, held_for=[]) == 60.0
    old_merges = [0.0, 1.0]  # answered over a minute (and an hour) before the question
    assert next_slot([], 3700.0, GITHUB_WRITE_WINDOWS, held_for=old_merges) == 3700.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def violations(times: list[float], windows: tuple[Window, ...]) -> list[tuple[float, Window]]:
    times = sorted(times)
    return [
        (t, w)
        for w in windows
        for i, t in enumerate(times)
        if sum(1 for u in times[: i + 1] if t - u < w.seconds) > w.limit
    ]


async def test_a_burst_of_writes_never_exceeds_either_window() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    sent: list[float] = []

    async def one() -> None:
        async with pacer.write():
            sent.append(fake.now)

    await asyncio.gather(*(one() for _ in range(600)))
    assert len(sent) == 600 and not violations(sent, GITHUB_WRITE_WINDOWS)
    start = 1000.0
    assert sent.count(start) == 80  # as fast as GitHub allows: 80 at once ...
    assert sent[80] == start + 60.0  # ... then as the minute frees room
    assert sent[500] == start + 3600.0  # the hour's 501st waits for the first to age out


class ManualTime(FakeTime):
    """Time moves only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.moved = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        until = self.now + seconds
        while self.now < until:
            await self.moved.wait()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.moved.set()
        self.moved = asyncio.Event()


async def test_urgent_writes_go_ahead_of_the_line() -> None:
    fake = ManualTime()
    pacer = Pacer([Window(60.0, 1)], clock=fake.clock, sleep=fake.sleep)
    order: list[str] = []

    async def one(name: str) -> None:
        async with pacer.write(urgent=name == "merge"):
            order.append(name)

    async def merge() -> None:
        with urgent():  # how the gateway marks a merge
            async with pacer.write(urgent=is_urgent()):
                order.append("merge")

    await one("first")
    waiting = [asyncio.create_task(one(f"comment{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    waiting.append(asyncio.create_task(merge()))
    await asyncio.sleep(0.01)
    for _ in range(4):
        fake.advance(60)
        await asyncio.sleep(0.01)
    await asyncio.gather(*waiting)
    assert order == ["first", "merge", "comment0", "comment1", "comment2"]


async def test_a_merge_arriving_after_a_gap_finds_its_place_kept() -> None:
    """A merge's worker reads between merges, so no merge waits in line when a place frees:
    announcements must not take it all. Four places a minute, a merge went: two announcements
    go, the third waits, and the next merge goes at once."""
    fake = ManualTime()
    pacer = Pacer([Window(60.0, 4)], clock=fake.clock, sleep=fake.sleep)
    order: list[tuple[str, float]] = []

    async def one(name: str) -> None:
        async with pacer.write(urgent=name.startswith("merge")):
            order.append((name, fake.now))

    await one("merge1")
    late = [asyncio.create_task(one(f"comment{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(one("merge2"), 5)  # after the gap: not held up by the comments
    fake.advance(60)
    await asyncio.sleep(0.01)
    await asyncio.gather(*late)
    assert order[:4] == [
        ("merge1", 1000.0),
        ("comment0", 1000.0),
        ("comment1", 1000.0),
        ("merge2", 1000.0),
    ]
    assert order[4] == ("comment2", 1060.0)


async def test_writes_in_flight_count_until_answered() -> None:
    fake = ManualTime()
    pacer = Pacer([Window(60.0, 2)], clock=fake.clock, sleep=fake.sleep)
    answered = asyncio.Event()
    started: list[float] = []

    async def slow() -> None:
        async with pacer.write():
            started.append(fake.now)
            await answered.wait()

    tasks = [asyncio.create_task(slow()) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert started == [1000.0, 1000.0]  # the third waits for an answer, then a minute
    fake.advance(5)
    answered.set()
    await asyncio.sleep(0.01)
    fake.advance(59)
    await asyncio.sleep(0.01)
    assert started == [1000.0, 1000.0]
    fake.advance(1)
    await asyncio.gather(*tasks)
    assert started == [1000.0, 1000.0, 1065.0]


async def test_a_refusal_pauses_writes_but_not_reads() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    pacer.pause_writes(fake.now + 30)
    async with pacer.read():
        assert fake.now == 1000.0
    async with pacer.write():
        assert fake.now == 1030.0


async def test_a_spent_budget_pauses_reads_too() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    pacer.pause_all(fake.now + 120)
    async with pacer.read():
        assert fake.now == 1120.0


async def test_a_cancelled_write_leaves_the_line() -> None:
    fake = FakeTime()
    pacer = Pacer([Window(60.0, 1)], clock=fake.clock, sleep=asyncio.sleep)
    async with pacer.write():
        pass

    async def again() -> None:
        async with pacer.write():
            pass

    stuck = asyncio.create_task(again())  # waits for a minute of real time
    await asyncio.sleep(0.01)
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    fake.now += 60
    await asyncio.wait_for(again(), 1)  # not behind a ghost


async def test_reads_run_concurrently_up_to_the_limit() -> None:
    pacer = Pacer(reads=3)
    inside, most = 0, 0

    async def read() -> None:
        nonlocal inside, most
        async with pacer.read():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(read() for _ in range(10)))
    assert most == 3


# Against the emulator, both on the emulator's clock -------------------------------------------


def emulator_with(writes_per_minute: int) -> Emulator:
    em = Emulator.from_seed(
        {**seed_for(), "options": {"writes_per_minute": writes_per_minute, "writes_per_hour": 50}}
    )
    em.clock.set("2026-01-05T10:00:00Z")
    em.person("dev").propose(REPO, {"flags/x.yaml": "x: 1\n"}, branch="x", title="X")
    return em


def emulator_time(em: Emulator) -> FakeTime:
    class Time(FakeTime):
        def clock(self) -> float:
            return em.clock.now().timestamp()

        async def sleep(self, seconds: float) -> None:
            em.clock.advance(max(seconds, 0.0) + 0.001)
            await asyncio.sleep(0)

    return Time()


async def burst(em: Emulator, pacer: Pacer, writes: int) -> None:
    async with em.serve() as server, aiohttp.ClientSession() as session:
        gh = GitHubClient(
            session,
            base_url=server.url,
            oauth_token="dev-token",
            pacer=pacer,
            policy=RetryPolicy(attempts=5, max_wait=4000),
        )
        await asyncio.gather(
            *(
                gh.post(f"/repos/{REPO}/issues/1/comments", data={"body": f"c{i}"})
                for i in range(writes)
            )
        )


async def test_a_paced_burst_gets_no_secondary_limit_refusal() -> None:
    em = emulator_with(writes_per_minute=5)
    t = emulator_time(em)
    pacer = Pacer((Window(60.0, 5), Window(3600.0, 50)), clock=t.clock, sleep=t.sleep)
    await burst(em, pacer, 12)
    assert [c.status for c in em.calls.calls("POST")] == [201] * 12


async def test_the_client_honours_retry_after_when_github_is_stricter_than_its_pacing() -> None:
    em = emulator_with(writes_per_minute=3)
    t = emulator_time(em)
    pacer = Pacer(clock=t.clock, sleep=t.sleep)  # believes GitHub allows 80 a minute
    await burst(em, pacer, 6)
    statuses = [c.status for c in em.calls.calls("POST")]
    assert statuses.count(201) == 6 and statuses.count(403) == 3  # each refused once, no more
    assert pacer.writes_paused_until > 0


async def test_a_spent_budget_holds_every_call_until_its_reset() -> None:
    em = Emulator.from_seed({**seed_for(), "options": {"rate_limit": 2}})
    t = emulator_time(em)
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    async with em.serve() as server, aiohttp.ClientSession() as session:
        gh = GitHubClient(session, base_url=server.url, oauth_token="dev-token", pacer=pacer)
        await gh.getitem(f"/repos/{REPO}")
        assert pacer.all_paused_until == 0.0
        await gh.getitem(f"/repos/{REPO}/pulls")  # the budget's last call
    reset = em.ratelimit.budget("user:dev").reset
    assert pacer.all_paused_until == float(reset)


# The whole service in a burst, on the emulator's clock (bench/burst.py's core, small) ---------


def load_burst_bench():
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bench_burst", root / "bench" / "burst.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


async def test_a_burst_of_approvals_is_merged_and_announced_without_a_refusal() -> None:
    """More writes than the emulator allows in a minute (5) and in an hour (40): flagbot paces
    them on the emulator's clock, so nothing is refused, and the waits take no real time."""
    bench = load_burst_bench()
    b = await bench.burst(
        12, {"writes_per_minute": 5, "writes_per_hour": 40}, quiet=0.1, real_limit=60
    )
    assert b.finished and len(b.writes) > 40  # the hour's limit was in play, not just the minute's
    assert b.refused == 0
    assert len(b.merged) == 12 and b.announced == 12
    assert b.jumps > 0  # the waits passed on the emulator's clock
    assert bench.verdict([b, b])  # the bench's goals, judged over its rounds

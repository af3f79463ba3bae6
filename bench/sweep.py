"""What a sweep costs when nothing is new: 500 open flag pull requests, each already decided.

A first sweep (cold: nothing cached) decides every pull request; the measured sweeps then run
with nothing changed, as the periodic sweep inside `serve` does most of the time. Counted from
the emulator's call log for flagbot's identity; a 304 answer to a conditional request is free
on GitHub and counted as free here. Goal: at most 1 charged call per 50 open pull requests.
Wall time is printed with no latency and with 100 ms emulated round trips (`options.latency`),
each against the cold sweep of the same run; rounds are paired, median and spread printed.
The cold sweep writes a check run on each pull request, more than GitHub's secondary limits
allow in a minute: flagbot's pacing waits pass on the emulator's clock (`bot.emulator.warp`),
so its wall time is the work alone, and the time GitHub's limits add is printed beside it.

    .venv/bin/python bench/sweep.py [--pulls 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.emulator import Emulator  # noqa: E402
from bot.emulator.seeds import REPO, acme_seed, repository_files  # noqa: E402
from bot.emulator.warp import Warp  # noqa: E402
from bot.sandbox import sandbox  # noqa: E402

BOT = "flagbot[bot]"
PER_CHARGED = 50  # goal: at most one charged call per this many open pull requests
FLAG = (ROOT / "flags/new_checkout_flow.yaml").read_text()


def seed() -> dict:
    data = acme_seed(repository_files(ROOT, without=("flags/new_checkout_flow.yaml",)))
    # the cold sweep alone costs about six calls a pull request: more than an hour's budget
    data["options"] = {**data.get("options", {}), "rate_limit": 1_000_000}
    return data


def open_pulls(em: Emulator, count: int) -> None:
    """`count` open flag pull requests, opened while flagbot hears nothing (as after an
    outage): only a sweep can find them."""
    with em.lock:
        hooks = list(em.state.hooks.values())
        for hook in hooks:
            hook.active = False
    dev = em.person("dev")
    for i in range(count):
        dev.propose(REPO, {f"flags/sweep_{i}.yaml": FLAG}, branch=f"sweep-{i}", title=f"Flag {i}")
    with em.lock:
        for hook in hooks:
            hook.active = True


async def swept(stack, show: bool = False) -> tuple[float, int, int]:
    """One sweep until every reconcile it queued finished: (seconds, charged, all calls)."""
    em = stack.emulator
    em.clock.advance(10)  # sweeps are minutes apart: what changed before has settled
    mark = len(em.calls.calls(transport=None))
    started = time.perf_counter()
    await stack.service.sweep()
    await stack.service.drain()
    seconds = time.perf_counter() - started
    calls = [c for c in em.calls.calls(transport=None)[mark:] if c.login == BOT]
    if show:
        routes = Counter(f"{c.method} {c.route}" for c in calls if c.charged)
        for route, n in sorted(routes.items()):
            print(f"    {n} x {route} (charged)")
    return seconds, sum(c.charged for c in calls), len(calls)


def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"median {med:.2f}s (min {min(values):.2f}, max {max(values):.2f})"


async def main(pulls: int, rounds: int) -> int:
    em = Emulator.from_seed(seed())
    warp = Warp.over(em)
    async with sandbox(em, sleep=warp.sleep) as stack:
        open_pulls(em, pulls)
        cold, cold_charged, cold_calls = await swept(stack)
        print(f"cold sweep (baseline): {pulls} pull requests, {cold:.2f}s of work, "
              f"{cold_charged} charged of {cold_calls} calls; GitHub's secondary limits "
              f"add {warp.skipped:.0f}s of pacing on its clock ({warp.jumps} waits)")  # fmt: skip
        # The cold sweep wrote a check run on each: reading them once more is the change.
        await swept(stack)
        fast, slow, charged = [], [], []
        for _ in range(rounds):  # paired: one without and one with latency per round
            em.world.options.latency = 0.0
            seconds, c, _ = await swept(stack, show=not fast)
            fast.append(seconds)
            charged.append(c)
            em.world.options.latency = 0.1
            seconds, c, _ = await swept(stack)
            slow.append(seconds)
            charged.append(c)
        em.world.options.latency = 0.0
    goal = pulls / PER_CHARGED
    worst = max(charged)
    print(f"nothing new: {worst} charged calls at most per sweep over {pulls} open pull "
          f"requests (goal <= {goal:g}: {'meets' if worst <= goal else 'MISSES'})")  # fmt: skip
    print(f"nothing new, no latency: {spread(fast)}; {statistics.median(fast) / cold:.2f}x "
          "the cold sweep")  # fmt: skip
    print(
        f"nothing new, 100 ms per round trip: {spread(slow)}; "
        f"{statistics.median(slow) / cold:.2f}x the cold sweep (which ran with none)"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.pulls, args.rounds)))

"""From the final approval to the merge call, with GitHub 100 ms away.

The emulator answers every call 100 ms late (its `latency` option, standing for GitHub's
round trip). A flag pull request is opened and approved by its manager; then QA's approval,
the one that makes it mergeable, is submitted and timed to the merge. From the emulator's call
log: the bot's calls between that review and the merge call, and the sequential round trips on
the critical path (the longest chain of calls each starting after the previous one ended,
ending with the merge itself). Caches are warm (one whole lifecycle runs first, so policy files
and team lists are known), as they are in a running service. Several rounds; median and spread.

Goal: 2 sequential round trips (every read the decision needs at once, then the merge), so the
time is about 2 x the latency; the floor printed is that.

    python bench/latency.py [--rounds 3] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.channels import channels  # noqa: E402
from bot.emulator.calllog import Call  # noqa: E402
from bot.emulator.seeds import REPO, acme_seed, repository_files  # noqa: E402
from bot.sandbox import sandbox  # noqa: E402

BOT = "flagbot[bot]"
MERGE = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
GOAL = 2


def seed(latency_ms: float) -> dict:
    files = repository_files(ROOT, without=("flags/new_checkout_flow.yaml",))
    return {**acme_seed(files), "options": {"latency": latency_ms / 1000}}


def round_trips(calls: Sequence[Call], last: Call) -> list[Call]:
    """The critical path ending at `last`: the longest chain of calls, each starting after the
    one before it ended. A call's span is [its end - its duration, its end]."""

    def span(c: Call) -> tuple[float, float]:
        return c.time - c.duration, c.time

    ordered = sorted((c for c in calls if span(c)[1] <= span(last)[1]), key=lambda c: span(c)[1])
    chain: dict[int, list[Call]] = {}
    for c in ordered:
        start = span(c)[0]
        before = [chain[id(p)] for p in ordered if span(p)[1] <= start and id(p) in chain]
        chain[id(c)] = [*max(before, key=len, default=[]), c]
    return chain[id(last)]


def flag_text(key: str) -> str:
    text = (ROOT / "flags/new_checkout_flow.yaml").read_text()
    return text.replace("name: New checkout flow", f"name: {key}")


async def lifecycle(stack, key: str) -> tuple[float, list[Call], list[Call]]:
    """Open, manager approval, then QA's approval timed to the merge call: (seconds, the bot's
    calls in between, the critical path)."""
    em = stack.emulator
    pr = em.person("dev").propose(
        REPO, {f"flags/{key}.yaml": flag_text(key)}, branch=key, title=f"Create {key}"
    )
    await stack.settle()
    em.person("mgr").approve(REPO, pr["number"])
    await stack.settle()
    mark = len(em.calls.calls())
    started = time.time()
    em.person("qa").approve(REPO, pr["number"])
    await stack.settle()
    calls = [c for c in em.calls.calls()[mark:] if c.login == BOT]
    merges = [c for c in calls if c.key == MERGE and c.status == 200]
    if not merges:
        raise SystemExit(f"{key}: the final approval did not lead to a merge")
    merge = merges[0]
    before = [c for c in calls if c.time <= merge.time]
    return merge.time - started, before, round_trips(before, merge)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    times: list[float] = []
    depths: list[int] = []
    async with (
        channels() as notified,
        sandbox(seed(args.latency_ms), channel_env=notified.env) as stack,
    ):
        await lifecycle(stack, "warmup_flag")
        for n in range(args.rounds):
            seconds, calls, path = await lifecycle(stack, f"measured_flag_{n}")
            times.append(seconds)
            depths.append(len(path))
            if n == 0:
                print(f"the bot's calls from the final review to the merge ({len(calls)}):")
                first = min(c.time - c.duration for c in calls)
                for c in sorted(calls, key=lambda c: c.time - c.duration):
                    on_path = "*" if c in path else " "
                    start = max(0.0, c.time - c.duration - first)
                    print(f"  {on_path} +{start * 1e3:5.0f} ms  {c.key}")
                print("  (* on the critical path)")
    floor = GOAL * args.latency_ms / 1000
    depth = statistics.median(depths)
    print(
        f"{args.rounds} rounds at {args.latency_ms:.0f} ms per call: sequential round trips "
        f"{', '.join(map(str, depths))} (goal {GOAL}: {'meets' if depth <= GOAL else 'MISSES'})"
    )
    print(
        f"final review to merge call: median {statistics.median(times) * 1e3:.0f} ms (spread "
        f"{min(times) * 1e3:.0f}-{max(times) * 1e3:.0f}); floor {floor * 1e3:.0f} ms "
        f"({GOAL} x latency), ratio {statistics.median(times) / floor:.2f}"
    )
    return 0 if depth <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

"""A burst: 150 flag pull requests approved at once, with GitHub 100 ms away and enforcing its
secondary limits on content-creating requests (80 a minute, 500 an hour).

The pull requests are opened and approved by their managers before flagbot starts (so the
hour's budget of writes is the burst's alone); then QA approves all of them at once and the
bench waits until every one is merged and announced. From the emulator's call log: the time
to the last merge, flagbot's charged calls, the writes it sent, and the secondary-limit
refusals it received (goal: 0: pacing keeps it under GitHub's limits instead of being
refused). The pacing limit is the fastest GitHub allows those writes: n writes need
floor((n - 1) / 80) minutes (and whole hours past 500); the ratio of the measured time to that
is printed for the merges alone and for every write up to the last merge. Peak RSS is this
process's (the emulator and flagbot together).

    python bench/burst.py [--prs 150] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.emulator import Emulator  # noqa: E402
from bot.emulator.seeds import REPO, acme_seed, repository_files  # noqa: E402
from bot.gh.pacing import GITHUB_WRITE_WINDOWS  # noqa: E402
from bot.sandbox import sandbox  # noqa: E402

BOT = "flagbot[bot]"
MERGE = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def fastest(writes: int) -> float:
    """Seconds GitHub's secondary limits require for `writes` content-creating requests sent
    as fast as they allow, from a standing start."""
    if writes <= 0:
        return 0.0
    return max((writes - 1) // w.limit * w.seconds for w in GITHUB_WRITE_WINDOWS)


def prepared(prs: int, latency_ms: float) -> tuple[Emulator, list[int]]:
    """The repository with `prs` flag pull requests, each approved by a manager."""
    files = repository_files(ROOT, without=("flags/new_checkout_flow.yaml",))
    em = Emulator.from_seed({**acme_seed(files), "options": {"latency": latency_ms / 1000}})
    flag = (ROOT / "flags/new_checkout_flow.yaml").read_text()
    numbers = []
    for i in range(prs):
        key = f"burst_{i:03d}"
        text = flag.replace("name: New checkout flow", f"name: {key}")
        pr = em.person("dev").propose(
            REPO, {f"flags/{key}.yaml": text}, branch=key, title=f"Create {key}"
        )
        em.person("mgr").approve(REPO, pr["number"])
        numbers.append(pr["number"])
    return em, numbers


@asynccontextmanager
async def channels() -> AsyncIterator[dict[str, str]]:
    """Receivers for the policy's notification channels (Slack, audit webhook, e-mail)."""
    from aiohttp import web

    from tests.receivers import HttpReceiver, smtp_server

    runner = web.AppRunner(HttpReceiver().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        with smtp_server() as (_, smtp_url):
            yield {
                "FLAGBOT_SLACK_WEBHOOK_URL": f"{url}/slack",
                "FLAGBOT_AUDIT_WEBHOOK_URL": f"{url}/audit",
                "FLAGBOT_SMTP_URL": smtp_url,
            }
    finally:
        await runner.cleanup()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=150)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    em, numbers = prepared(args.prs, args.latency_ms)
    async with channels() as env, sandbox(em, channel_env=env) as stack:
        mark = len(em.calls.calls())
        started = time.time()
        for number in numbers:
            em.person("qa").approve(REPO, number)
        await stack.settle()
        settled = time.time() - started
        calls = [c for c in em.calls.calls()[mark:] if c.login == BOT]
    merges = sorted(c.time for c in calls if c.key == MERGE and c.status == 200)
    refused = [c for c in calls if c.fault == "secondary_limit"]
    if len(merges) != args.prs:
        print(f"MISS: {len(merges)} of {args.prs} pull requests merged")
    last = merges[-1] - started if merges else float("nan")
    writes = [c for c in calls if c.method in WRITES and c.fault is None]
    before_last = sum(1 for c in writes if merges and c.time <= merges[-1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    limits = ", ".join(f"{w.limit}/{w.seconds:.0f} s" for w in GITHUB_WRITE_WINDOWS)
    print(
        f"{args.prs} pull requests approved at once, GitHub {args.latency_ms:.0f} ms away, "
        f"secondary limits {limits}"
    )
    kinds = Counter(c.key for c in calls)
    print("flagbot's calls by kind: " + ", ".join(f"{n} x {k}" for k, n in kinds.most_common()))
    print(f"time to the last merge: {last:.1f} s; everything announced after {settled:.1f} s")
    print(
        f"flagbot's calls: {len(calls)} ({sum(c.charged for c in calls)} charged), "
        f"{len(writes)} writes ({before_last} up to the last merge)"
    )
    for label, n in (
        ("the merges alone", len(merges)),
        ("writes up to the last merge", before_last),
    ):
        floor = fastest(n)
        ratio = f"{last / floor:.2f}" if floor else "n/a (within one window)"
        print(f"pacing limit for {label} ({n} writes): {floor:.0f} s; measured / limit: {ratio}")
    verdict = "meets" if not refused else "MISSES"
    print(f"secondary-limit refusals received: {len(refused)} (goal 0: {verdict})")
    print(f"peak RSS (emulator and flagbot in this process): {peak:.0f} MiB")
    return 0 if not refused and len(merges) == args.prs else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

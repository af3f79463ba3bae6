"""How many calls per second the local GitHub serves for a typical bot call mix.

Per pull request the bot reads the PR, its files and reviews, two files (a flag at the head,
CODEOWNERS at the base), a team membership, creates and updates its check run, and merges:
9 calls. The same client, with the same concurrency, then hammers a bare aiohttp server that
returns a fixed JSON body — the baseline — and the ratio shows what the emulator's own work
costs. Later benchmarks can compare their call rates with this figure to show the emulator is
not their bottleneck.

    python bench/emulator.py [--prs 150] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web

from bot.emulator import Emulator
from bot.emulator.seeds import INSTALLATION_ID, REPO, seed_for


def prepare(prs: int) -> Emulator:
    emulator = Emulator.from_seed(seed_for(), keep_bodies=False)
    dev, mgr = emulator.person("dev"), emulator.person("mgr")
    for n in range(1, prs + 1):
        dev.propose(REPO, {f"flags/f{n}.yaml": f"name: f{n}\n"}, branch=f"b{n}", title=f"Flag {n}")
        mgr.approve(REPO, n)
    return emulator


def bot_calls(n: int, head: str) -> list[tuple[str, str, dict | None]]:
    r = f"/repos/{REPO}"
    return [
        ("GET", f"{r}/pulls/{n}", None),
        ("GET", f"{r}/pulls/{n}/files?per_page=100", None),
        ("GET", f"{r}/pulls/{n}/reviews?per_page=100", None),
        ("GET", f"{r}/contents/flags/f{n}.yaml?ref={head}", None),
        ("GET", f"{r}/contents/.github/CODEOWNERS?ref=main", None),
        ("GET", "/orgs/acme/teams/eng-managers/memberships/mgr", None),
        ("POST", f"{r}/check-runs", {"name": "flagbot", "head_sha": head, "status": "in_progress"}),
        (
            "PATCH",
            f"{r}/check-runs/{{run}}",
            {"conclusion": "success", "output": {"title": "Merged", "summary": "ok"}},
        ),
        ("PUT", f"{r}/pulls/{n}/merge", {"sha": head, "merge_method": "squash"}),
    ]


async def drive(url: str, token: str, work: list[tuple[int, str]], concurrency: int) -> int:
    """Run each PR's call mix; returns the number of calls made."""
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    made = 0
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal made
        while not queue.empty():
            n, head = queue.get_nowait()
            run_id = 0
            for method, path, body in bot_calls(n, head):
                async with session.request(
                    method, url + path.replace("{run}", str(run_id)), json=body
                ) as resp:
                    data = await resp.json(content_type=None)
                    if resp.status >= 400:
                        raise RuntimeError(f"{method} {path}: {resp.status} {data}")
                    if method == "POST":
                        run_id = data["id"]
                made += 1

    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return made


@contextmanager
def baseline_server() -> Iterator[str]:
    """A bare aiohttp server answering every request with the same small JSON document."""
    body = json.dumps({"id": 1, "sha": "0" * 40, "state": "open", "title": "x" * 200}).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    ready = threading.Event()
    box: dict = {}

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        box["stop"] = asyncio.Event()
        box["loop"] = asyncio.get_running_loop()
        ready.set()
        await box["stop"].wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait()
    try:
        yield box["url"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    emulator = prepare(args.prs)
    work = [(n, emulator.repo(REPO).pulls[n].head_sha) for n in range(1, args.prs + 1)]
    token = emulator.installation_token(INSTALLATION_ID)
    with emulator.serve_in_thread() as url:
        started = time.perf_counter()
        calls = asyncio.run(drive(url, token, work, args.concurrency))
        elapsed = time.perf_counter() - started
    assert all(pr.merged for pr in emulator.repo(REPO).pulls.values())
    served = emulator.calls.count()
    assert served == calls, (served, calls)

    with baseline_server() as url:
        started = time.perf_counter()
        base_calls = asyncio.run(drive_baseline(url, calls, args.concurrency))
        base_elapsed = time.perf_counter() - started

    rate, base_rate = calls / elapsed, base_calls / base_elapsed
    mix = f"{args.prs} pull requests x 9-call bot mix, {args.concurrency} clients"
    print(f"emulator: {calls} calls ({mix})")
    print(f"  emulator        {rate:8.0f} calls/s")
    print(f"  bare aiohttp    {base_rate:8.0f} calls/s   (baseline, same client)")
    print(f"  ratio           {rate / base_rate:8.2f}   (emulator / baseline)")
    stats = emulator.calls.stats()
    slowest = max(stats.items(), key=lambda kv: kv[1]["calls"])
    print(
        f"  routes served   {len(stats)} (most called: {slowest[0]}, {slowest[1]['calls']} calls)"
    )


async def drive_baseline(url: str, calls: int, concurrency: int) -> int:
    made = 0

    async def worker(session: aiohttp.ClientSession, share: int) -> None:
        nonlocal made
        for _ in range(share):
            async with session.get(url + "/repos/acme/flags/pulls/1") as resp:
                await resp.json()
            made += 1

    async with aiohttp.ClientSession() as session:
        share = calls // concurrency
        await asyncio.gather(*(worker(session, share) for _ in range(concurrency)))
    return made


if __name__ == "__main__":
    main()

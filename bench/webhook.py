"""Acknowledgements per second of flagbot's `POST /webhook`, as a ratio to a bare aiohttp
handler that only reads the body, measured in the same run on the same client.

Payloads are GitHub's real pull_request examples (../shared/vendor/octokit-webhooks), or one
the emulator produces when the vendored material is absent. Each server runs in its own
process; the load comes from this process over loopback. flagbot's background work (parsing,
routing, reconciling against an unreachable API) runs during the measurement, as it would in
production. Goal: ratio >= 0.7.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
REQUESTS = 4000
CONCURRENCY = 32
ROUNDS = 3


def payloads() -> list[bytes]:
    vendored = ROOT.parent / "shared" / "vendor" / "octokit-webhooks" / "pull_request"
    if vendored.is_dir():
        files = sorted(vendored.glob("*.json"))
        return [
            json.dumps(json.loads(p.read_text()), separators=(",", ":")).encode() for p in files
        ]
    from bot.emulator.emulator import Emulator
    from bot.emulator.testing import REPO, seed_for

    emulator = Emulator.from_seed(seed_for())
    emulator.add_webhook("http://127.0.0.1:9/webhook", SECRET)
    emulator.person("dev").propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    return [d.body for d in emulator.webhooks.deliveries if d.event == "pull_request"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(kind: str, port: int) -> None:
    import logging

    from aiohttp import web

    logging.disable(logging.CRITICAL)
    if kind == "bare":

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(status=202)

        app = web.Application()
        app.router.add_post("/webhook", handle)
    else:
        from bot.gh.retry import RetryPolicy
        from bot.service.app import make_app
        from bot.service.config import ServiceConfig

        app = make_app(
            ServiceConfig(
                webhook_secret=SECRET,
                api_url="http://127.0.0.1:9",  # nothing listens: reconciles fail fast
                token="bench",
                retry=RetryPolicy(attempts=1),
            )
        )
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def load(url: str, bodies: list[bytes]) -> float:
    import aiohttp

    signed = [
        (
            body,
            {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"bench-{i}",
                "X-Hub-Signature-256": "sha256="
                + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
            },
        )
        for i, body in enumerate(bodies)
    ]
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(100):  # wait for the server
            try:
                async with session.get(url.replace("/webhook", "/healthz")):
                    break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
        counter = iter(range(REQUESTS))

        async def worker() -> None:
            for i in counter:
                body, headers = signed[i % len(signed)]
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status in (202, 404), resp.status

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return REQUESTS / (time.perf_counter() - start)


def measure(kind: str, bodies: list[bytes]) -> float:
    port = free_port()
    proc = multiprocessing.Process(target=serve, args=(kind, port), daemon=True)
    proc.start()
    try:
        return asyncio.run(load(f"http://127.0.0.1:{port}/webhook", bodies))
    finally:
        proc.terminate()
        proc.join()


def main() -> int:
    bodies = payloads()
    print(
        f"{len(bodies)} signed pull_request payloads, {REQUESTS} requests x {ROUNDS} rounds, "
        f"{CONCURRENCY} concurrent"
    )
    best = {"bare": 0.0, "flagbot": 0.0}
    for _ in range(ROUNDS):
        for kind in best:
            best[kind] = max(best[kind], measure(kind, bodies))
    for kind, rate in best.items():
        print(f"{kind:8s} {rate:8.0f} acknowledgements/s")
    ratio = best["flagbot"] / best["bare"]
    print(f"ratio flagbot/bare: {ratio:.2f} (goal >= 0.7)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Acknowledgements per second of flagbot's `POST /webhook` under sustained load, as a ratio to
a handler that only checks the HMAC signature (the floor of any verified acknowledgement),
measured in the same run on the same client, round by round.

Payloads are GitHub's real pull_request examples (../shared/vendor/octokit-webhooks), or ones
the emulator produces when the vendored material is absent (a fresh clone). Each server runs in
a process of its own, all started once and loaded one at a time; the load comes from this
process over loopback, 32 requests in flight, from a client lean enough to outrun every server,
so the servers' costs decide the rates. With two CPUs or more the servers keep to one and the
client to another.

Sustained: each round keeps a server busy for `--seconds` (default 8), far longer than
flagbot's routing deferral (at most 1 s), so flagbot's background work (parse, route, and
reconcile against the local emulator in a third process, answering as late as GitHub does, 50
ms by default) competes with acknowledging inside the measured time, as it does in
production. The examples name a repository the emulator does not have, so a reconcile ends at
GitHub's 404 ("not ours": one log line, no retry), after a real round trip.

Each server first takes a short warm-up round that is not counted. Rounds alternate the
servers, starting with a different one each round, so that all see the same machine; ratios are
taken within each round (paired), and their median and spread reported. Besides flagbot and the
HMAC-only handler, a bare handler that only reads the body places both, and one that verifies
and then decodes the routing fields with flagbot's decoder, nothing more, measures the ceiling
of any server that routes in the acknowledging process. Each server's peak RSS (its process's
maximum resident set) is reported. Goals: flagbot / HMAC-only >= 0.9 (median of the paired
rounds); flagbot's peak RSS <= 2x the HMAC-only server's.

flagbot logs as `flagbot serve` does (JSON, one access line per delivery, to a file); the
baselines log nothing. The script also measures what decoding one delivery's routing fields
costs and prints the ceiling that puts on any server that routes in the acknowledging process.

    python bench/webhook.py [--seconds 8] [--rounds 5] [--warmup 2] [--api-latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
TOKEN = "bench-token"
CONCURRENCY = 32
# a handler that only reads the body, the HMAC-only baseline, one that also decodes the
# routing fields (the least any router does with a payload), and flagbot
KINDS = ("bare", "hmac", "decode", "flagbot")
RATE_GOAL = 0.9  # flagbot / HMAC-only, median of paired rounds
RSS_GOAL = 2.0  # flagbot's peak RSS / the HMAC-only server's


def payloads() -> list[tuple[str, bytes]]:
    """(event, body) for each delivery to send."""
    vendored = ROOT.parent / "shared" / "vendor" / "octokit-webhooks" / "pull_request"
    if vendored.is_dir():
        return [
            ("pull_request", json.dumps(json.loads(p.read_text()), separators=(",", ":")).encode())
            for p in sorted(vendored.glob("*.json"))
        ]
    from bot.emulator.emulator import Emulator
    from bot.emulator.seeds import REPO, seed_for

    emulator = Emulator.from_seed(seed_for())
    emulator.add_webhook("http://127.0.0.1:9/webhook", SECRET)
    dev, mgr = emulator.person("dev"), emulator.person("mgr")
    dev.propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    dev.propose(REPO, {"flags/y.yaml": "name: Y\n"}, branch="y", title="Y")
    mgr.approve(REPO, 1)
    emulator.push_files(REPO, "x", {"flags/x.yaml": "name: X2\n"}, author="dev")
    # The bench's emulator does not have this repository: renamed, the reconciles end at a
    # 404 as they do for the vendored examples.
    return [
        (d.event, d.body.replace(REPO.encode(), b"example/unknown"))
        for d in emulator.webhooks.deliveries
        if d.event in ("pull_request", "pull_request_review")
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cpu: int) -> None:
    """Keep this process on one CPU, when there are two or more (the server on one, the
    client on another): less scheduler noise between rounds."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def admin(url: str, method: str, what: str, body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}/_emulator/{what}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5) as resp:
        answer = resp.read()
    return json.loads(answer) if answer else None


@contextmanager
def github(latency: float) -> Iterator[str]:
    """The local GitHub emulator in a process of its own, knowing the bench's token, answering
    every call `latency` seconds late."""
    seed = {"users": [{"login": "flagbot-bench", "token": TOKEN}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.yaml"
        path.write_text(json.dumps(seed))  # JSON is YAML
        port = free_port()
        cmd = [sys.executable, "-m", "bot", "emulator", "--seed", str(path), "--port", str(port)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    admin(url, "GET", "clock")
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise SystemExit("the emulator did not start")
            if latency:
                fault = {"kind": "latency", "seconds": latency, "times": None}
                admin(url, "POST", "faults", fault)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def serve(kind: str, port: int, api_url: str, log_path: str = os.devnull) -> None:
    import logging

    from aiohttp import web

    from bot import logs

    if kind == "flagbot":  # as `flagbot serve` runs: one JSON access line per delivery
        logs.configure("json", secrets=[SECRET, TOKEN], stream=open(log_path, "a"))  # noqa: SIM115
    else:  # the baselines log nothing
        logging.disable(logging.CRITICAL)
    pin(1)
    service = None
    if kind == "bare":

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(status=202)

        app = web.Application()
        app.router.add_post("/webhook", handle)
    elif kind in ("hmac", "decode"):
        from gidgethub import ValidationFailure
        from gidgethub.sansio import validate_event

        from bot.service.intake import Accepted
        from bot.service.routing import parse_event

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                validate_event(
                    body, signature=request.headers["X-Hub-Signature-256"], secret=SECRET
                )
            except (KeyError, ValidationFailure):
                return web.Response(status=401)
            if kind == "decode":  # flagbot's decoder for the fields routing reads
                event = request.headers["X-GitHub-Event"]
                parse_event(Accepted(event, "d", body, "application/json"))
            return web.Response(status=202)

        app = web.Application()
        app.router.add_post("/webhook", check)
    else:
        from bot.service.app import SERVICE, make_app
        from bot.service.config import ServiceConfig

        app = make_app(ServiceConfig(webhook_secret=SECRET, api_url=api_url, token=TOKEN))
        service = app[SERVICE]

    async def settled(request: web.Request) -> web.Response:
        """Once flagbot's backlog is worked off: how long that took from now, the CPU time this
        server process has used so far, and its peak resident set."""
        start = time.perf_counter()
        if service is not None:
            await service.drain()  # type: ignore[attr-defined]
        drain = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return web.json_response({"drain": drain, "cpu": time.process_time(), "peak": peak})

    app.router.add_get("/_bench/settled", settled)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass(frozen=True)
class Run:
    rate: float  # acknowledgements per second
    drain: float  # seconds the backlog took to clear after the last acknowledgement
    cpu: float  # server CPU seconds per delivery, from the first request to a clear backlog
    requests: int
    peak: int  # the server process's peak RSS so far, bytes


def request_bytes(port: int, event: str, body: bytes, delivery: str) -> bytes:
    """A signed delivery as GitHub sends it, serialised once: the client only writes it."""
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
        f"Content-Type: application/json\r\nX-GitHub-Event: {event}\r\n"
        f"X-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: sha256={signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One request on a kept-alive connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length) if length else b""


async def load(port: int, deliveries: list[tuple[str, bytes]], seconds: float) -> Run:
    """Keep CONCURRENCY connections busy for `seconds`. The client is a few lines over asyncio
    streams with the requests serialised in advance, so it can send faster than any of the
    servers answers: the servers' own costs decide the rates."""
    signed = [request_bytes(port, e, b, f"bench-{i}") for i, (e, b) in enumerate(deliveries)]
    settled = f"GET /_bench/settled HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for _ in range(200):  # wait for the server
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        raise SystemExit("the server did not start")
    before = json.loads((await exchange(reader, writer, settled))[1])
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CONCURRENCY)]
    counter = itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in counter:
            status, _ = await exchange(reader, writer, signed[i % len(signed)])
            assert status == 202, status
            if time.perf_counter() >= deadline:
                return

    await asyncio.gather(*(worker(r, w) for r, w in connections))
    elapsed = time.perf_counter() - start
    requests = next(counter)  # every request drew one number
    after = json.loads((await exchange(reader, writer, settled))[1])
    for _, w in [*connections, (reader, writer)]:
        w.close()
    cpu = (after["cpu"] - before["cpu"]) / requests
    return Run(requests / elapsed, after["drain"], cpu, requests, after["peak"])


@contextmanager
def servers(api_url: str, log_path: str) -> Iterator[dict[str, int]]:
    """Every kind of server, each in a process of its own, started once: {kind: port}. Only
    the one under load works at any time; the others wait."""
    ports = {kind: free_port() for kind in KINDS}
    procs = [
        multiprocessing.Process(target=serve, args=(kind, port, api_url, log_path), daemon=True)
        for kind, port in ports.items()
    ]
    for proc in procs:
        proc.start()
    try:
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.join()


def decode_cost(deliveries: list[tuple[str, bytes]], repeat: int = 3) -> float:
    """Seconds of CPU flagbot spends decoding one delivery's routing fields (the least any
    router must do with a payload), best of `repeat` passes over every delivery, measured in
    this process: what no acknowledging server that routes in-process can avoid."""
    from bot.service.intake import Accepted
    from bot.service.routing import parse_event

    accepted = [Accepted(e, f"d{i}", b, "application/json") for i, (e, b) in enumerate(deliveries)]
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(50):
            for a in accepted:
                parse_event(a)
        best = min(best, (time.process_time() - start) / (50 * len(accepted)))
    return best


def access_line_cost(repeat: int = 3) -> float:
    """Seconds of CPU one access line costs, written as `flagbot serve` writes it (JSON, to a
    file, inside the event loop: a loop turn's lines go out together), best of `repeat`
    passes, measured in this process."""
    import logging

    from bot import logs

    root = logging.getLogger()
    level = root.level
    access = logging.getLogger("flagbot.access")

    async def lines() -> float:
        start = time.process_time()
        for i in range(2000):
            with logs.bound(delivery=f"d-{i}", event="pull_request", repo="acme/flags"):
                access.info("delivery %s", "routed", extra={"fields": {"status": 202}})
            if i % CONCURRENCY == 0:  # a turn of the loop: what is pending is written
                await asyncio.sleep(0)
        await asyncio.sleep(0)
        return (time.process_time() - start) / 2000

    with tempfile.TemporaryFile("w") as sink:
        handler = logs.configure("json", secrets=[SECRET, TOKEN], stream=sink)
        try:
            return min(asyncio.run(lines()) for _ in range(repeat))
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):.2f} (spread {ordered[0]:.2f}-{ordered[-1]:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds per server first, not counted"
    )
    parser.add_argument(
        "--api-latency",
        type=float,
        default=0.05,
        metavar="SECONDS",
        help="how late the emulated GitHub answers (default 0.05, the fast end of GitHub's)",
    )
    args = parser.parse_args(argv)
    deliveries = payloads()
    load_before = os.getloadavg()[0]
    runs: dict[str, list[Run]] = {kind: [] for kind in KINDS}
    reconciles: list[int] = []
    log = tempfile.NamedTemporaryFile(prefix="flagbot-bench-", suffix=".log")  # noqa: SIM115
    with log, github(args.api_latency) as api_url, servers(api_url, log.name) as ports:
        pin(0)
        for kind in KINDS:  # warm-up (caches, the allocator, CPU clocks), not counted
            asyncio.run(load(ports[kind], deliveries, args.warmup))
        for round in range(args.rounds):
            for kind in KINDS[round % len(KINDS) :] + KINDS[: round % len(KINDS)]:
                admin(api_url, "DELETE", "calls")
                runs[kind].append(asyncio.run(load(ports[kind], deliveries, args.seconds)))
                if kind == "flagbot":
                    stats = admin(api_url, "GET", "calls/stats")
                    assert isinstance(stats, dict)
                    pulls = sum(s["calls"] for key, s in stats.items() if "/pulls/" in key)
                    reconciles.append(pulls)
        with open(log.name, "rb") as lines:
            logged = sum(1 for _ in lines)
    print(
        f"{len(deliveries)} signed pull request payloads, {args.seconds:g} s x {args.rounds} "
        f"rounds per server after a {args.warmup:g} s warm-up each (not counted), "
        f"{CONCURRENCY} in flight; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    for kind, rs in runs.items():
        rates = ", ".join(f"{r.rate:.0f}" for r in rs)
        cpu = statistics.median(r.cpu for r in rs) * 1e6
        print(
            f"{kind:8s} {statistics.median(r.rate for r in rs):6.0f} acknowledgements/s "
            f"(median; rounds: {rates}), server CPU {cpu:4.0f} µs per delivery, "
            f"peak RSS {max(r.peak for r in rs) / 2**20:5.1f} MiB"
        )
    drains = [r.drain for r in runs["flagbot"]]
    print(
        f"flagbot's backlog (parse, route, reconcile) cleared {min(drains) * 1e3:.0f}-"
        f"{max(drains) * 1e3:.0f} ms after each round's last acknowledgement; "
        f"{min(reconciles)}-{max(reconciles)} pull request reads per round (one pull request's "
        f"deliveries coalesce; GitHub answering {args.api_latency * 1e3:.0f} ms late)"
    )
    hmac_cpu = statistics.median(r.cpu for r in runs["hmac"])
    decode, line = decode_cost(deliveries), access_line_cost()
    print(
        f"flagbot logged {logged} lines as `flagbot serve` does (JSON, one access line per "
        f"delivery). CPU per delivery that no in-process router avoids: decoding the routing "
        f"fields {decode * 1e6:.1f} µs, the access line {line * 1e6:.1f} µs; against "
        f"HMAC-only's {hmac_cpu * 1e6:.0f} µs that caps the ratio at "
        f"{hmac_cpu / (hmac_cpu + decode):.2f} without the line, "
        f"{hmac_cpu / (hmac_cpu + decode + line):.2f} with it"
    )
    paired = [f.rate / h.rate for f, h in zip(runs["flagbot"], runs["hmac"], strict=True)]
    hmac_bare = [h.rate / b.rate for h, b in zip(runs["hmac"], runs["bare"], strict=True)]
    floor = [d.rate / h.rate for d, h in zip(runs["decode"], runs["hmac"], strict=True)]
    of_floor = [f.rate / d.rate for f, d in zip(runs["flagbot"], runs["decode"], strict=True)]
    ratio = statistics.median(paired)
    rss = max(r.peak for r in runs["flagbot"]) / max(r.peak for r in runs["hmac"])
    print(f"HMAC-only / bare, paired rounds: {spread(hmac_bare)} (for context)")
    print(
        f"HMAC + decoding the routing fields / HMAC-only, paired rounds: {spread(floor)} "
        "(measured: what routing in the acknowledging process costs before any routing, "
        "logging or reconciling)"
    )
    print(f"flagbot / HMAC + decoding, paired rounds: {spread(of_floor)}")
    rate_ok, rss_ok = ratio >= RATE_GOAL, rss <= RSS_GOAL
    print(
        f"flagbot / HMAC-only, paired rounds: {spread(paired)} "
        f"(goal >= {RATE_GOAL}: {'meets' if rate_ok else 'MISSES'})"
    )
    print(
        f"peak RSS flagbot / HMAC-only: {rss:.2f} (goal <= {RSS_GOAL}: "
        f"{'meets' if rss_ok else 'MISSES'})"
    )
    return 0 if rate_ok and rss_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

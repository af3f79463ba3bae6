"""`flagbot emulator`: run the local GitHub alone, seeded from a YAML file."""

from __future__ import annotations

import argparse

HELP = "Run the local GitHub emulator (REST API and webhooks) from a seed file."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", required=True, metavar="FILE", help="seed YAML (see README)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (0: any free port)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--record", metavar="FILE", help="append every API call served, as JSON lines, to FILE"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import sys

    from bot.emulator import Emulator, SeedError

    try:
        emulator = Emulator.from_seed(args.seed, record_to=args.record)
    except SeedError as e:
        print(f"flagbot emulator: {e}", file=sys.stderr)
        return 1

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with emulator.serve(args.host, args.port) as server:
            print(f"flagbot emulator listening on {server.url}", flush=True)
            await stop.wait()
        print("flagbot emulator stopped", flush=True)

    try:
        asyncio.run(serve())
    except OSError as e:
        print(
            f"flagbot emulator: cannot listen on {args.host}:{args.port}: {e.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0

"""`flagbot emulator`: run the local GitHub alone, seeded from a YAML file."""

from __future__ import annotations

import argparse

HELP = "Run the local GitHub emulator (REST API and webhooks) from a seed file."


def port_number(text: str) -> int:
    from bot.commands.serve import port_number as serve_port

    return serve_port(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", required=True, metavar="FILE", help="seed YAML (see README)")
    parser.add_argument(
        "--port", type=port_number, default=8765, help="port to listen on (0: any free port)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--record", metavar="FILE", help="append every API call served, as JSON lines, to FILE"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import sys
    from pathlib import Path

    from bot.emulator import Emulator, SeedError

    if not Path(args.seed).is_file():
        print(f"flagbot emulator: --seed {args.seed}: no such file", file=sys.stderr)
        return 2
    try:
        emulator = Emulator.from_seed(Path(args.seed), record_to=args.record)
    except SeedError as e:  # the seed's own problems, with file:line (like `validate`)
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
        return 2
    return 0

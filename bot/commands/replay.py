"""`flagbot replay FILE...`: send recorded webhook deliveries to a bot again.

With `--url`, to a running bot (signed with `--secret` or $FLAGBOT_WEBHOOK_SECRET); without,
in process, to a flagbot service wired to an emulated GitHub started from `--seed` (default:
the rules and flags of the repository in the current directory, or of flagbot's own
checkout), printing what the bot decided and the GitHub calls it made.
Exit 0 when every delivery was accepted (and, in process, handled without an error), 1 when
one was refused, the bot was unreachable or it failed, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

HELP = "send recorded webhook deliveries (e.g. exported from GitHub) to a bot again"

EPILOG = """\
FILE: GitHub's delivery JSON (GET /app/hook/deliveries/ID, or a repository or organization
hook's deliveries), {"headers": ..., "payload": ...}, a probot fixture {"event", "payload"},
a JSON array of these, or a directory whose *.json files are replayed sorted by name.
Payloads are re-serialised and re-signed; the event and delivery id headers are kept."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("files", nargs="+", metavar="FILE", help="deliveries to replay, in order")
    parser.add_argument(
        "--url",
        help="a running bot's webhook URL, e.g. http://127.0.0.1:8080/webhook (without it: "
        "in process, to a flagbot wired to an emulated GitHub)",
    )
    parser.add_argument(
        "--secret",
        help="the bot's webhook secret (default: $FLAGBOT_WEBHOOK_SECRET; in process: the "
        "emulated bot's own)",
    )
    parser.add_argument(
        "--seed",
        metavar="SEED.yaml",
        help="in process: the emulated GitHub's seed file (as `flagbot emulator` takes)",
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, metavar="SECONDS", help="wait between deliveries"
    )
    parser.add_argument(
        "--event", metavar="NAME", help="the event of bare payloads (files with no headers)"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from bot.diagnostics import format_text
    from bot.replay.deliveries import read_deliveries

    if args.url and args.seed:
        return _usage("--seed is for replaying in process: drop it, or drop --url")
    if args.url and not args.url.startswith(("http://", "https://")):
        return _usage(f"--url must be an http:// or https:// URL, not {args.url!r}")
    if args.delay < 0:
        return _usage("--delay must not be negative")
    deliveries, problems = read_deliveries(args.files, event=args.event)
    if problems:
        print(format_text(problems), file=sys.stderr)
        print("flagbot replay: nothing was sent", file=sys.stderr)
        return 2
    if args.url:
        secret = args.secret or os.environ.get("FLAGBOT_WEBHOOK_SECRET", "")
        if not secret:
            return _usage("pass --secret or set FLAGBOT_WEBHOOK_SECRET (the bot's webhook secret)")
        return asyncio.run(_to_url(deliveries, args.url, secret, args.delay))
    return asyncio.run(_in_process(deliveries, args))


async def _to_url(deliveries: list[Any], url: str, secret: str, delay: float) -> int:
    import asyncio

    import aiohttp

    from bot.replay.send import post
    from bot.replay.transcript import heading

    refused = 0
    async with aiohttp.ClientSession() as session:
        for i, delivery in enumerate(deliveries, 1):
            if i > 1 and delay:
                await asyncio.sleep(delay)
            response = await post(session, url, delivery, secret)
            print(f"{heading(delivery, i, len(deliveries))} -> {response}", flush=True)
            if response.status is None:
                print(f"flagbot replay: {response.error}; stopped", file=sys.stderr)
                return 1
            refused += response.refused
    if refused:
        print(f"flagbot replay: {refused} of {len(deliveries)} refused", file=sys.stderr)
    return 1 if refused else 0


async def _in_process(deliveries: list[Any], args: argparse.Namespace) -> int:
    from bot.emulator import SeedError
    from bot.replay.local import InProcess
    from bot.replay.transcript import describe
    from bot.sandbox import SECRET, sandbox

    try:
        emulator, where = _emulator(args.seed)
    except (SeedError, FileNotFoundError) as exc:
        print(f"flagbot replay: {exc}", file=sys.stderr)
        return 2
    if not emulator.private_keys:
        return _usage(
            f"{where}: the seed needs a GitHub App with a private key (private_key_path) for "
            "flagbot to act as"
        )
    failed = 0
    async with sandbox(emulator, secret=args.secret or SECRET) as stack:
        print(f"flagbot replay: in process, against an emulated GitHub ({where})")
        print("  the emulated GitHub sends no webhooks of its own: the bot sees only these\n")
        async with InProcess(stack, delay=args.delay) as replay:
            for i, delivery in enumerate(deliveries, 1):
                replayed = await replay.send(delivery)
                print("\n".join(describe(replayed, i, len(deliveries))), flush=True)
                failed += replayed.response.refused or replayed.failed
    if failed:
        print(f"flagbot replay: {failed} of {len(deliveries)} refused or failed", file=sys.stderr)
    return 1 if failed else 0


def _emulator(seed: str | None) -> tuple[Any, str]:
    """The emulated GitHub to replay against, and a few words on where it came from."""
    from bot.emulator import Emulator
    from bot.emulator.seeds import acme_seed, repository_files

    if seed:
        return Emulator.from_seed(seed), f"seed {seed}"
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (root / ".github" / "flagbot.yml").is_file():
            files = repository_files(root)
            return Emulator.from_seed(acme_seed(files)), (
                f"acme/flags holding {root}'s .github/ and flags/; the acme teams and people"
            )
    raise FileNotFoundError(
        "no .github/flagbot.yml here or in flagbot's checkout to build a default seed: "
        "pass --seed SEED.yaml"
    )


def _usage(message: str) -> int:
    print(f"flagbot replay: {message}", file=sys.stderr)
    return 2

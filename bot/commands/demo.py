"""`flagbot demo`: play the whole story locally (see `bot/demo/`)."""

from __future__ import annotations

import argparse

HELP = (
    "Play flagbot's whole story on this repository's own flags, offline: a flag created by "
    "pull request, approved, validated, merged and announced; a bad change rejected; a staged "
    "rollout walked stage by stage to the end by the rollout job, on a simulated clock."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="afterwards, write the emulated repository to DIR (new or empty) as a git "
        "repository, to explore with `git log`",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="no ANSI colours (also when NO_COLOR is set or output is not a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import os
    import sys
    from importlib.util import find_spec
    from pathlib import Path

    if find_spec("aiosmtpd") is None:
        print(
            'flagbot demo needs its extra (an SMTP receiver): pip install "flagbot[demo]"',
            file=sys.stderr,
        )
        return 2

    from bot.demo.keep import KeepError
    from bot.demo.page import Page
    from bot.demo.play import captured_logs, play
    from bot.demo.seed import SourceMissing, source_root
    from bot.demo.story import StoryFailed
    from bot.demo.style import Style

    page = Page(sys.stdout, Style.for_stream(sys.stdout, no_color=args.no_color))
    keep = Path(args.keep).expanduser().resolve() if args.keep else None
    try:
        root = source_root()
    except SourceMissing as exc:
        print(f"flagbot demo: {exc}", file=sys.stderr)
        return 2
    with captured_logs() as records:
        try:
            asyncio.run(play(page, root, keep))
        except BrokenPipeError:  # `flagbot demo | head`: the reader left; stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        except KeepError as exc:
            print(f"flagbot demo: --keep: {exc}", file=sys.stderr)
            return 2
        except StoryFailed as exc:
            sys.stdout.flush()
            print(f"\nflagbot demo: {exc}", file=sys.stderr)
            print(
                "The story did not turn out as it should: flagbot has a regression, or the "
                "demo's files were edited.",
                file=sys.stderr,
            )
            for record in records[-20:]:
                print(f"  log: {record.name}: {record.getMessage()}", file=sys.stderr)
            return 1
    return 0

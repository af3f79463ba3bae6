"""The one entry point: `flagbot <command>`.

Each command lives in `bot/commands/<name>.py` with `HELP`, `configure(parser)` and
`run(args) -> int`; heavy imports happen inside `run`, so `flagbot validate` stays quick.
Exit codes: 0 success, 1 the command ran and found problems, 2 usage error. A usage error is
one line on stderr (what is wrong and where to read more), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot import __version__

COMMANDS: tuple[str, ...] = (
    "validate",
    "changes",
    "plan",
    "eval",
    "export",
    "rollout",
    "guard",
    "serve",
    "sweep",
    "redeliver",
    "replay",
    "demo",
    "emulator",
    "init",
    "schema",
)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: the problem and where help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="flagbot",
        description="Feature-flag governance the GitOps way.",
    )
    parser.add_argument("--version", action="version", version=f"flagbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"bot.commands.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130

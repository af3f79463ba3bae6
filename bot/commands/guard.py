"""`flagbot guard KEY`: evaluate one flag's rollout guards now and print each outcome.

The same evaluation the rollout job makes before a bump, without writing anything: URLs and
tokens from the environment variables the guard names, check runs and statuses of the default
branch's head from GitHub when `GITHUB_TOKEN` and `GITHUB_REPOSITORY` are set. Exit 0 when every
guard passes, 1 when one fails or is inconclusive, 2 on a usage problem.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.rollout.verdict import RunState, StatusState

HELP = "evaluate one flag's rollout guards now and print each outcome"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", help="the flag's key, or ENVIRONMENT/KEY outside the default one")
    parser.add_argument("--repo-dir", metavar="DIR", help="the checkout (default: .)")
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="per question (default 10)"
    )


def run(args: argparse.Namespace) -> int:
    from bot.commands.rollout import UsageError, repo_dir
    from bot.diagnostics import format_text
    from bot.flags.guard import describe_guard
    from bot.rollout.checkout import read_checkout
    from bot.rollout.preflight import reader_from_env
    from bot.rollout.probes import Prober
    from bot.rollout.verdict import overall

    try:
        root = repo_dir(args.repo_dir)
    except UsageError as exc:
        print(f"flagbot guard: {exc}", file=sys.stderr)
        return 2
    checkout = read_checkout(root)
    env, _, key = args.key.rpartition("/")
    env = env or checkout.default_environment
    found = [f for f in checkout.planned if (f.environment, f.key) == (env, key)]
    if not found:
        if checkout.diagnostics:
            print(format_text(checkout.diagnostics), file=sys.stderr)
        print(
            f"flagbot guard: no valid flag {args.key!r} with a staged plan in {root / 'flags'}",
            file=sys.stderr,
        )
        return 2
    [flag] = found
    assert flag.rollout is not None
    guard = flag.rollout.guard
    if not guard.checks:
        print(f"{args.key}: no guard (rollout.guard.checks, or flagbot.yml's rollout.guard)")
        return 0
    environ = dict(os.environ)
    head_checks = None
    if environ.get("GITHUB_TOKEN") and environ.get("GITHUB_REPOSITORY"):
        try:
            remote = reader_from_env(environ)
        except ValueError as exc:
            print(f"flagbot guard: {exc}", file=sys.stderr)
            return 2

        def head_checks(names: Sequence[str]) -> tuple[list[RunState], list[StatusState]]:
            return remote.head_checks(remote.head(), names)

    prober = Prober(environ, head_checks, args.timeout)
    [outcomes] = prober.evaluate([guard.checks])  # trouble asking is an inconclusive outcome
    print(f"{args.key}: {describe_guard(guard)}")
    for o in outcomes:
        print(f"  {o.verdict.upper():<12} {o.describe()}")
    verdict = overall(outcomes)
    then = {
        "pass": "the next due bump may go ahead",
        "inconclusive": "the job would hold: no bump",
        "fail": f"the job would {guard.on_failure}",
    }[verdict]
    print(f"overall: {verdict}; {then}")
    return 0 if verdict == "pass" else 1

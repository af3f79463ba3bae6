"""`flagbot eval KEY`: the value one subject gets from a flag in this checkout, and why.

The answer is `bot.flags.evaluate`'s, the semantics every export is tested against, so this
is how to check what an application reading an export should see.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "show the value a subject gets from a flag, and why (kill switch, rule, bucket, default)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help="the flag's key (its file name)")
    parser.add_argument("--env", help="the environment (default: flagbot.yml's default)")
    parser.add_argument(
        "--targeting-key", metavar="K", help="the subject's stable id (e.g. a user id)"
    )
    parser.add_argument(
        "--context",
        metavar="ATTR=VALUE",
        action="append",
        default=[],
        help="an attribute the rules test (repeat for more), e.g. --context country=NL",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def parse_context(pairs: list[str]) -> dict[str, str]:
    """`ATTR=VALUE` pairs as a mapping; ValueError names the pair without `=`."""
    context: dict[str, str] = {}
    for pair in pairs:
        attr, sep, value = pair.partition("=")
        if not sep or not attr:
            raise ValueError(f"--context {pair!r}: write ATTR=VALUE, e.g. country=NL")
        context[attr] = value
    return context


def run(args: argparse.Namespace) -> int:
    from bot.diagnostics import format_text
    from bot.flags.evaluate import evaluate
    from bot.local.checkout import CheckoutError, load_checkout

    try:
        context = parse_context(args.context)
        checkout = load_checkout()
    except (ValueError, CheckoutError) as exc:
        print(f"flagbot eval: {exc}", file=sys.stderr)
        return 2
    env = args.env or checkout.default_environment
    flag = checkout.flag(env, args.key)
    if flag is None:
        problems = checkout.problems_of(env, args.key)
        if problems:
            print(format_text(problems), file=sys.stderr)
            print(f"flagbot eval: {args.key} ({env}) is invalid; fix the file", file=sys.stderr)
            return 1
        known = ", ".join(sorted(f.key for f in checkout.flags if f.environment == env))
        print(
            f"flagbot eval: no flag {args.key!r} in environment {env!r} "
            f"(flags there: {known or 'none'})",
            file=sys.stderr,
        )
        return 1
    result = evaluate(flag, args.targeting_key, context)
    if args.format == "json":
        print(json.dumps({"environment": env, **result.as_json()}, indent=2))
    else:
        print(f"{flag.key} ({env}): {json.dumps(result.value)}  [{result.explain()}]")
    return 0

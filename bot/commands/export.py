"""`flagbot export --format flagd|unleash`: the checkout's flags as files applications read.

One file per environment, `DIR/<env>.flagd.json` or `DIR/<env>.unleash.json`. Nothing is
written unless every requested environment exports cleanly, so a reader never gets a set of
files that silently lacks a flag.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write the flags as flagd or Unleash files, one per environment (for applications)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("flagd", "unleash"), required=True)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="ENV",
        help="an environment to export (repeat for more; default: every one with flags)",
    )
    parser.add_argument(
        "--out", "-o", metavar="DIR", default=".", help="the folder to write to (default: .)"
    )
    parser.add_argument(
        "--repo", metavar="OWNER/NAME", help="for flagSetId (default: GITHUB_REPOSITORY)"
    )
    parser.add_argument("--version", dest="commit", help="recorded version (default: HEAD)")


def run(args: argparse.Namespace) -> int:
    from bot.diagnostics import format_text
    from bot.exports import encode, export
    from bot.local.checkout import CheckoutError, load_checkout

    try:
        flagset = load_checkout(repo=args.repo, commit=args.commit)
    except CheckoutError as exc:
        print(f"flagbot export: {exc}", file=sys.stderr)
        return 2
    envs = args.env or list(flagset.environments) or [flagset.default_environment]
    known = (*flagset.environments, flagset.default_environment)
    unknown = [env for env in envs if env not in known]
    if unknown:  # a misspelt --env would publish a file without a single flag
        print(
            f"flagbot export: no flag files for environment {', '.join(map(repr, unknown))} "
            f"(environments with flags: {', '.join(flagset.environments) or 'none'}); "
            "check --env",
            file=sys.stderr,
        )
        return 2
    results = [export(flagset, args.format, env) for env in envs]
    problems = [d for r in results for d in r.problems]
    if problems:
        print(format_text(tuple(dict.fromkeys(problems))), file=sys.stderr)
        print("flagbot export: nothing written; fix the files above", file=sys.stderr)
        return 1
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            assert result.document is not None
            target = out / result.filename
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(encode(result.document, indent=2))
            tmp.replace(target)  # atomic: a file-watching flagd never reads half a file
            print(f"wrote {target}")
    except OSError as exc:
        print(f"flagbot export: cannot write to --out {out}: {exc}", file=sys.stderr)
        return 2
    return 0

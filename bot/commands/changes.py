"""`flagbot changes --base REF [--head REF]`: what the bot will ask for, before you push.

Reads the branch from the local git checkout and runs the bot's own `assess` and `decide` on
it, with no reviews yet: the change requests, the roles each needs and who may approve them,
or why the bot would reject the pull request.
"""

from __future__ import annotations

import argparse
import sys

HELP = "show the change requests a branch would make and who must approve them (before pushing)"

EPILOG = """\
The diff is the pull request's: from the merge base of BASE and HEAD to HEAD. Only commits
count; uncommitted changes are not included, so commit first. .github/flagbot.yml and
CODEOWNERS are read from BASE, as the bot reads them from the pull request's base branch.
Exit status: 0 the bot would accept the change (and wait for approvals), 1 it would reject
it, 2 usage error (not a git repository, unknown ref)."""

FORMATS = ("text", "json")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--base",
        required=True,
        metavar="REF",
        help="the branch the pull request will target, e.g. main or origin/main",
    )
    parser.add_argument(
        "--head",
        default="HEAD",
        metavar="REF",
        help="the commit or branch to propose (default: HEAD); commits only",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="text or json")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.flags.location import FLAGS_DIR
    from bot.local.git import Git, GitError
    from bot.local.pull import read_pull
    from bot.local.render import is_rejection, render_json, render_text
    from bot.policy.decision import decide

    try:
        git = Git.discover(Path.cwd())
        pull = read_pull(git, args.base, args.head)
        dirty = pull.head_sha == git.resolve("HEAD") and git.has_uncommitted(FLAGS_DIR)
    except GitError as exc:
        print(f"flagbot changes: {exc}", file=sys.stderr)
        return 2
    inp = pull.inp
    decision = decide(inp)
    render = render_json if args.format == "json" else render_text
    print(render(pull, inp, decision))
    if dirty:
        print(
            f"flagbot changes: {FLAGS_DIR}/ has uncommitted changes, which are not included; "
            "commit them to see what the bot will ask for",
            file=sys.stderr,
        )
    return 1 if is_rejection(decision) else 0

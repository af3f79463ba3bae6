"""`flagbot init [DIR]`: scaffold a flags repository that runs a pinned flagbot release.

Writes only files that are missing: a file already there is left as it is (and said so), so
running it again changes nothing. Then prints what to set up on GitHub.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HELP = "scaffold a flags repository: example flag, flagbot.yml, CODEOWNERS, workflows"


def configure(parser: argparse.ArgumentParser) -> None:
    from bot.release import HOME_REPOSITORY, RELEASE_TAG

    parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="default: .")
    parser.add_argument(
        "--org",
        default="your-org",
        help="your GitHub organisation, for the teams in CODEOWNERS and flagbot.yml",
    )
    parser.add_argument(
        "--ref",
        default=RELEASE_TAG,
        help=f"the flagbot release (tag or commit sha) the workflows run (default: {RELEASE_TAG})",
    )
    parser.add_argument(
        "--flagbot-repo",
        default=HOME_REPOSITORY,
        metavar="OWNER/NAME",
        help=f"where flagbot is published (default: {HOME_REPOSITORY})",
    )


def resolve_pin(ref: str, repository: str) -> tuple[str | None, str]:
    """(commit sha or None, tag label): workflows are pinned by commit when it can be found."""
    from bot.release import COMMIT_SHA

    if COMMIT_SHA.fullmatch(ref):
        return ref, ref
    try:
        out = subprocess.run(
            ["git", "ls-remote", f"https://github.com/{repository}", f"refs/tags/{ref}*"],
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # never ask for credentials
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, ref
    found = dict(reversed(line.split("\t", 1)) for line in out.stdout.splitlines() if "\t" in line)
    sha = found.get(f"refs/tags/{ref}^{{}}") or found.get(f"refs/tags/{ref}")
    return sha, ref


def next_steps(org: str, pinned: bool, ref: str) -> str:
    lines = [
        "",
        "Next steps:",
        "  1. Push this repository to GitHub (main as the default branch).",
        "  2. Create a GitHub App for flagbot (README: 'The App and flagbot serve'), install it",
        "     on this repository, and run `flagbot serve` with its id, key and webhook secret.",
        "  3. Secrets and variables (Settings > Secrets and variables > Actions): the variable",
        "     FLAGBOT_APP_CLIENT_ID, the secret FLAGBOT_APP_PRIVATE_KEY, and the secrets of the",
        "     notification channels you add to .github/flagbot.yml.",
        "  4. Protect main: require the `flagbot` check and `flagbot validate`, let only the App",
        "     merge, and put the App on the bypass list so the rollout job can commit.",
        f"  5. Create the teams CODEOWNERS names (@{org}/eng-managers, qa, oncall, platform).",
    ]
    if org == "your-org":
        lines.append(
            "     (Run with --org ORG, or replace your-org in CODEOWNERS and flagbot.yml.)"
        )
    if not pinned:
        lines.append(
            f"  Note: {ref} could not be resolved to a commit (offline?); the workflows use "
            f"@{ref}. Pin them by its commit sha: flagbot init --ref <sha> into a fresh folder."
        )
    return "\n".join(lines)


def _in_the_way(root: Path, path: str) -> Path | None:
    """Something that stops `path` from being written as a file under `root`."""
    target = root / path
    if target.exists() and not target.is_file():
        return target
    for parent in target.parents:
        if parent == root or root not in parent.parents:
            break
        if parent.exists() and not parent.is_dir():
            return parent
    return None


# What the written files can hold: a GitHub organisation (CODEOWNERS' @org/team), a tag or
# commit after `uses: …@` and in schema URLs, and an OWNER/NAME.
ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,254}")


def bad_name(args: argparse.Namespace) -> str | None:
    """The option whose value would break the files init writes, and what to write instead."""
    from bot.rollout.preflight import REPOSITORY

    if not ORG.fullmatch(args.org):
        return f"--org {args.org!r} is not a GitHub organisation name (letters, digits, hyphens)"
    if not REF.fullmatch(args.ref) or ".." in args.ref:
        return f"--ref {args.ref!r} is not a tag or commit sha, e.g. v1.2.0"
    if not REPOSITORY.fullmatch(args.flagbot_repo):
        return f"--flagbot-repo {args.flagbot_repo!r} is not OWNER/NAME, e.g. flagbot/flagbot"
    return None


def run(args: argparse.Namespace) -> int:
    from bot.scaffold.files import Options, Pin, repository_files
    from bot.scaffold.plan import plan

    problem = bad_name(args)
    if problem:
        print(f"flagbot init: {problem}; nothing written", file=sys.stderr)
        return 2
    root = Path(args.dir).resolve()
    if root.exists() and not root.is_dir():
        print(f"flagbot init: {root} is a file, not a folder", file=sys.stderr)
        return 2
    sha, label = resolve_pin(args.ref, args.flagbot_repo)
    options = Options(
        org=args.org, pin=Pin(sha or label, label), flagbot_repository=args.flagbot_repo
    )
    files = repository_files(options)
    blocked = next(filter(None, (_in_the_way(root, path) for path in files)), None)
    if blocked:
        print(
            f"flagbot init: {blocked} is in the way (a file where a folder goes, or the "
            "reverse); move it and run init again",
            file=sys.stderr,
        )
        return 2
    existing = {p: (root / p).read_bytes() if (root / p).is_file() else None for p in files}
    steps = plan(files, existing)
    for step in steps:
        target = root / step.path
        if step.action == "create":
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as fh:  # never replaces a file
                fh.write(files[step.path])
        word = {"create": "created", "unchanged": "unchanged", "kept": "kept (yours)"}
        print(f"  {word[step.action]:<13} {step.path}")
    if not any(s.action == "create" for s in steps):
        print(f"flagbot init: nothing to do in {root}")
        return 0
    print(f"flagbot init: a flags repository in {root}, running {args.flagbot_repo}@{label}")
    print(next_steps(args.org, sha is not None, label))
    return 0

"""The flags of the checkout on disk, for `flagbot eval` and `flagbot export`.

Reads the working tree (what a person is editing, or what Actions checked out) and, when it
is a git work tree, its HEAD commit, which the exports record as their version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.exports.flagset import FlagSet


class CheckoutError(Exception):
    """No repository where the command runs; the message says where to run it."""


def head_commit(root: Path) -> str | None:
    """HEAD's commit id when `root` is a git work tree with commits, else None."""
    from bot.local.git import Git, GitError

    if not (root / ".git").exists():
        return None
    try:
        return Git(root).resolve("HEAD")
    except (GitError, OSError):
        return None


def load_checkout(
    start: Path | None = None,
    *,
    repo: str | None = None,
    commit: str | None = None,
    env: Mapping[str, str] | None = None,
) -> FlagSet:
    """The checkout at or above `start` (default: the current directory). `repo` defaults to
    GITHUB_REPOSITORY (set in Actions), `commit` to HEAD."""
    from bot.commands.validate import find_root, read_snapshot
    from bot.local.filemodes import checkout_problems

    here = (start or Path.cwd()).resolve()
    root = find_root(here)
    if root is None:
        raise CheckoutError(
            f"no repository here (no flags/ folder or .git above {here}); run it inside the "
            "repository"
        )
    env = os.environ if env is None else env
    return FlagSet.from_snapshot(
        read_snapshot(root),
        repo=repo or env.get("GITHUB_REPOSITORY") or None,
        commit=commit or head_commit(root),
        not_regular=checkout_problems(root),  # read_snapshot never follows them
    )

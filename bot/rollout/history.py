"""When a flag file last changed, from the local git history (for `flagbot plan`).

A shallow clone (Actions' default `fetch-depth: 1`) has history that ends at its boundary
commit: asking it would date every file to that commit, so a shallow repository counts as no
history at all and the caller asks GitHub instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def has_full_history(root: Path) -> bool:
    """`root` is inside a git work tree whose history is complete (not a shallow clone)."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if not inside or inside.strip() != "true":
        return False
    shallow = _git(root, "rev-parse", "--is-shallow-repository")
    return shallow is not None and shallow.strip() == "false"


def last_changes(root: Path, paths: Iterable[str]) -> dict[str, datetime]:
    """Committer date (UTC) of the newest commit touching each path (paths relative to `root`).

    One `git log` over all of them; a path git does not know is left out. Uncommitted edits
    are not in the history, so they are not dated either.
    """
    wanted = set(paths)
    if not wanted:
        return {}
    out = _git(
        root,
        "log",
        "--first-parent",  # a pull request merged with a merge commit: the merge dates it
        "--format=@%cI",
        "--name-only",
        "--no-renames",
        "--relative",
        "--",
        *sorted({p.split("/", 1)[0] for p in wanted}),
    )
    found: dict[str, datetime] = {}
    when: datetime | None = None
    for line in (out or "").splitlines():
        if line.startswith("@"):
            when = datetime.fromisoformat(line[1:]).astimezone(UTC)  # %cI: the committer's zone
        elif line and when is not None and line in wanted and line not in found:
            found[line] = when
            if len(found) == len(wanted):
                break
    return found

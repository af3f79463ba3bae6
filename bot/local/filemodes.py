"""The git modes of a checkout's entries under `flags/` that are not regular files, for
`flagbot validate` and the rollout job: symlinks as `lstat` sees them (never followed), and
what git's index records (`git ls-files -s`), which also names submodules never initialised.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.diagnostics import Diagnostic
from bot.flags.filemode import KINDS, MODE_SYMLINK, tree_problems
from bot.flags.location import FLAGS_DIR
from bot.local.git import Git, GitError


def checkout_modes(root: Path) -> dict[str, str]:
    """Path -> git mode of each symlink or submodule under `root/flags`."""
    found = _indexed(root)
    base = root / FLAGS_DIR
    if base.is_symlink():
        found[FLAGS_DIR] = MODE_SYMLINK
        return found
    for dirpath, dirnames, filenames in os.walk(base):
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in (*dirnames, *filenames):
            if stat.S_ISLNK(os.lstat(os.path.join(dirpath, name)).st_mode):
                found[f"{rel}/{name}"] = MODE_SYMLINK
        dirnames[:] = sorted(d for d in dirnames if f"{rel}/{d}" not in found)
    return found


def checkout_problems(root: Path) -> list[Diagnostic]:
    return tree_problems(checkout_modes(root))


def _indexed(root: Path) -> dict[str, str]:
    """Symlinks and gitlinks under flags/ in the index (none when `root` is no git work tree
    or git is missing: the job's checkout may be a plain copy)."""
    if not (root / ".git").exists():
        return {}
    try:
        out = Git(root).run("ls-files", "-s", "-z", "--", FLAGS_DIR, what="list flags/")
    except (GitError, OSError):
        return {}
    found: dict[str, str] = {}
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        mode = meta.split(b" ", 1)[0].decode()
        if mode in KINDS:
            found[path.decode("utf-8", "replace")] = mode
    return found

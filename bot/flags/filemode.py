"""Only regular files are flags: a symlink or a submodule (gitlink) under `flags/` is refused.

A symlink's blob is its target's path, which may well parse as YAML, and a gitlink has no
content at all; either would let something other than a reviewed file decide a flag. Git
records what an entry is in its tree mode, so the bot reads modes from the head's tree and a
checkout reports what `lstat` sees; both end in the same diagnostic.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.diagnostics import Diagnostic
from bot.flags.location import FLAGS_DIR

MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"
KINDS = {MODE_SYMLINK: "symlink", MODE_SUBMODULE: "submodule"}


def not_regular(path: str, mode: str) -> Diagnostic:
    kind = KINDS.get(mode, f"{mode} entry")
    return Diagnostic(
        path,
        0,
        0,
        f"{path} is a {kind} (mode {mode}): flags must be regular files; commit the flag's "
        "YAML itself at this path",
        "error",
        "flag-not-regular",
    )


def tree_problems(modes: Mapping[str, str]) -> list[Diagnostic]:
    """Every symlink or submodule among tree entries (path -> git mode) under `flags/`."""
    return [
        not_regular(path, mode)
        for path, mode in sorted(modes.items())
        if mode in KINDS and (path == FLAGS_DIR or path.startswith(FLAGS_DIR + "/"))
    ]


def checkout_modes(root: Path) -> dict[str, str]:
    """The entries under `root/flags` that are not regular files (path -> git mode), as a
    checkout holds them: symlinks by `lstat` (never followed), and what git's index records
    (`git ls-files -s`), which also names submodules that were never initialised."""
    found = _indexed_modes(root)
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


def _indexed_modes(root: Path) -> dict[str, str]:
    """Symlinks and gitlinks under `flags/` in the index of the git repository at `root`
    (none when `root` is not one, or git is missing)."""
    if not (root / ".git").exists():
        return {}
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-s", "-z", "--", FLAGS_DIR],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    found: dict[str, str] = {}
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        mode = meta.split(b" ", 1)[0].decode()
        if mode in KINDS:
            found[path.decode("utf-8", "replace")] = mode
    return found


def checkout_problems(root: Path) -> list[Diagnostic]:
    return tree_problems(checkout_modes(root))


def special_paths(problems: Iterable[Diagnostic]) -> set[str]:
    return {d.path for d in problems if d.code == "flag-not-regular"}

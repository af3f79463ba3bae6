"""Read a directory's files the way `git add -A` would see them, to seed a repository.

In a git work tree the file list comes from `git ls-files --cached --others --exclude-standard`
(tracked plus untracked, ignored ones excepted); elsewhere the directory is walked, skipping
`.git` and virtual environments. Contents come from disk, so uncommitted edits are included.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from bot.emulator.git.objects import MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK

SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules"})


def _git_listing(root: Path) -> list[str] | None:
    """Paths relative to `root`, or None when `root` is not inside a git work tree."""
    try:
        listing = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return sorted({n for n in listing.stdout.decode().split("\0") if n})


def _walk(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel = Path(dirpath).relative_to(root)
        for name in filenames:
            found.append(str(rel / name) if str(rel) != "." else name)
    return sorted(found)


def read_directory(root: str | Path) -> dict[str, tuple[str, bytes]]:
    """{relative posix path: (mode, content)} for the files a first commit of `root` would hold."""
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    names = _git_listing(base)
    if names is None:
        names = _walk(base)
    files: dict[str, tuple[str, bytes]] = {}
    for name in names:
        path = base / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # tracked but deleted in the work tree
        posix = Path(name).as_posix()
        if stat.S_ISLNK(info.st_mode):
            files[posix] = (MODE_SYMLINK, os.readlink(path).encode())
        elif stat.S_ISREG(info.st_mode):
            mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
            files[posix] = (mode, path.read_bytes())
    return files

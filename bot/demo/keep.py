"""`--keep DIR`: the emulated repository written out as an ordinary git repository.

The emulator writes git's own objects and refs (`Emulator.export_git`); put at `DIR/.git` and
marked non-bare, with main checked out by git, it is a repository like any clone: every branch
of the story, the merge commits with their trailers, the job's bump commits.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.emulator.emulator import Emulator


class KeepError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Kept:
    path: Path
    checked_out: bool  # False when git is not installed: the history is there, no work tree
    note: str = ""


def check_target(path: Path) -> None:
    """Refuse before the story starts rather than overwrite something at the end."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise KeepError(f"{path} already exists and is not an empty directory; name a new one")


def keep(emulator: Emulator, repo: str, path: Path) -> Kept:
    check_target(path)
    path.mkdir(parents=True, exist_ok=True)
    emulator.export_git(repo, path / ".git")
    git = shutil.which("git")
    if git is None:
        return Kept(
            path, False, "git is not installed: the history is in .git, no files checked out"
        )
    for args in (["config", "core.bare", "false"], ["reset", "--quiet", "--hard"]):
        done = subprocess.run(
            [git, "-C", str(path), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise KeepError(f"git {' '.join(args)} in {path} failed: {done.stderr.strip()}")
    return Kept(path, True)

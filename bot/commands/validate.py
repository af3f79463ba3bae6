"""`flagbot validate [PATH...]`: check flag files and flagbot.yml before pushing them.

The whole repository is always read (duplicate keys and the policy need it); PATHs only choose
which files' problems are shown.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

HELP = "check flag files and .github/flagbot.yml (exit 1 when something is wrong)"

FORMATS = ("text", "json", "github")
# Read beyond this and a file is reported as too large anyway; stops a stray huge file from
# being read whole into memory.
READ_LIMIT = 1024 * 1024 + 1


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to report on (default: the whole repository)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (path:line:col: message), json, or github (Actions annotations)",
    )


class UsageError(Exception):
    pass


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding `flags/` or `.git`."""
    for candidate in (start, *start.parents):
        if (candidate / "flags").is_dir() or (candidate / ".git").exists():
            return candidate
    return None


def read_snapshot(root: Path) -> dict[str, bytes]:
    """Every file flagbot reads, keyed by its path from the repository root. Symlinks under
    flags/ are never followed (they are reported, see `bot.flags.filemode`)."""
    from bot.flags.location import FLAGS_DIR, is_flag_path
    from bot.policy.codeowners import CODEOWNERS_LOCATIONS
    from bot.policy.config import POLICY_PATH

    wanted = [POLICY_PATH, *CODEOWNERS_LOCATIONS, *flag_files(root, FLAGS_DIR, is_flag_path)]
    snapshot: dict[str, bytes] = {}
    for rel in wanted:
        data = read_file(root / rel)
        if data is not None:
            snapshot[rel] = data
    return snapshot


def flag_files(root: Path, folder: str, wanted: Callable[[str], bool]) -> list[str]:
    """The files under `folder` (repository-relative, sorted) that `wanted` accepts, found
    from directory listings alone: no stat per file, and no symlink followed."""
    found: list[str] = []
    pending = [] if (root / folder).is_symlink() else [folder]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(root / rel) as entries:
                for entry in entries:
                    path = f"{rel}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(path)
                    elif entry.is_file(follow_symlinks=False) and wanted(path):
                        found.append(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return sorted(found)


def read_file(path: Path) -> bytes | None:
    """The file's bytes (at most READ_LIMIT), or None when it is missing or not a regular
    file: one open, one stat, one read of exactly its size (a FIFO does not block the open)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        return os.read(fd, min(info.st_size + 1, READ_LIMIT))
    finally:
        os.close(fd)


def selection(root: Path, raw_paths: list[str]) -> list[str]:
    """Repository-relative prefixes for the PATHs given on the command line."""
    chosen = []
    for raw in raw_paths:
        path = Path(raw).resolve()
        if not path.exists():
            raise UsageError(f"{raw}: no such file or directory")
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{raw}: outside the repository at {root}") from None
        chosen.append("" if rel == "." else rel)
    return chosen


def _selector(prefixes: list[str]) -> Callable[[str], bool]:
    def keep(path: str) -> bool:
        return any(not p or path == p or path.startswith(p + "/") for p in prefixes)

    return keep


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.diagnostics import FORMATTERS
    from bot.flags.location import is_flag_path
    from bot.local.filemodes import checkout_problems
    from bot.policy.config import POLICY_PATH
    from bot.validation import validate_snapshot

    root = find_root(Path.cwd().resolve())
    if root is None:
        print(
            "flagbot validate: no repository here (no flags/ folder or .git above "
            f"{Path.cwd()}); run it inside the repository",
            file=sys.stderr,
        )
        return 2
    try:
        prefixes = selection(root, args.paths)
    except UsageError as exc:
        print(f"flagbot validate: {exc}", file=sys.stderr)
        return 2
    snapshot = read_snapshot(root)
    result = validate_snapshot(snapshot)
    not_regular = tuple(checkout_problems(root))  # symlinks and submodules under flags/
    result = replace(result, diagnostics=result.diagnostics + not_regular)
    if prefixes:
        result = result.restricted(_selector(prefixes))
        for prefix in prefixes:
            if prefix and not any(
                p == prefix or p.startswith(prefix + "/")
                for p in snapshot
                if is_flag_path(p) or p == POLICY_PATH
            ):
                print(
                    f"flagbot validate: {prefix}: not a flag file (flags/**/*.yaml) or "
                    f"{POLICY_PATH}; nothing to check there",
                    file=sys.stderr,
                )
    output = FORMATTERS[args.format](result.diagnostics)
    if output:
        print(output)
    if args.format == "text":
        print(result.summary(), file=sys.stderr)
    return 0 if result.ok else 1

"""Only regular files are flags: a symlink or a submodule (gitlink) under `flags/` is refused.

A symlink's blob is its target's path, which may well parse as YAML, and a gitlink has no
content at all; either would let something other than a reviewed file decide a flag. Git
records what an entry is in its tree mode: the bot reads modes from the head's tree, a
checkout's come from `bot.local.filemodes`; both end in the same diagnostic. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

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

"""Git objects, trees, history, merges and diffs with the ids the `git` binary computes."""

from bot.emulator.git.objects import (
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SYMLINK,
    MODE_TREE,
    ZERO_SHA,
    Commit,
    GitObjectError,
    ObjectStore,
    Signature,
    TreeEntry,
    object_id,
)
from bot.emulator.git.repo import Change, GitRepo

__all__ = [
    "MODE_EXECUTABLE",
    "MODE_FILE",
    "MODE_SYMLINK",
    "MODE_TREE",
    "ZERO_SHA",
    "Change",
    "Commit",
    "GitObjectError",
    "GitRepo",
    "ObjectStore",
    "Signature",
    "TreeEntry",
    "object_id",
]

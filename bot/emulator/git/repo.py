"""One repository's git data: objects, refs, and the operations the REST API is built from."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.emulator.git.history import History
from bot.emulator.git.merge import MergeResult, merge_trees
from bot.emulator.git.objects import (
    MODE_TREE,
    Commit,
    ObjectStore,
    Signature,
    TreeEntry,
)
from bot.emulator.git.trees import Edit, FlatTree, Trees

_HEX = re.compile(r"^[0-9a-f]{4,40}$")

# A change to one path: new content (bytes, mode 100644 or kept), an explicit (mode, blob sha),
# or None to delete it.
Change = bytes | tuple[str, str] | None


class GitRepo:
    def __init__(self) -> None:
        self.store = ObjectStore()
        self.trees = Trees(self.store)
        self.history = History(self.store, self.trees)
        self.refs: dict[str, str] = {}  # full names: "refs/heads/main" -> commit sha
        # values computed from immutable objects (diffs, merges), keyed by the ids they used
        self.derived: dict[tuple, object] = {}
        self.store.put_tree([])  # the empty tree exists in every repository

    # --- refs -----------------------------------------------------------------------------
    def branch(self, name: str) -> str | None:
        return self.refs.get(f"refs/heads/{name}")

    def branches(self) -> list[str]:
        return sorted(
            r.removeprefix("refs/heads/") for r in self.refs if r.startswith("refs/heads/")
        )

    def resolve(self, ref: str) -> str | None:
        """A commit id for a branch, tag, full ref name or (abbreviated) commit id."""
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/{ref}"):
            if candidate in self.refs:
                return self.refs[candidate]
        if _HEX.match(ref):
            return self.store.resolve_prefix(ref)
        return None

    # --- reading --------------------------------------------------------------------------
    def flat(self, commit_sha: str) -> FlatTree:
        return self.trees.flatten(self.store.commit(commit_sha).tree)

    def read(self, commit_sha: str, path: str) -> bytes | None:
        entry = self.trees.entry_at(self.store.commit(commit_sha).tree, path)
        if entry is None or entry.mode == MODE_TREE or entry.type == "commit":
            return None
        return self.store.blob(entry.sha)

    def entry(self, commit_sha: str, path: str) -> TreeEntry | None:
        return self.trees.entry_at(self.store.commit(commit_sha).tree, path)

    # --- writing --------------------------------------------------------------------------
    def tree_with(self, base_tree: str | None, changes: Mapping[str, Change]) -> str:
        """`base_tree` with `changes` applied: only the trees on the changed paths are written."""
        edits: list[Edit] = []
        for path, change in changes.items():
            path = path.strip("/")
            if isinstance(change, bytes):
                edits.append((path, (None, self.store.put_blob(change))))  # keeps the mode
            else:
                edits.append((path, change))
        return self.trees.edit(base_tree, edits)

    def commit(
        self,
        tree: str,
        parents: tuple[str, ...] | list[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        return self.store.put_commit(
            Commit(tree, tuple(parents), author, committer or author, message)
        )

    def commit_changes(
        self,
        parent: str | None,
        changes: Mapping[str, Change],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        base_tree = self.store.commit(parent).tree if parent else None
        tree = self.tree_with(base_tree, changes)
        return self.commit(tree, (parent,) if parent else (), message, author, committer)

    def merge(self, ours: str, theirs: str) -> tuple[MergeResult, str | None]:
        """Merge two commits' trees over their merge base: (result, merge base)."""
        base = self.history.merge_base(ours, theirs)
        return self.merge_commits(base, ours, theirs), base

    def merge_commits(self, base: str | None, ours: str, theirs: str) -> MergeResult:
        """Three-way merge of the trees of `ours` and `theirs` over `base`'s (None: none)."""
        base_tree = self.store.commit(base).tree if base else None
        return merge_trees(self.store, base_tree, self.tree_of(ours), self.tree_of(theirs))

    def tree_of(self, commit_sha: str) -> str:
        return self.store.commit(commit_sha).tree

    def changes(self, old_commit: str | None, new_commit: str) -> tuple[FlatTree, FlatTree]:
        """The paths that differ between two commits: (old side, new side), only those paths."""
        old = self.tree_of(old_commit) if old_commit else None
        return self.trees.changed(old, self.tree_of(new_commit))

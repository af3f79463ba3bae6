"""Trees as flat path maps, and back: what every write (contents API, git data API, merges) needs.

A flat map is `{path: (mode, blob_sha)}` for every blob in a tree, paths `/`-separated.
Flattening is memoised per tree id (trees are immutable), so reading a file at a commit is a
dictionary lookup after the first time.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.emulator.git.objects import MODE_TREE, GitObjectError, ObjectStore, TreeEntry

FlatTree = dict[str, tuple[str, str]]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class Trees:
    """Path-level views over an ObjectStore's trees."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._flat: dict[str, FlatTree] = {}

    def flatten(self, tree_sha: str) -> FlatTree:
        cached = self._flat.get(tree_sha)
        if cached is None:
            cached = {}
            for entry in self.store.tree(tree_sha):
                if entry.mode == MODE_TREE:
                    for sub, value in self.flatten(entry.sha).items():
                        cached[f"{entry.name}/{sub}"] = value
                else:
                    cached[entry.name] = (entry.mode, entry.sha)
            self._flat[tree_sha] = cached
        return cached

    def build(self, flat: Mapping[str, tuple[str, str]]) -> str:
        """Write the trees for a flat map and return the root tree id."""
        children: dict[str, dict] = {}
        for path, value in flat.items():
            parts = path.split("/")
            if any(p in ("", ".", "..") for p in parts):
                raise GitObjectError(f"invalid path {path!r}")
            node = children
            for part in parts[:-1]:
                sub = node.setdefault(part, {})
                if not isinstance(sub, dict):
                    raise GitObjectError(f"{path!r} is below a file")
                node = sub
            if isinstance(node.get(parts[-1]), dict):
                raise GitObjectError(f"{path!r} is a directory")
            node[parts[-1]] = value
        sha = self._write(children)
        self._flat.setdefault(sha, dict(flat))
        return sha

    def _write(self, node: dict) -> str:
        entries = []
        for name, value in node.items():
            if isinstance(value, dict):
                entries.append(TreeEntry(MODE_TREE, name, self._write(value)))
            else:
                mode, sha = value
                entries.append(TreeEntry(mode, name, sha))
        return self.store.put_tree(entries)

    def entry_at(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry (blob or tree) at `path`, or None. An empty path is the root tree."""
        if path in ("", "/"):
            return TreeEntry(MODE_TREE, "", tree_sha)
        current = tree_sha
        parts = path.strip("/").split("/")
        for i, part in enumerate(parts):
            found = next((e for e in self.store.tree(current) if e.name == part), None)
            if found is None:
                return None
            if i == len(parts) - 1:
                return found
            if found.mode != MODE_TREE:
                return None
            current = found.sha
        return None

"""Trees as paths: build from a flat path map, edit along changed paths, compare, look up.

A flat map is `{path: (mode, blob_sha)}` for every blob in a tree, paths `/`-separated. Seeding
builds a whole tree from one. Every later write (contents API, git data API, merges) edits a
tree the way git does: only the trees on a changed path are rewritten, every other subtree
keeps its id, so a one-file commit costs the depth of its path, not the size of the
repository. Trees are stored sorted in git's order, so a name is found by bisection.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.emulator.git.objects import (
    EMPTY_TREE,
    MODE_FILE,
    MODE_TREE,
    GitObjectError,
    ObjectStore,
    TreeEntry,
    tree_sort_key,
)

FlatTree = dict[str, tuple[str, str]]

# What an edit puts at a path: (mode, object id), with mode None meaning "the mode of the file
# already there, else 100644"; a tree mode grafts a whole tree; None deletes the path (a file
# or a whole directory).
Put = tuple[str | None, str]
Edit = tuple[str, Put | None]
_Op = tuple[list[str], Put | None, str]  # an edit with its path split, and the path as given

__all__ = ["EMPTY_TREE", "Edit", "FlatTree", "Put", "Trees", "find"]


def find(entries: tuple[TreeEntry, ...], name: str) -> TreeEntry | None:
    """The entry called `name` in a sorted tree (a file sorts as `name`, a tree as `name/`)."""
    raw = name.encode()
    for key in (raw, raw + b"/"):
        i = bisect_left(entries, key, key=tree_sort_key)
        if i < len(entries) and entries[i].name == name:
            return entries[i]
    return None


@dataclass(slots=True)
class _Slot:
    """One name in a tree being edited: what is there so far. A file part and a directory part
    (its tree id, None for a new one, with the edits still to apply below it) are kept apart
    until the end, because a later edit may delete one of them; both left is an error."""

    file: TreeEntry | None = None
    tree: str | None = None
    below: list[_Op] = field(default_factory=list)

    @property
    def has_dir(self) -> bool:
        return self.tree is not None or bool(self.below)


class Trees:
    """Path-level views over an ObjectStore's trees."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._flat: dict[str, FlatTree] = {}

    # --- reading ----------------------------------------------------------------------------
    def flatten(self, tree_sha: str) -> FlatTree:
        """Every blob below a tree. Costs the size of the tree: for listings and seeding, not
        for per-change work (see `changed`)."""
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

    def entry_at(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry (blob or tree) at `path`, or None. An empty path is the root tree."""
        if path in ("", "/"):
            return TreeEntry(MODE_TREE, "", tree_sha)
        current = tree_sha
        parts = path.strip("/").split("/")
        for i, part in enumerate(parts):
            found = find(self.store.tree(current), part)
            if found is None:
                return None
            if i == len(parts) - 1:
                return found
            if found.mode != MODE_TREE:
                return None
            current = found.sha
        return None

    def changed(self, old: str | None, new: str | None) -> tuple[FlatTree, FlatTree]:
        """The blobs that differ between two trees: (old side, new side), as flat maps holding
        only the changed paths. Subtrees with equal ids are skipped without being read."""
        before: FlatTree = {}
        after: FlatTree = {}
        self._changed(old, new, "", before, after)
        return before, after

    def _changed(
        self, old: str | None, new: str | None, prefix: str, before: FlatTree, after: FlatTree
    ) -> None:
        if old == new:
            return
        a = {e.name: e for e in self.store.tree(old)} if old else {}
        b = {e.name: e for e in self.store.tree(new)} if new else {}
        for name in a.keys() | b.keys():
            x, y = a.get(name), b.get(name)
            if x == y:
                continue
            x_tree = x.sha if x is not None and x.mode == MODE_TREE else None
            y_tree = y.sha if y is not None and y.mode == MODE_TREE else None
            if x_tree or y_tree:
                self._changed(x_tree, y_tree, f"{prefix}{name}/", before, after)
            if x is not None and x_tree is None:
                before[prefix + name] = (x.mode, x.sha)
            if y is not None and y_tree is None:
                after[prefix + name] = (y.mode, y.sha)

    # --- writing ----------------------------------------------------------------------------
    def build(self, flat: Mapping[str, tuple[str, str]]) -> str:
        """Write the trees for a whole flat map and return the root tree id (seeding)."""
        children: dict[str, dict] = {}
        for path, value in flat.items():
            parts = _parts(path)
            node = children
            for part in parts[:-1]:
                sub = node.setdefault(part, {})
                if not isinstance(sub, dict):
                    raise GitObjectError(f"{path!r} is below a file")
                node = sub
            if isinstance(node.get(parts[-1]), dict):
                raise GitObjectError(f"{path!r} is a directory")
            node[parts[-1]] = value
        if not children:
            return EMPTY_TREE
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

    def edit(self, base_tree: str | None, edits: Iterable[Edit]) -> str:
        """The root tree id after applying `edits` in order to `base_tree` (None: empty).

        Only the trees on edited paths are rewritten; all others keep their ids. A directory
        left empty disappears, as in git. Edits apply in order (a deletion removes a file or a
        whole directory); a path left holding both a file and a directory is an error.
        """
        ops: list[_Op] = [(_parts(path), put, path) for path, put in edits]
        return self._edit(base_tree, ops, 0) or EMPTY_TREE

    def _edit(self, tree_sha: str | None, ops: list[_Op], depth: int) -> str | None:
        """The edited tree's id, or None when nothing is left in it."""
        entries = self.store.tree(tree_sha) if tree_sha else ()
        slots: dict[str, _Slot] = {}
        for op in ops:
            parts, put, _ = op
            name = parts[depth]
            slot = slots.get(name)
            if slot is None:
                slot = slots[name] = _slot(find(entries, name))
            if depth < len(parts) - 1:  # an edit below this name
                if put is not None or slot.has_dir:
                    slot.below.append(op)
            elif put is None:
                slot.file, slot.tree, slot.below = None, None, []
            elif put[0] == MODE_TREE:  # graft a whole tree
                slot.tree, slot.below = (put[1] if put[1] != EMPTY_TREE else None), []
            else:
                mode = put[0] or (slot.file.mode if slot.file is not None else MODE_FILE)
                slot.file = TreeEntry(mode, name, put[1])
        edited = list(entries)
        changed = False
        for name, slot in slots.items():
            sub = self._resolve(slot, depth)
            if slot.file is not None and sub is not None:
                path = "/".join([*ops[0][0][:depth], name])
                raise GitObjectError(f"{path!r} would be both a file and a directory")
            new = slot.file or (TreeEntry(MODE_TREE, name, sub) if sub is not None else None)
            old = find(entries, name)
            if new == old:
                continue
            changed = True
            if old is not None:
                del edited[bisect_left(edited, tree_sort_key(old), key=tree_sort_key)]
            if new is not None:
                insort(edited, new, key=tree_sort_key)
        if not edited:
            return None
        if not changed and tree_sha is not None:
            return tree_sha
        return self.store.put_sorted_tree(tuple(edited))

    def _resolve(self, slot: _Slot, depth: int) -> str | None:
        """A slot's directory part: its tree id once the edits below it are applied (None when
        there is none or it is left empty)."""
        if slot.below:
            slot.tree, slot.below = self._edit(slot.tree, slot.below, depth + 1), []
        return slot.tree


def _slot(entry: TreeEntry | None) -> _Slot:
    if entry is None:
        return _Slot()
    if entry.mode == MODE_TREE:
        return _Slot(tree=entry.sha)
    return _Slot(file=entry)


def _parts(path: str) -> list[str]:
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise GitObjectError(f"invalid path {path!r}")
    return parts

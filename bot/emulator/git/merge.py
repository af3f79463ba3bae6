"""Three-way merges of trees, file by file and, inside text files, line by line.

This decides `mergeable` and builds merge, squash and rebase commits. A path merges cleanly
when only one side changed it, or both made the same change; when both changed a text file,
the changes merge line by line (diff3) unless they touch the same or adjacent lines, as git's
merge does. Anything else is a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.emulator.git.objects import EMPTY_TREE, MODE_TREE, ObjectStore, TreeEntry

Entry = tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class MergeResult:
    tree: str | None  # the merged root tree's id; None when there are conflicts
    conflicts: tuple[str, ...]  # conflicting paths, sorted

    @property
    def clean(self) -> bool:
        return not self.conflicts


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]


def merge_lines(base: list[bytes], ours: list[bytes], theirs: list[bytes]) -> list[bytes] | None:
    """diff3 over lines: the merged lines, or None when the sides conflict."""
    am = SequenceMatcher(None, base, ours, autojunk=False).get_matching_blocks()
    bm = SequenceMatcher(None, base, theirs, autojunk=False).get_matching_blocks()
    regions = []
    i = j = 0
    while i < len(am) and j < len(bm):
        a_base, a_at, a_len = am[i]
        b_base, b_at, b_len = bm[j]
        lo = max(a_base, b_base)
        hi = min(a_base + a_len, b_base + b_len)
        if lo < hi:
            regions.append((lo, hi, a_at + lo - a_base, a_at + hi - a_base, b_at + lo - b_base))
        if a_base + a_len < b_base + b_len:
            i += 1
        else:
            j += 1
    regions.append((len(base), len(base), len(ours), len(ours), len(theirs)))
    out: list[bytes] = []
    zi = ai = bi = 0
    for z_start, z_end, a_start, a_end, b_start in regions:
        base_chunk = base[zi:z_start]
        a_chunk = ours[ai:a_start]
        b_chunk = theirs[bi:b_start]
        if a_chunk == b_chunk or b_chunk == base_chunk:
            out += a_chunk
        elif a_chunk == base_chunk:
            out += b_chunk
        else:
            return None
        out += base[z_start:z_end]
        zi, ai, bi = z_end, a_end, b_start + (z_end - z_start)
    return out


def merge_trees(store: ObjectStore, base: str | None, ours: str, theirs: str) -> MergeResult:
    """Three-way merge of two trees over a base tree (None: no common history).

    Works tree by tree, as git does: where a side left a subtree untouched (same id as the
    base), the other side's subtree is taken whole without being read, so the cost follows
    what both sides changed, not the size of the repository."""
    conflicts: list[str] = []
    tree = _merge_tree(store, base, ours, theirs, "", conflicts)
    if conflicts:
        return MergeResult(None, tuple(sorted(conflicts)))
    return MergeResult(tree or EMPTY_TREE, ())


def _merge_tree(
    store: ObjectStore,
    base: str | None,
    ours: str | None,
    theirs: str | None,
    prefix: str,
    conflicts: list[str],
) -> str | None:
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    sides = [{e.name: e for e in store.tree(t)} if t else {} for t in (base, ours, theirs)]
    entries: list[TreeEntry] = []
    for name in sides[0].keys() | sides[1].keys() | sides[2].keys():
        b, o, t = (side.get(name) for side in sides)
        if o == t or t == b:
            entries += [o] if o is not None else []
            continue
        if o == b:
            entries += [t] if t is not None else []
            continue
        # Both sides changed `name`: merge its file part and its directory part apart, so a
        # file replaced by a directory merges path by path like everything else.
        path = prefix + name
        file, ok = merge_entry(store, *(_file_part(e) for e in (b, o, t)))
        if not ok:
            conflicts.append(path)
        subtrees = [e.sha if e is not None and e.mode == MODE_TREE else None for e in (b, o, t)]
        sub = _merge_tree(store, *subtrees, path + "/", conflicts) if any(subtrees) else None
        if file is not None and sub is not None:
            conflicts.append(path)  # a file on one side where the other has a directory
        elif file is not None:
            entries.append(TreeEntry(file[0], name, file[1]))
        elif sub is not None:
            entries.append(TreeEntry(MODE_TREE, name, sub))
    if not entries:
        return None
    return store.put_tree(entries)


def _file_part(entry: TreeEntry | None) -> Entry:
    return None if entry is None or entry.mode == MODE_TREE else (entry.mode, entry.sha)


def merge_entry(store: ObjectStore, b: Entry, o: Entry, t: Entry) -> tuple[Entry, bool]:
    """One path's three-way merge: (the merged (mode, blob) or None for deleted, clean?)."""
    if o == t:
        return o, True
    if o == b:
        return t, True
    if t == b:
        return o, True
    if o is None or t is None:
        return None, False  # modified on one side, deleted on the other
    base_mode = b[0] if b is not None else o[0]
    if o[0] == t[0] or t[0] == base_mode:
        mode = o[0]
    elif o[0] == base_mode:
        mode = t[0]
    else:
        return None, False
    if o[1] == t[1]:
        return (mode, o[1]), True
    base_data = store.blob(b[1]) if b is not None else b""
    ours_data, theirs_data = store.blob(o[1]), store.blob(t[1])
    if b is None or any(is_binary(d) for d in (base_data, ours_data, theirs_data)):
        return None, False
    lines = merge_lines(
        base_data.splitlines(keepends=True),
        ours_data.splitlines(keepends=True),
        theirs_data.splitlines(keepends=True),
    )
    if lines is None:
        return None, False
    return (mode, store.put_blob(b"".join(lines))), True

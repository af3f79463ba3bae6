"""Three-way merges of trees, file by file and, inside text files, line by line.

This decides `mergeable` and builds merge, squash and rebase commits. A path merges cleanly
when only one side changed it, or both made the same change; when both changed a text file,
the changes merge line by line (diff3) unless they touch the same or adjacent lines, as git's
merge does. Anything else is a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.emulator.git.objects import ObjectStore
from bot.emulator.git.trees import FlatTree

Entry = tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class MergeResult:
    tree: FlatTree
    conflicts: tuple[str, ...]

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


def merge_trees(
    store: ObjectStore, base: FlatTree, ours: FlatTree, theirs: FlatTree
) -> MergeResult:
    merged: FlatTree = {}
    conflicts = []
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        result, ok = _merge_entry(store, b, o, t)
        if not ok:
            conflicts.append(path)
        elif result is not None:
            merged[path] = result
    return MergeResult(merged, tuple(conflicts))


def _merge_entry(store: ObjectStore, b: Entry, o: Entry, t: Entry) -> tuple[Entry, bool]:
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

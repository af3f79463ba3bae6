"""File-level diffs between two trees, as GitHub reports them for pull requests and compares.

Each changed path gets a status (`added`, `removed`, `modified`, `renamed`), line counts and a
unified-diff `patch` (hunks only, no file headers, as GitHub returns it). Renames are found like
git's default: identical blobs first, then pairs at least 50 % similar.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.emulator.git.merge import is_binary
from bot.emulator.git.objects import MODE_SUBMODULE, ObjectStore
from bot.emulator.git.trees import FlatTree

RENAME_THRESHOLD = 0.5
MAX_RENAME_CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class FileChange:
    filename: str
    status: str
    sha: str  # blob id of the new side (of the old side for removed files)
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


def _range(start: int, length: int) -> str:
    beginning = start + 1
    if length == 1:
        return str(beginning)
    if length == 0:
        beginning -= 1
    return f"{beginning},{length}"


def line_diff(old: bytes, new: bytes) -> tuple[int, int, str | None]:
    """(additions, deletions, patch) between two blobs; binary blobs have no patch."""
    if is_binary(old) or is_binary(new):
        return 0, 0, None
    a = old.decode(errors="replace").splitlines(keepends=True)
    b = new.decode(errors="replace").splitlines(keepends=True)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    additions = deletions = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            deletions += i2 - i1
        if tag in ("replace", "insert"):
            additions += j2 - j1
    hunks = []
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        header = (
            f"@@ -{_range(first[1], last[2] - first[1])} +{_range(first[3], last[4] - first[3])} @@"
        )
        lines = [header]
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [_line(" ", x) for x in a[i1:i2]]
                continue
            if tag in ("replace", "delete"):
                lines += [_line("-", x) for x in a[i1:i2]]
            if tag in ("replace", "insert"):
                lines += [_line("+", x) for x in b[j1:j2]]
        hunks.append("\n".join(lines))
    return additions, deletions, "\n".join(hunks) if hunks else None


def _line(prefix: str, text: str) -> str:
    if text.endswith("\n"):
        return prefix + text[:-1]
    return prefix + text + "\n\\ No newline at end of file"


def _content(store: ObjectStore, entry: tuple[str, str]) -> bytes:
    """What a diff shows for a tree entry: a blob's bytes, or for a submodule (gitlink, no
    blob of its own) the line git and GitHub print, `Subproject commit <sha>`."""
    mode, sha = entry
    if mode == MODE_SUBMODULE:
        return f"Subproject commit {sha}\n".encode()
    return store.blob(sha)


def diff_trees(store: ObjectStore, old: FlatTree, new: FlatTree) -> list[FileChange]:
    removed = {p: old[p] for p in old if p not in new}
    added = {p: new[p] for p in new if p not in old}
    renames = _find_renames(store, removed, added)
    changes: list[FileChange] = []
    for path in sorted(set(old) | set(new)):
        if path in old and path in new:
            if old[path] == new[path]:
                continue
            adds, dels, patch = line_diff(_content(store, old[path]), _content(store, new[path]))
            # GitHub's `changed`: the mode changed and the content did not
            status = "changed" if old[path][1] == new[path][1] else "modified"
            changes.append(FileChange(path, status, new[path][1], adds, dels, patch))
        elif path in added:
            source = renames.get(path)
            before = _content(store, old[source]) if source else b""
            adds, dels, patch = line_diff(before, _content(store, new[path]))
            status = "renamed" if source else "added"
            changes.append(FileChange(path, status, new[path][1], adds, dels, patch, source))
        elif path not in renames.values():
            adds, dels, patch = line_diff(_content(store, old[path]), b"")
            changes.append(FileChange(path, "removed", old[path][1], adds, dels, patch))
    return changes


def _find_renames(store: ObjectStore, removed: FlatTree, added: FlatTree) -> dict[str, str]:
    """{new path: old path} for renamed files."""
    renames: dict[str, str] = {}
    by_sha: dict[str, list[str]] = {}
    for path, (mode, sha) in sorted(removed.items()):
        if mode != MODE_SUBMODULE:  # a gitlink is never a rename's source or target
            by_sha.setdefault(sha, []).append(path)
    for path, (mode, sha) in sorted(added.items()):
        if mode != MODE_SUBMODULE and by_sha.get(sha):
            renames[path] = by_sha[sha].pop(0)
    left = [p for p in removed if p not in renames.values() and removed[p][0] != MODE_SUBMODULE]
    right = [p for p in added if p not in renames and added[p][0] != MODE_SUBMODULE]
    if not left or not right or len(left) * len(right) > MAX_RENAME_CANDIDATES**2:
        return renames
    scored = []
    for new_path in right:
        new_data = store.blob(added[new_path][1])
        for old_path in left:
            old_data = store.blob(removed[old_path][1])
            if is_binary(new_data) or is_binary(old_data):
                continue
            ratio = SequenceMatcher(
                None, old_data.splitlines(), new_data.splitlines(), autojunk=False
            ).ratio()
            if ratio >= RENAME_THRESHOLD:
                scored.append((-ratio, new_path, old_path))
    used: set[str] = set()
    for _, new_path, old_path in sorted(scored):
        if new_path not in renames and old_path not in used:
            renames[new_path] = old_path
            used.add(old_path)
    return renames

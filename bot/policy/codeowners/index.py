"""The index of a parsed file's rules: which rule decides a path, without trying them all.

Rules are indexed by literals that every path they match must contain (see `pattern.Glob`):
anchored rules in a trie of their literal leading segments, the others by a segment's name,
extension or head. The index alone decides all-literal rules (`/services/api/`, `tests/`),
`docs/*`, `*` and one-segment names (`*.md`, `/src/*.py`, `test_*`). The rest are tried by
regex, last rule first and only if later than the best match so far; each regex is compiled
the first time its rule is a candidate. Building it costs a few microseconds a rule, so
`CodeOwners` builds it only once a file has answered enough paths to repay that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.policy.codeowners.pattern import (
    CHILDREN,
    EVERYTHING,
    LITERAL,
    NAME,
    Glob,
)

_Matcher = Callable[[str], re.Match[str] | None]


_Found = tuple[int, int, tuple[list[int], ...]]
_NONE: _Found = (-1, -1, ())


class _Keyed:
    """Rules found through one path segment (see `Glob`). LITERAL and NAME rules are decided
    by the segment's text alone: the last such rule per name, extension or head, for a file
    (or anything under it) and for a directory (`name/`: more path must follow). Other rules
    are listed by name, extension or head, last rule first, for a regex to confirm; `other`
    has no key. What a segment's text finds is worked out once and remembered, as directory
    and file names recur."""

    __slots__ = ("decided", "extension", "head", "other", "seen", "segment")
    SEEN_LIMIT = 50_000

    def __init__(self) -> None:
        # Indexed by `directory_only`: rules for files (and what is under them), directories.
        self.decided: tuple[_Decided, _Decided] = (_Decided(), _Decided())
        self.segment: dict[str, list[int]] = {}
        self.extension: dict[str, list[int]] = {}
        self.head: dict[int, dict[str, list[int]]] = {}  # by the head's length
        self.other: list[int] = []
        self.seen: dict[str, _Found] = {}

    def add(self, i: int, glob: Glob) -> None:
        """Rules must come last first."""
        if glob.shape in (LITERAL, NAME):
            decided = self.decided[glob.directory_only]
            if glob.shape == LITERAL:
                decided.names.setdefault(glob.segment or "", i)
            elif glob.extension is not None:
                decided.extensions.setdefault(glob.extension, i)
            else:
                head = glob.head or ""
                decided.heads.setdefault(len(head), {}).setdefault(head, i)
        elif glob.segment is not None:
            self.segment.setdefault(glob.segment, []).append(i)
        elif glob.extension is not None:
            self.extension.setdefault(glob.extension, []).append(i)
        elif glob.head is not None:
            self.head.setdefault(len(glob.head), {}).setdefault(glob.head, []).append(i)
        else:
            self.other.append(i)

    def find(self, part: str) -> _Found:
        """(last rule decided for `part` as a file or above one, the same as a directory,
        lists of rules to confirm by regex)."""
        found = self.seen.get(part)
        if found is not None:
            return found
        dot = part.rfind(".")
        extension = part[dot + 1 :] if dot >= 0 else None
        lists = []
        if self.segment and part in self.segment:
            lists.append(self.segment[part])
        if extension is not None and extension in self.extension:
            lists.append(self.extension[extension])
        for length, heads in self.head.items():
            if part[:length] in heads:
                lists.append(heads[part[:length]])
        file, directory = self.decided
        found = (file.last(part, extension), directory.last(part, extension), tuple(lists))
        if found == _NONE:
            found = _NONE
        if len(self.seen) >= self.SEEN_LIMIT:
            self.seen.clear()
        self.seen[part] = found
        return found


class _Decided:
    """The last rule per name, per extension and per head (by the head's length)."""

    __slots__ = ("extensions", "heads", "names")

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.extensions: dict[str, int] = {}
        self.heads: dict[int, dict[str, int]] = {}

    def last(self, part: str, extension: str | None) -> int:
        last = self.names.get(part, -1) if self.names else -1
        if extension is not None and self.extensions:
            last = max(last, self.extensions.get(extension, -1))
        for length, heads in self.heads.items():
            last = max(last, heads.get(part[:length], -1))
        return last


class _Node:
    """A trie node for anchored rules whose paths start with the segments leading here.
    `file` / `directory`: the last all-literal rule ending here (a directory rule needs more
    path below the node); `only_children`: the last `here/*` (exactly one more segment);
    `next`: NAME rules for the segment right after this one; `few`: a handful of regex rules,
    simply all tried; `keyed`: more of them, found through the segments that follow;
    `children`: the next level of the trie."""

    __slots__ = ("children", "directory", "few", "file", "keyed", "next", "only_children")

    def __init__(self) -> None:
        self.file = -1
        self.directory = -1
        self.only_children = -1
        self.next: _Keyed | None = None
        self.few: list[int] = []
        self.keyed: _Keyed | None = None
        self.children: dict[str, _Node] = {}


class Index:
    FEW = 6  # above this many regex rules at a node, key them like the unanchored ones

    def __init__(self, globs: Sequence[Glob]) -> None:
        self._globs = globs
        self._matchers: list[_Matcher | None] = [None] * len(globs)
        self._compiled: dict[str, _Matcher] = {}  # rules often share a tail, like `/*.py`
        self._root = _Node()
        self._everything = -1  # the last `*`
        self._anywhere = _Keyed()  # patterns not anchored by a literal start
        for i in reversed(range(len(globs))):  # so every list is last-rule-first
            glob = globs[i]
            if glob.shape == EVERYTHING:
                self._everything = max(self._everything, i)
            elif glob.anchored and (glob.prefix or glob.shape in (CHILDREN, NAME)):
                self._place(i, glob)
            else:
                self._anywhere.add(i, glob)
        self._key_crowded_nodes(self._root)

    def _place(self, i: int, glob: Glob) -> None:
        node = self._root
        for part in glob.prefix:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            node = child
        if glob.shape == LITERAL:
            if glob.directory_only:
                node.directory = max(node.directory, i)
            else:
                node.file = max(node.file, i)
        elif glob.shape == CHILDREN:
            node.only_children = max(node.only_children, i)
        elif glob.shape == NAME:
            node.next = node.next or _Keyed()
            node.next.add(i, glob)
        else:
            node.few.append(i)

    def _key_crowded_nodes(self, node: _Node) -> None:
        if len(node.few) > self.FEW:
            node.keyed = _Keyed()
            for i in node.few:
                node.keyed.add(i, self._globs[i])
            node.few = []
        for child in node.children.values():
            self._key_crowded_nodes(child)

    def winner(self, path: str) -> int:
        """Index of the last rule matching `path`, or -1."""
        parts = path.split("/")
        below = len(parts) - 1  # the index of the last segment; those before are directories
        best = self._everything
        node = self._root
        depth = -1  # the index of the segment that led to `node`
        start = 0  # where what follows `node`'s segments begins in `path`
        while True:
            if node.file > best:
                best = node.file
            if node.directory > best and depth < below:
                best = node.directory
            if node.only_children > best and depth + 1 == below:
                best = node.only_children
            if node.next is not None and depth < below:
                part = parts[depth + 1]
                file, directory, _ = node.next.seen.get(part) or node.next.find(part)
                if file > best:
                    best = file
                if directory > best and depth + 1 < below:
                    best = directory
            # These rules' regexes match what follows the segments walked so far.
            if node.few:
                if node.few[0] > best:  # lists run last rule first
                    best = self._scan(node.few, best, path[start:])
            elif node.keyed is not None:
                best = self._scan_keyed(node.keyed, parts, depth + 1, best, path[start:])
            if depth == below:
                break
            child = node.children.get(parts[depth + 1])
            if child is None:
                break
            node = child
            depth += 1
            start += len(parts[depth]) + (depth > 0)
        return self._scan_keyed(self._anywhere, parts, 0, best, path)

    def _scan_keyed(self, keyed: _Keyed, parts: list[str], start: int, best: int, text: str) -> int:
        below = len(parts) - 1
        seen = keyed.seen
        for j in range(start, len(parts)):
            found = seen.get(parts[j]) or keyed.find(parts[j])
            if found is _NONE:
                continue
            name, directory_name, lists = found
            if name > best:
                best = name
            if directory_name > best and j < below:
                best = directory_name
            for candidates in lists:
                if candidates[0] > best:
                    best = self._scan(candidates, best, text)
        if keyed.other and keyed.other[0] > best:
            best = self._scan(keyed.other, best, text)
        return best

    def _scan(self, candidates: list[int], best: int, text: str) -> int:
        for i in candidates:
            if i <= best:
                break
            match = self._matchers[i] or self._compile(i)
            if match(text) is not None:
                return i
        return best

    def _compile(self, i: int) -> _Matcher:
        glob = self._globs[i]
        source = glob.regex(after_prefix=True)
        match = self._compiled.get(source)
        if match is None:
            match = self._compiled[source] = re.compile(source, re.DOTALL).fullmatch
        self._matchers[i] = match
        return match

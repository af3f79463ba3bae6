"""A parsed CODEOWNERS file and the question asked of it: who owns this path?

The last matching rule wins (GitHub: "the last matching pattern takes the most precedence").
Scanning a thousand rules per path is slow, so rules are indexed by a literal every path they
match must contain (see `pattern.Glob`): anchored rules in a trie of their literal leading
segments, the rest by a segment name, extension or head. All-literal rules need no regex: the
index alone decides them. Lists are kept last-rule-first; a lookup only tries candidates later
than the best match so far, and compiles a rule's regular expression the first time it is a
candidate. The index is built on first use and kept with the file (the bot caches one
`CodeOwners` per base commit).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.policy.codeowners.errors import CodeownersError
from bot.policy.codeowners.pattern import Glob, compile_glob

_Matcher = Callable[[str], re.Match[str] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One valid line: `pattern` as written, `owners` in file order (empty: explicitly
    unowned), `line` 1-based."""

    pattern: str
    owners: tuple[str, ...]
    line: int
    source: str = field(default="", compare=False, repr=False)  # the line as written


@dataclass(frozen=True, eq=False)
class CodeOwners:
    """The rules GitHub would load from `path`, and the lines it would skip (`errors`)."""

    path: str
    rules: tuple[Rule, ...] = ()
    errors: tuple[CodeownersError, ...] = ()

    def rule_for(self, path: str) -> Rule | None:
        """The rule that decides `path` (repository-relative, no leading slash), if any."""
        winner = self._index.winner(path)
        return self.rules[winner] if winner >= 0 else None

    def owners_of(self, path: str) -> tuple[str, ...] | None:
        """None: no rule matches. `()`: the deciding rule names no owners (explicitly unowned)."""
        rule = self.rule_for(path)
        return None if rule is None else rule.owners

    @cached_property
    def _index(self) -> _Index:
        return _Index([compile_glob(rule.pattern) for rule in self.rules])


_NONE: tuple[int, int, tuple[list[int], ...]] = (-1, -1, ())


class _Keyed:
    """Rules found through one path segment (see `Glob`): by a literal name that decides alone
    (`names`, `directory_names`: the last such rule), or by a name, extension or head that a
    regex then confirms (lists of rule numbers, last rule first). `other` has no key. What a
    segment text finds is worked out once and remembered, as directory names recur."""

    __slots__ = (
        "directory_names",
        "extension",
        "head",
        "names",
        "other",
        "seen",
        "segment",
    )
    SEEN_LIMIT = 50_000

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.directory_names: dict[str, int] = {}
        self.segment: dict[str, list[int]] = {}
        self.extension: dict[str, list[int]] = {}
        self.head: dict[int, dict[str, list[int]]] = {}  # by the head's length
        self.other: list[int] = []
        self.seen: dict[str, tuple[int, int, tuple[list[int], ...]]] = {}

    def add(self, i: int, glob: Glob) -> None:
        """Rules must come last first."""
        if glob.literal:
            names = self.directory_names if glob.directory_only else self.names
            names.setdefault(glob.segment or "", i)
        elif glob.segment is not None:
            self.segment.setdefault(glob.segment, []).append(i)
        elif glob.extension is not None:
            self.extension.setdefault(glob.extension, []).append(i)
        elif glob.head is not None:
            self.head.setdefault(len(glob.head), {}).setdefault(glob.head, []).append(i)
        else:
            self.other.append(i)

    def find(self, part: str) -> tuple[int, int, tuple[list[int], ...]]:
        """(last rule named `part`, the same for `part/`, lists to confirm by regex)."""
        found = self.seen.get(part)
        if found is not None:
            return found
        lists = []
        if part in self.segment:
            lists.append(self.segment[part])
        dot = part.rfind(".")
        if dot >= 0 and part[dot + 1 :] in self.extension:
            lists.append(self.extension[part[dot + 1 :]])
        for length, heads in self.head.items():
            if part[:length] in heads:
                lists.append(heads[part[:length]])
        found = (self.names.get(part, -1), self.directory_names.get(part, -1), tuple(lists))
        if found == _NONE:
            found = _NONE
        if len(self.seen) >= self.SEEN_LIMIT:
            self.seen.clear()
        self.seen[part] = found
        return found


class _Node:
    """A trie node for anchored rules whose paths start with the segments leading here.
    `file` / `directory`: the last all-literal rule ending here (a directory rule needs more
    path below the node); `few`: a handful of other rules, simply all tried; `keyed`: more of
    them, found through the segments that follow."""

    __slots__ = ("children", "directory", "few", "file", "keyed")

    def __init__(self) -> None:
        self.file = -1
        self.directory = -1
        self.few: list[int] = []
        self.keyed: _Keyed | None = None
        self.children: dict[str, _Node] = {}


class _Index:
    FEW = 6

    def __init__(self, globs: Sequence[Glob]) -> None:
        self._globs = globs
        self._matchers: list[_Matcher | None] = [None] * len(globs)
        self._compiled: dict[str, _Matcher] = {}  # rules often share a tail, like `/*.py`
        self._root = _Node()
        self._anywhere = _Keyed()  # patterns not anchored by a literal start
        for i in reversed(range(len(globs))):  # so every list is last-rule-first
            glob = globs[i]
            if not glob.prefix:
                self._anywhere.add(i, glob)
                continue
            node = self._root
            for part in glob.prefix:
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = _Node()
                node = child
            if not glob.literal:
                node.few.append(i)
            elif glob.directory_only:
                node.directory = max(node.directory, i)
            else:
                node.file = max(node.file, i)
        self._key_crowded_nodes(self._root)

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
        below = len(parts) - 1  # parts that can be directories
        best = -1
        node: _Node | None = self._root
        end = -1  # where the segments walked so far end in `path`
        for depth, part in enumerate(parts):
            node = node.children.get(part)
            if node is None:
                break
            end += len(part) + 1
            if node.file > best:
                best = node.file
            if node.directory > best and depth < below:
                best = node.directory
            # These rules' regexes match what follows the segments walked so far.
            if node.few:
                best = self._scan(node.few, best, path[end:])
            elif node.keyed is not None:
                best = self._scan_keyed(node.keyed, parts, depth + 1, best, path[end:])
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
                best = self._scan(candidates, best, text)
        if keyed.other:
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

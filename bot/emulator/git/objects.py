"""Git objects with the ids git computes: blobs, trees and commits, and a store for them.

The ids must equal what the `git` binary computes (the contents API `sha` is a blob id that
clients compare and swap on), so encoding follows git's object format byte for byte: a header
`<type> <size>\\0`, trees as `<mode> <name>\\0<20-byte id>` entries in git's sort order, and
commits as `tree`/`parent`/`author`/`committer` header lines, a blank line and the message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

ObjectType = Literal["blob", "tree", "commit"]

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_TREE = "040000"
MODE_SUBMODULE = "160000"
BLOB_MODES = frozenset({MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK})
ZERO_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitObjectError(ValueError):
    """An object is malformed or missing."""


def object_id(kind: ObjectType, body: bytes) -> str:
    """The id git gives an object: sha1 over `<type> <size>\\0<body>`."""
    header = f"{kind} {len(body)}\0".encode()
    return hashlib.sha1(header + body, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str  # "100644", "100755", "120000", "040000" or "160000"
    name: str
    sha: str
    # this entry's bytes in a tree object, kept once computed: a tree rewritten for a one-file
    # change re-encodes only that entry, the rest are joined
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def type(self) -> Literal["blob", "tree", "commit"]:
        if self.mode == MODE_TREE:
            return "tree"
        if self.mode == MODE_SUBMODULE:
            return "commit"
        return "blob"

    def encoded(self) -> bytes:
        """`<mode> <name>\\0<20-byte id>`, as git writes the entry (trees as mode "40000")."""
        raw = self._encoded
        if raw is None:
            raw = f"{self.mode.lstrip('0')} {self.name}\0".encode() + bytes.fromhex(self.sha)
            object.__setattr__(self, "_encoded", raw)
        return raw


def tree_sort_key(entry: TreeEntry) -> bytes:
    """git's tree order: names compared as bytes, a tree's name as if it ended in "/"."""
    name = entry.name.encode()
    return name + b"/" if entry.mode == MODE_TREE else name


def encode_tree(
    entries: tuple[TreeEntry, ...] | list[TreeEntry], *, presorted: bool = False
) -> bytes:
    ordered = entries if presorted else sorted(entries, key=tree_sort_key)
    return b"".join([e.encoded() for e in ordered])


@dataclass(frozen=True, slots=True)
class Signature:
    """An author or committer line: who and when, with the timezone they wrote it in."""

    name: str
    email: str
    when: datetime  # timezone-aware

    def encode(self) -> str:
        offset = self.when.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        minutes = abs(minutes)
        seconds = int(self.when.timestamp())
        return f"{self.name} <{self.email}> {seconds} {sign}{minutes // 60:02d}{minutes % 60:02d}"

    @classmethod
    def decode(cls, text: str) -> Signature:
        lt = text.index("<")
        gt = text.index(">", lt)
        name = text[:lt].rstrip()
        email = text[lt + 1 : gt]
        seconds, tz = text[gt + 1 :].split()
        sign = -1 if tz.startswith("-") else 1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
        when = datetime.fromtimestamp(int(seconds), timezone(offset))
        return cls(name, email, when)

    def iso_utc(self) -> str:
        return self.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Commit:
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str

    def encode(self) -> bytes:
        lines = [f"tree {self.tree}"]
        lines += [f"parent {p}" for p in self.parents]
        lines.append(f"author {self.author.encode()}")
        lines.append(f"committer {self.committer.encode()}")
        return ("\n".join(lines) + "\n\n" + self.message).encode()

    @classmethod
    def decode(cls, body: bytes) -> Commit:
        text = body.decode()
        header, _, message = text.partition("\n\n")
        tree = ""
        parents: list[str] = []
        author = committer = None
        for line in header.split("\n"):
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key == "author":
                author = Signature.decode(value)
            elif key == "committer":
                committer = Signature.decode(value)
        if not tree or author is None or committer is None:
            raise GitObjectError("commit is missing tree, author or committer")
        return cls(tree, tuple(parents), author, committer, message)


class ObjectStore:
    """One repository's objects, kept parsed; ids are computed from the canonical encoding."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, tuple[TreeEntry, ...]] = {}
        self.commits: dict[str, Commit] = {}
        # what writing trees has cost so far: trees hashed and the entries encoded into them
        # (tests check that a small change rewrites little, whatever the repository's size)
        self.trees_hashed = 0
        self.tree_entries_hashed = 0

    def __contains__(self, sha: str) -> bool:
        return sha in self.blobs or sha in self.trees or sha in self.commits

    def kind(self, sha: str) -> ObjectType | None:
        if sha in self.blobs:
            return "blob"
        if sha in self.trees:
            return "tree"
        if sha in self.commits:
            return "commit"
        return None

    def put_blob(self, data: bytes) -> str:
        sha = object_id("blob", data)
        self.blobs.setdefault(sha, data)
        return sha

    def put_tree(self, entries: tuple[TreeEntry, ...] | list[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=tree_sort_key))
        names = [e.name for e in ordered]
        if len(set(names)) != len(names):
            raise GitObjectError("tree has duplicate entry names")
        return self.put_sorted_tree(ordered)

    def put_sorted_tree(self, ordered: tuple[TreeEntry, ...]) -> str:
        """Store a tree whose entries are already in git's order with unique names (an edit of
        a stored tree keeps both), skipping the sort and the check."""
        sha = object_id("tree", encode_tree(ordered, presorted=True))
        self.trees_hashed += 1
        self.tree_entries_hashed += len(ordered)
        self.trees.setdefault(sha, ordered)
        return sha

    def put_commit(self, commit: Commit) -> str:
        sha = object_id("commit", commit.encode())
        self.commits.setdefault(sha, commit)
        return sha

    def blob(self, sha: str) -> bytes:
        try:
            return self.blobs[sha]
        except KeyError:
            raise GitObjectError(f"no blob {sha}") from None

    def tree(self, sha: str) -> tuple[TreeEntry, ...]:
        try:
            return self.trees[sha]
        except KeyError:
            raise GitObjectError(f"no tree {sha}") from None

    def commit(self, sha: str) -> Commit:
        try:
            return self.commits[sha]
        except KeyError:
            raise GitObjectError(f"no commit {sha}") from None

    def raw(self, sha: str) -> tuple[ObjectType, bytes]:
        """The object as git stores it (type and body), for writing a real repository out."""
        if sha in self.blobs:
            return "blob", self.blobs[sha]
        if sha in self.trees:
            return "tree", encode_tree(self.trees[sha], presorted=True)
        if sha in self.commits:
            return "commit", self.commits[sha].encode()
        raise GitObjectError(f"no object {sha}")

    def resolve_prefix(self, prefix: str) -> str | None:
        """A full commit id from an abbreviated one (at least 4 hex digits), if unambiguous."""
        if len(prefix) == 40:
            return prefix if prefix in self.commits else None
        if len(prefix) < 4:
            return None
        found = [s for s in self.commits if s.startswith(prefix)]
        return found[0] if len(found) == 1 else None

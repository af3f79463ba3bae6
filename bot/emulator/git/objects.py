"""Git objects with the ids git computes: blobs, trees and commits, and a store for them.

The ids must equal what the `git` binary computes (the contents API `sha` is a blob id that
clients compare and swap on), so encoding follows git's object format byte for byte: a header
`<type> <size>\\0`, trees as `<mode> <name>\\0<20-byte id>` entries in git's sort order, and
commits as `tree`/`parent`/`author`/`committer` header lines, a blank line and the message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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

    @property
    def type(self) -> Literal["blob", "tree", "commit"]:
        if self.mode == MODE_TREE:
            return "tree"
        if self.mode == MODE_SUBMODULE:
            return "commit"
        return "blob"


def _tree_sort_key(entry: TreeEntry) -> bytes:
    # git compares names as bytes, with a tree's name compared as if it ended in "/".
    name = entry.name.encode()
    return name + b"/" if entry.mode == MODE_TREE else name


def encode_tree(entries: tuple[TreeEntry, ...] | list[TreeEntry]) -> bytes:
    out = bytearray()
    for e in sorted(entries, key=_tree_sort_key):
        mode = e.mode.lstrip("0")  # git writes trees as "40000"
        out += f"{mode} {e.name}\0".encode() + bytes.fromhex(e.sha)
    return bytes(out)


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
        ordered = tuple(sorted(entries, key=_tree_sort_key))
        names = [e.name for e in ordered]
        if len(set(names)) != len(names):
            raise GitObjectError("tree has duplicate entry names")
        sha = object_id("tree", encode_tree(ordered))
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
            return "tree", encode_tree(self.trees[sha])
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

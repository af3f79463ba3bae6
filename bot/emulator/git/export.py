"""Write an emulated repository out as a real (bare) git repository.

Loose objects are zlib-compressed `<type> <size>\\0<body>` files under `objects/xx/yyyy…`, refs
are one file each, HEAD names the default branch: `git log`, `git show` and `git fsck` work on
the result, and `git clone` of it gives a working tree.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.emulator.git.objects import ObjectStore

_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"


def reachable(store: ObjectStore, tips: Iterable[str]) -> set[str]:
    """Every object reachable from the given commits."""
    seen: set[str] = set()
    stack = [t for t in tips if t in store.commits]
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        kind = store.kind(sha)
        if kind == "commit":
            commit = store.commit(sha)
            stack.append(commit.tree)
            stack.extend(commit.parents)
        elif kind == "tree":
            stack.extend(e.sha for e in store.tree(sha) if e.type != "commit")
    return seen


def write_repository(
    store: ObjectStore, refs: Mapping[str, str], head_branch: str, path: str | Path
) -> Path:
    """Write objects reachable from `refs` ({"refs/heads/main": sha, ...}) into a bare repo."""
    root = Path(path)
    (root / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (root / "objects" / "pack").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "tags").mkdir(parents=True, exist_ok=True)
    made: set[str] = set()  # fan-out directories already there
    for sha in reachable(store, refs.values()):
        folder = root / "objects" / sha[:2]
        if sha[:2] not in made:
            folder.mkdir(exist_ok=True)
            made.add(sha[:2])
        target = folder / sha[2:]
        if target.exists():
            continue
        kind, body = store.raw(sha)
        # level 1: the objects are read back once (by a clone), not kept
        target.write_bytes(zlib.compress(f"{kind} {len(body)}\0".encode() + body, 1))
    for name, sha in refs.items():
        ref_file = root / name
        ref_file.parent.mkdir(parents=True, exist_ok=True)
        ref_file.write_text(sha + "\n")
    (root / "HEAD").write_text(f"ref: refs/heads/{head_branch}\n")
    (root / "config").write_text(_CONFIG)
    (root / "description").write_text("flagbot emulator export\n")
    return root

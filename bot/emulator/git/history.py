"""Commit history: ancestry, merge bases and `git log` order, with git's path limiting.

`log(..., path=)` follows git's default history simplification, which is what `git log -- path`
and GitHub's commits listing with `path` show: a commit is listed when its tree differs at
`path` from every parent; when it matches some parent ("TREESAME"), only that parent's line is
followed. So a merge commit is not listed for a change its merged branch already made; the
branch's own commit is.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from bot.emulator.git.objects import ObjectStore
from bot.emulator.git.trees import Trees


class History:
    def __init__(self, store: ObjectStore, trees: Trees) -> None:
        self.store = store
        self.trees = trees

    def ancestors(self, sha: str) -> set[str]:
        """`sha` and every commit reachable from it."""
        seen = {sha}
        stack = [sha]
        while stack:
            for parent in self.store.commit(stack.pop()).parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def is_ancestor(self, maybe_ancestor: str, sha: str) -> bool:
        return maybe_ancestor in self.ancestors(sha)

    def merge_base(self, a: str, b: str) -> str | None:
        """A best common ancestor of `a` and `b`: one no other common ancestor descends from."""
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        best = set(common)
        for sha in common:
            if sha in best:
                best -= self.ancestors(sha) - {sha}
        return max(best, key=lambda s: (self._time(s), s))

    def _time(self, sha: str) -> int:
        return int(self.store.commit(sha).committer.when.timestamp())

    def walk(self, tips: list[str]) -> Iterator[str]:
        """Commits reachable from `tips`, newest committer date first (git log's default order)."""
        heap: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        counter = 0
        for tip in tips:
            if tip not in seen:
                seen.add(tip)
                heapq.heappush(heap, (-self._time(tip), counter, tip))
                counter += 1
        while heap:
            _, _, sha = heapq.heappop(heap)
            yield sha
            for parent in self.store.commit(sha).parents:
                if parent not in seen:
                    seen.add(parent)
                    heapq.heappush(heap, (-self._time(parent), counter, parent))
                    counter += 1

    def range(self, exclude: str | None, include: str) -> list[str]:
        """`git log exclude..include` in order, newest first."""
        hidden = self.ancestors(exclude) if exclude else set()
        return [s for s in self.walk([include]) if s not in hidden]

    def log(self, tip: str, path: str | None = None) -> list[str]:
        if not path:
            return list(self.walk([tip]))
        path = path.strip("/")
        shown: list[str] = []
        heap: list[tuple[int, int, str]] = [(-self._time(tip), 0, tip)]
        seen = {tip}
        counter = 1
        at: dict[str, tuple[str, str] | None] = {}  # tree id -> entry at `path`; trees repeat

        def entry(tree: str) -> tuple[str, str] | None:
            if tree not in at:
                at[tree] = self._entry(tree, path)
            return at[tree]

        while heap:
            _, _, sha = heapq.heappop(heap)
            commit = self.store.commit(sha)
            here = entry(commit.tree)
            follow: tuple[str, ...] = commit.parents
            if not commit.parents:
                if here is not None:
                    shown.append(sha)
            else:
                same = [p for p in commit.parents if entry(self.store.commit(p).tree) == here]
                if same:
                    follow = (same[0],)
                else:
                    shown.append(sha)
            for parent in follow:
                if parent not in seen:
                    seen.add(parent)
                    heapq.heappush(heap, (-self._time(parent), counter, parent))
                    counter += 1
        return shown

    def _entry(self, tree_sha: str, path: str) -> tuple[str, str] | None:
        entry = self.trees.entry_at(tree_sha, path)
        return None if entry is None else (entry.mode, entry.sha)

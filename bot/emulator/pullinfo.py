"""Facts GitHub derives from a pull request's branches: its base commit, merge base, commits,
changed files and mergeability. Read-only; results are cached by the commit ids they depend
on, so repeated reads of an unchanged pull request cost nothing."""

from __future__ import annotations

from dataclasses import dataclass

from bot.emulator.git import GitRepo
from bot.emulator.git.diff import FileChange, diff_trees
from bot.emulator.state import PullRequest, Repo


@dataclass(frozen=True, slots=True)
class Mergeability:
    mergeable: bool | None
    state: str  # clean, dirty, draft, unknown
    rebaseable: bool | None
    test_merge_tree: str | None  # tree of the would-be merge commit, when clean


def base_sha(repo: Repo, pr: PullRequest) -> str:
    """The base commit: the base branch tip while open, frozen when closed."""
    if pr.state == "open":
        tip = repo.git.branch(pr.base_ref)
        if tip:
            return tip
    return pr.base_sha


def merge_base(repo: Repo, pr: PullRequest) -> str | None:
    return repo.git.history.merge_base(base_sha(repo, pr), pr.head_sha)


def commits(repo: Repo, pr: PullRequest) -> list[str]:
    """The pull request's commits, oldest first (`base..head`)."""
    return list(reversed(repo.git.history.range(base_sha(repo, pr), pr.head_sha)))


def files(repo: Repo, pr: PullRequest) -> list[FileChange]:
    """Changes between the merge base and the head (GitHub's three-dot diff)."""
    return _files(repo.git, base_sha(repo, pr), pr.head_sha)


def _files(git: GitRepo, base: str, head: str) -> list[FileChange]:
    key = ("files", base, head)
    cache = _cache(git)
    if key not in cache:
        mb = git.history.merge_base(base, head)
        cache[key] = diff_trees(git.store, *git.changes(mb, head))
    return cache[key]


def mergeability(repo: Repo, pr: PullRequest, *, consume: bool = True) -> Mergeability:
    """`consume`: a REST read uses up one of the pending `null` reads; a webhook payload
    shows `null` too but does not count as a read."""
    if pr.state != "open":
        return Mergeability(None, "unknown", None, None)
    if pr.mergeable_pending_reads > 0:
        if consume:
            pr.mergeable_pending_reads -= 1
        return Mergeability(None, "unknown", None, None)
    base = base_sha(repo, pr)
    key = ("merge", base, pr.head_sha)
    cache = _cache(repo.git)
    if key not in cache:
        result, _ = repo.git.merge(base, pr.head_sha)
        cache[key] = (result.clean, result.tree)
    clean, tree = cache[key]
    if not clean:
        return Mergeability(False, "dirty", False, None)
    return Mergeability(True, "draft" if pr.draft else "clean", True, tree)


def _cache(git: GitRepo) -> dict:
    return git.derived

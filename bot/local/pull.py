"""Two refs of a local checkout -> the decision input the bot would build for their pull request.

The local checkout implements the same narrow reads as the GitHub adapter (`PullReads`), and
the bot's own `read_input` turns them into the decision's input, so `assess` and `decide` run
exactly as in the service:
- the changed files are GitHub's pull-request diff: merge base of BASE and HEAD -> HEAD;
- the old side of each flag file is read at that merge base, the new side at HEAD;
- `.github/flagbot.yml` and CODEOWNERS are read at BASE's tip (the pull request's base
  commit), never from the branch, so a branch cannot grant itself approval here either;
- there are no reviews yet and no team is asked about; the author is `git config user.name`
  (or the head commit's author) and the title is the head commit's subject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.local.git import Git, GitError
from bot.plan.reads import Pull, read_input
from bot.policy.assess import ChangedFile
from bot.policy.decision import DecisionInput, PullRequestFacts
from bot.policy.reviews import Review


@dataclass(frozen=True, slots=True)
class LocalPull:
    base_ref: str
    base_sha: str  # BASE's tip: where the policy and CODEOWNERS come from
    merge_base: str  # where the diff starts
    head_ref: str
    head_sha: str
    inp: DecisionInput


@dataclass(frozen=True, slots=True)
class LocalReads:
    """`PullReads` over a local checkout: the would-be pull request from `base` to `head`."""

    git: Git
    base_ref: str
    base_sha: str
    head_sha: str
    start: str  # the merge base

    async def pull(self, number: int) -> Pull:
        author = self.git.config("user.name") or self.git.commit_field(self.head_sha, "%an")
        facts = PullRequestFacts(
            number=number,
            author=author,
            head_sha=self.head_sha,
            base_sha=self.base_sha,
            base_ref=self.base_ref,
            title=self.git.commit_field(self.head_sha, "%s"),
        )
        return Pull(facts)

    async def files(self, number: int) -> tuple[tuple[ChangedFile, ...], bool]:
        return tuple(self.git.changed_files(self.start, self.head_sha)), False

    async def reviews(self, number: int) -> tuple[Review, ...]:
        return ()

    async def contents(
        self, sha: str, paths: Sequence[str], blob_ids: Mapping[str, str] | None = None
    ) -> dict[str, bytes]:
        return self.git.read_blobs(sha, list(paths)) if paths else {}

    async def flag_modes(self, sha: str) -> dict[str, str] | None:
        return self.git.modes(sha, FLAGS_DIR)

    async def flag_paths(self, sha: str) -> tuple[str, ...] | None:
        return tuple(p for p in self.git.list_files(sha, FLAGS_DIR) if is_flag_path(p))

    async def merge_base(self, base: str, head: str) -> str:
        return self.start

    async def is_member(self, team: str, login: str) -> bool:
        return False  # nobody has reviewed yet


def read_pull(git: Git, base_ref: str, head_ref: str) -> LocalPull:
    base_sha = git.resolve(base_ref)
    head_sha = git.resolve(head_ref)
    merge_base = git.merge_base(base_sha, head_sha)
    if merge_base is None:
        raise GitError(
            f"{base_ref} and {head_ref} share no history, so GitHub could not open a pull "
            "request between them; branch from the base first"
        )
    reads = LocalReads(git, base_ref, base_sha, head_sha, merge_base)
    _, inp = asyncio.run(read_input(reads, 0))
    return LocalPull(base_ref, base_sha, merge_base, head_ref, head_sha, inp)

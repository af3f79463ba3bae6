"""The narrow reads a reconcile needs, and the one function that turns them into facts.

`PullReads` is what deciding needs (the pull request, its files and reviews, contents at a
sha, team membership); `LedgerReads` is flagbot's own state on GitHub. The GitHub adapter
implements both (`bot.gh.pulls.RepoGateway`), the local checkout of `flagbot changes` the
first (`bot.local.reads`), and tests an in-memory fake.

Reads are issued in two concurrent rounds: what needs only the pull request's number (the
pull request, its files and reviews), then what needs its shas (the policy at the base, the
head's file modes, the base's flag paths, flagbot's check runs; all cached per commit once
read). The head's flag contents follow the modes, read by blob id, which is cached: after a
head's first reconcile they cost nothing, so an approval is two round trips before the merge.
Only an old side the diff's patches cannot give costs another round (the merge base); team
membership is asked last (cached), because which teams matter depends on what was read.
flagbot's claims are read last, and only where the head may carry some (`claims_possible`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.flags.filemode import KINDS
from bot.flags.location import is_flag_path
from bot.plan.facts import Facts, Ledger
from bot.plan.timeout import claims_possible
from bot.policy.assess import (
    ChangedFile,
    PullContext,
    assess,
    old_versions,
    paths_after,
    wanted_contents,
)
from bot.policy.codeowners import CODEOWNERS_LOCATIONS
from bot.policy.config import POLICY_PATH
from bot.policy.decision import DecisionInput, PullRequestFacts, membership_questions
from bot.policy.reviews import Review

POLICY_PATHS = (POLICY_PATH, *CODEOWNERS_LOCATIONS)


@dataclass(frozen=True, slots=True)
class Pull:
    facts: PullRequestFacts
    merge_sha: str = ""
    labels: frozenset[str] = frozenset()
    merged_at: datetime | None = None


class PullReads(Protocol):
    async def pull(self, number: int) -> Pull: ...

    async def files(self, number: int) -> tuple[tuple[ChangedFile, ...], bool]:
        """The changed files; True when GitHub's 3000-file cap cut the list."""
        ...

    async def reviews(self, number: int) -> tuple[Review, ...]: ...

    async def contents(
        self, sha: str, paths: Sequence[str], blob_ids: Mapping[str, str] | None = None
    ) -> dict[str, bytes]:
        """The files that exist among `paths` at commit `sha` (`blob_ids`: known ids)."""
        ...

    async def flag_paths(self, sha: str) -> tuple[str, ...] | None:
        """Every flag file's path at a commit; None when the listing is not available."""
        ...

    async def flag_modes(self, sha: str) -> Mapping[str, str] | None:
        """Path -> git mode of every entry under `flags/` at a commit (symlinks and
        submodules included); None when the listing is not available."""
        ...

    async def merge_base(self, base: str, head: str) -> str: ...

    async def is_member(self, team: str, login: str) -> bool: ...


class LedgerReads(Protocol):
    async def ledger(self, pull: Pull, *, fresh: bool = False) -> Ledger:
        """flagbot's check runs on the pull request's head (`fresh`: nothing remembered),
        without its claims."""
        ...

    async def claims(self, pr: PullRequestFacts) -> tuple[frozenset[str], bool]:
        """Which claims the head carries, and whether the announcement is complete."""
        ...


async def read_input(reads: PullReads, number: int) -> tuple[Pull, DecisionInput]:
    """Everything `decide` needs about one pull request."""
    pull, files, reviews = await asyncio.gather(
        reads.pull(number), reads.files(number), reads.reviews(number)
    )
    return pull, await _assessed(reads, pull, files, reviews)


async def read_facts(
    reads: PullReads,
    ledger: LedgerReads,
    number: int,
    *,
    now: datetime | None,
    repository: str = "",
    checks_allowed: bool = True,
    rerun: bool = False,
    recover: bool = False,
) -> Facts:
    """Facts for `plan`: the decision's input plus flagbot's ledger, in two rounds, and the
    claims in a third only where the head may carry some (`claims_possible`). A closed,
    unmerged pull request is left alone (nothing more is needed of it)."""
    pull, files, reviews = await asyncio.gather(
        reads.pull(number), reads.files(number), reads.reviews(number)
    )
    pr = pull.facts
    if pr.state == "closed" and not pr.merged:
        inp = DecisionInput(pr, (), (), (), None, (), {}, None, ())
        return Facts(inp, now=now, repository=repository)
    inp, marks = await asyncio.gather(_assessed(reads, pull, files, reviews), ledger.ledger(pull))
    if claims_possible(pr.merged, inp.policy.approval, marks.first_checked, now):
        found, announced = await ledger.claims(pr)
        marks = replace(marks, claims=found, announced=announced)
    inp = replace(inp, pr=replace(inp.pr, notified=marks.announced))
    return Facts(
        inp,
        marks,
        now=now,
        merge_sha=pull.merge_sha,
        merged_at=pull.merged_at,
        rerun=rerun,
        checks_allowed=checks_allowed,
        recover=recover,
        repository=repository,
    )


async def _assessed(
    reads: PullReads,
    pull: Pull,
    files_read: tuple[tuple[ChangedFile, ...], bool],
    reviews: tuple[Review, ...],
) -> DecisionInput:
    pr = pull.facts
    files, truncated = files_read
    _, head_paths = wanted_contents(files)
    blob_ids = {f.path: f.sha for f in files if f.sha}
    policy_files, modes, base_paths = await asyncio.gather(
        reads.contents(pr.base_sha, POLICY_PATHS),
        reads.flag_modes(pr.head_sha),
        reads.flag_paths(pr.base_sha),
    )
    # Only regular files are read (a submodule has no blob; a symlink is refused anyway).
    # Blobs are cached by id, so after the first reconcile of a head this costs no call.
    head_paths = [p for p in head_paths if modes is not None and modes.get(p) not in KINDS]
    head = await reads.contents(pr.head_sha, head_paths, blob_ids)
    old, missing = old_versions(files, head)
    if missing:  # no usable patch: read the old side where the diff starts
        start = await reads.merge_base(pr.base_sha, pr.head_sha)
        old.update(await reads.contents(start, missing))
    owners_path = next((p for p in CODEOWNERS_LOCATIONS if p in policy_files), None)
    flag_paths = paths_after(base_paths, files) if base_paths is not None else None
    if flag_paths is None and modes is not None:  # a huge base tree: the head's flags/ listing
        flag_paths = tuple(sorted(p for p in modes if is_flag_path(p)))
    ctx = PullContext(
        pr=pr,
        files=files,
        base_files=old,
        head_files=head,
        policy_file=policy_files.get(POLICY_PATH),
        codeowners=(owners_path, policy_files[owners_path]) if owners_path else None,
        reviews=reviews,
        head_flag_paths=flag_paths,
        files_truncated=truncated,
        head_modes=modes,
    )
    inp = assess(ctx)
    questions = sorted(membership_questions(inp))
    answers = await asyncio.gather(*(reads.is_member(t, u) for t, u in questions))
    return replace(inp, memberships=dict(zip(questions, answers, strict=True)))

"""Two refs of a local checkout -> the `PullContext` the bot would build for their pull request.

The same shape the service reads from GitHub, so `assess` and `decide` run unchanged:
- the changed files are GitHub's pull-request diff: merge base of BASE and HEAD -> HEAD;
- the old side of each flag file is read at that merge base, the new side at HEAD;
- `.github/flagbot.yml` and CODEOWNERS are read at BASE's tip (the pull request's base
  commit), never from the branch, so a branch cannot grant itself approval here either;
- there are no reviews yet; the author is `git config user.name` (or the head commit's
  author) and the title is the head commit's subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.local.git import Git, GitError
from bot.policy.assess import PullContext, wanted_contents
from bot.policy.codeowners import CODEOWNERS_LOCATIONS, locate
from bot.policy.config import POLICY_PATH
from bot.policy.decision import PullRequestFacts


@dataclass(frozen=True, slots=True)
class LocalPull:
    base_ref: str
    base_sha: str  # BASE's tip: where the policy and CODEOWNERS come from
    merge_base: str  # where the diff starts
    head_ref: str
    head_sha: str
    context: PullContext


def read_pull(git: Git, base_ref: str, head_ref: str) -> LocalPull:
    base_sha = git.resolve(base_ref)
    head_sha = git.resolve(head_ref)
    merge_base = git.merge_base(base_sha, head_sha)
    if merge_base is None:
        raise GitError(
            f"{base_ref} and {head_ref} share no history, so GitHub could not open a pull "
            "request between them; branch from the base first"
        )
    files = tuple(git.changed_files(merge_base, head_sha))
    at_base, at_head = wanted_contents(files)
    policy_side = git.read_blobs(base_sha, (POLICY_PATH, *CODEOWNERS_LOCATIONS))
    where = locate(policy_side.__contains__)
    author = git.config("user.name") or git.commit_field(head_sha, "%an")
    pr = PullRequestFacts(
        number=0,
        author=author,
        head_sha=head_sha,
        base_sha=base_sha,
        base_ref=base_ref,
        title=git.commit_field(head_sha, "%s"),
    )
    context = PullContext(
        pr=pr,
        files=files,
        base_files=git.read_blobs(merge_base, at_base),
        head_files=git.read_blobs(head_sha, at_head),
        policy_file=policy_side.get(POLICY_PATH),
        codeowners=(where, policy_side[where]) if where else None,
        reviews=(),
        head_flag_paths=tuple(p for p in git.list_files(head_sha, FLAGS_DIR) if is_flag_path(p)),
        head_modes=git.modes(head_sha, FLAGS_DIR),
    )
    return LocalPull(base_ref, base_sha, merge_base, head_ref, head_sha, context)

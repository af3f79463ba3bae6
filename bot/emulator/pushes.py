"""What moving a ref does on GitHub: the `push` event, and for branches the pull requests
that follow them (`synchronize` when a head branch moves; closing when it is deleted;
mergeability recomputed when a base branch moves)."""

from __future__ import annotations

from typing import Any

from bot.emulator import checks
from bot.emulator.clock import parse_time
from bot.emulator.errors import validation_failed
from bot.emulator.git import ZERO_SHA, Signature
from bot.emulator.render import hooks
from bot.emulator.state import PullRequest, Repo, User
from bot.emulator.world import World


def signature(
    world: World, who: User, given: dict[str, Any] | None = None, field: str = "author"
) -> Signature:
    """A commit signature from an API `author`/`committer` object, defaulting to `who` now.

    GitHub honours `date` when given, which lets a caller record simulated times.
    """
    given = given or {}
    name = given.get("name") or who.name or who.login
    email = given.get("email") or who.noreply_email
    if not isinstance(name, str) or not isinstance(email, str):
        raise validation_failed("Commit", field)
    when = world.clock.now()
    if given.get("date"):
        try:
            when = parse_time(str(given["date"]))
        except ValueError:
            raise validation_failed("Commit", f"{field}.date") from None
    return Signature(name, email, when)


def push(
    world: World, repo: Repo, ref: str, new: str | None, sender: User, *, forced: bool = False
) -> None:
    """Point `ref` (a full name, `refs/heads/x`) at `new` (None deletes it) and tell GitHub's
    listeners, as a `git push` would."""
    before = repo.git.refs.get(ref, ZERO_SHA)
    if new is None:
        repo.git.refs.pop(ref, None)
    else:
        repo.git.refs[ref] = new
    now = world.clock.now()
    repo.pushed_at = repo.updated_at = now
    after = new or ZERO_SHA
    if ref.startswith(("refs/heads/", "refs/tags/")):  # GitHub sends no push for other refs
        world.emit(
            "push",
            None,
            repo,
            lambda ctx: hooks.push(ctx, repo, ref, before, after, forced, sender),
        )
    if ref.startswith("refs/heads/"):
        _branch_moved(world, repo, ref.removeprefix("refs/heads/"), new, sender)
        if new is not None and new != before:
            checks.suites_requested(world, repo, new, sender)


def _branch_moved(world: World, repo: Repo, branch: str, new: str | None, sender: User) -> None:
    for pr in list(repo.pulls.values()):
        if pr.state != "open":
            continue
        if pr.head_ref == branch:
            if new is None:
                close(world, repo, pr, sender)
            elif pr.head_sha != new:
                before = pr.head_sha
                pr.head_sha = new
                pr.updated_at = world.clock.now()
                pr.mergeable_pending_reads = world.options.mergeable_null_reads
                world.emit(
                    "pull_request",
                    "synchronize",
                    repo,
                    lambda ctx, pr=pr, before=before: hooks.pull_request(
                        ctx, repo, pr, "synchronize", sender, before=before, after=pr.head_sha
                    ),
                )
        elif pr.base_ref == branch:
            if new is None:
                close(world, repo, pr, sender)
            else:
                pr.base_sha = new
                pr.mergeable_pending_reads = world.options.mergeable_null_reads


def close(world: World, repo: Repo, pr: PullRequest, sender: User) -> None:
    tip = repo.git.branch(pr.base_ref)
    if tip:
        pr.base_sha = tip
    now = world.clock.now()
    pr.state = "closed"
    pr.closed_at = pr.updated_at = now
    pr.closed_by = sender.login
    world.emit(
        "pull_request",
        "closed",
        repo,
        lambda ctx: hooks.pull_request(ctx, repo, pr, "closed", sender),
    )

"""Pull requests as GitHub runs them: open, edit, close/reopen, draft, reviews, merge and
update-branch, with GitHub's refusals (own-PR approval 422, stale merge `sha` 409, closed or
unmergeable 405, missing head branch 422) and the webhooks each change sends."""

from __future__ import annotations

from typing import Any

from bot.emulator import pullinfo
from bot.emulator.errors import ApiError, unprocessable, validation_failed
from bot.emulator.git import Signature
from bot.emulator.pushes import close, push, signature
from bot.emulator.render import hooks
from bot.emulator.state import PullRequest, Repo, Review, User
from bot.emulator.world import World

MERGE_METHODS = ("merge", "squash", "rebase")
GITHUB_COMMITTER = ("GitHub", "noreply@github.com")


def _emit(
    world: World, repo: Repo, pr: PullRequest, action: str, sender: User, **extra: Any
) -> None:
    world.emit(
        "pull_request",
        action,
        repo,
        lambda ctx: hooks.pull_request(ctx, repo, pr, action, sender, **extra),
    )


def _branch_name(value: str, repo: Repo) -> str:
    """`owner:branch` or `branch` → branch (forks are not emulated)."""
    if ":" in value:
        owner, _, branch = value.partition(":")
        if owner.lower() != repo.owner.lower():
            return ""
        return branch
    return value


def _custom_refusal(message: str) -> ApiError:
    """GitHub's 422 for a pull request it will not open, with its explanation."""
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
    )


def open_pull(
    world: World,
    repo: Repo,
    author: User,
    *,
    title: str,
    head: str,
    base: str,
    body: str | None = None,
    draft: bool = False,
    maintainer_can_modify: bool = False,
) -> PullRequest:
    if not isinstance(title, str) or not title.strip():
        raise validation_failed("PullRequest", "title", "missing_field")
    head_ref = _branch_name(head, repo)
    head_sha = repo.git.branch(head_ref) if head_ref else None
    base_sha = repo.git.branch(base) if isinstance(base, str) else None
    if head_sha is None:
        raise validation_failed("PullRequest", "head", "invalid")
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    if head_ref == base or repo.git.history.is_ancestor(head_sha, base_sha):
        raise _custom_refusal(f"No commits between {base} and {head_ref}")
    for other in repo.pulls.values():
        if other.state == "open" and other.head_ref == head_ref and other.base_ref == base:
            raise _custom_refusal(f"A pull request already exists for {repo.owner}:{head_ref}.")
    now = world.clock.now()
    pr = PullRequest(
        id=world.state.ids.next("pull"),
        number=repo.next_number,
        title=title,
        body=body,
        user=author.login,
        head_ref=head_ref,
        head_sha=head_sha,
        base_ref=base,
        base_sha=base_sha,
        created_at=now,
        updated_at=now,
        draft=bool(draft),
        maintainer_can_modify=bool(maintainer_can_modify),
        mergeable_pending_reads=world.options.mergeable_null_reads,
    )
    repo.next_number += 1
    repo.pulls[pr.number] = pr
    try:
        _emit(world, repo, pr, "opened", author)
    except Exception:
        # GitHub opens a pull request whole or not at all: a refusal leaves no trace
        del repo.pulls[pr.number]
        repo.next_number -= 1
        raise
    return pr


def edit_pull(
    world: World, repo: Repo, pr: PullRequest, actor: User, fields: dict[str, Any]
) -> None:
    """PATCH a pull request: title, body, state, base, and (emulator extension) draft."""
    changes: dict[str, Any] = {}
    now = world.clock.now()
    if "title" in fields and fields["title"] != pr.title:
        if not isinstance(fields["title"], str) or not fields["title"].strip():
            raise validation_failed("PullRequest", "title", "missing_field")
        changes["title"] = {"from": pr.title}
        pr.title = fields["title"]
    if "body" in fields and fields["body"] != pr.body:
        changes["body"] = {"from": pr.body or ""}
        pr.body = fields["body"]
    if "base" in fields and fields["base"] != pr.base_ref:
        new_base = fields["base"]
        tip = repo.git.branch(new_base) if isinstance(new_base, str) else None
        if tip is None or pr.state != "open":
            raise validation_failed("PullRequest", "base", "invalid")
        changes["base"] = {
            "ref": {"from": pr.base_ref},
            "sha": {"from": pullinfo.base_sha(repo, pr)},
        }
        pr.base_ref, pr.base_sha = new_base, tip
        pr.mergeable_pending_reads = world.options.mergeable_null_reads
    state = fields.get("state")
    if state not in (None, "open", "closed"):
        raise validation_failed("PullRequest", "state", "invalid")
    if changes:
        pr.updated_at = now
        _emit(world, repo, pr, "edited", actor, changes=changes)
    if state == "closed" and pr.state == "open":
        close(world, repo, pr, actor)
    elif state == "open" and pr.state == "closed":
        reopen(world, repo, pr, actor)
    if "draft" in fields and bool(fields["draft"]) != pr.draft:
        if pr.state != "open":
            raise unprocessable("Closed pull requests cannot change their draft state")
        pr.draft = bool(fields["draft"])
        pr.updated_at = now
        _emit(world, repo, pr, "converted_to_draft" if pr.draft else "ready_for_review", actor)


def reopen(world: World, repo: Repo, pr: PullRequest, actor: User) -> None:
    if pr.merged:
        raise unprocessable("Cannot reopen a merged pull request")
    tip = repo.git.branch(pr.head_ref)
    if tip is None or repo.git.branch(pr.base_ref) is None:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "state cannot be changed. The head branch was deleted.",
                }
            ],
        )
    pr.state = "open"
    pr.closed_at = pr.closed_by = None
    pr.head_sha = tip
    pr.updated_at = world.clock.now()
    pr.mergeable_pending_reads = world.options.mergeable_null_reads
    _emit(world, repo, pr, "reopened", actor)


# --- reviews ------------------------------------------------------------------------------
REVIEW_EVENTS = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def create_review(
    world: World,
    repo: Repo,
    pr: PullRequest,
    reviewer: User,
    *,
    event: str | None,
    body: str | None,
    commit_id: str | None,
) -> Review:
    """`POST /pulls/{n}/reviews`: submitted at once with an `event`, else left PENDING."""
    if commit_id is not None and commit_id not in repo.git.store.commits:
        raise unprocessable("Commit ID is not part of the pull request")
    review = Review(
        id=world.state.ids.next("review"),
        user=reviewer.login,
        state="PENDING",
        body=body or "",
        commit_id=commit_id or pr.head_sha,
        submitted_at=None,
    )
    if event is None:
        if any(r.user == reviewer.login and r.state == "PENDING" for r in pr.reviews):
            raise unprocessable("User can only have one pending review per pull request")
        pr.reviews.append(review)
        return review
    _check_event(pr, reviewer, event, body)
    pr.reviews.append(review)
    _submit(world, repo, pr, review, reviewer, event)
    return review


def submit_pending(
    world: World,
    repo: Repo,
    pr: PullRequest,
    review: Review,
    reviewer: User,
    event: str,
    body: str | None,
) -> Review:
    """`POST /pulls/{n}/reviews/{id}/events`."""
    if review.state != "PENDING":
        raise unprocessable("Can not submit a non-pending review")
    if review.user != reviewer.login:
        raise ApiError(404, "Not Found")
    _check_event(pr, reviewer, event, body or review.body)
    if body:
        review.body = body
    _submit(world, repo, pr, review, reviewer, event)
    return review


def _check_event(pr: PullRequest, reviewer: User, event: str, body: str | None) -> None:
    if event not in REVIEW_EVENTS:
        raise validation_failed("PullRequestReview", "event", "invalid")
    if reviewer.login == pr.user:
        if event == "APPROVE":
            raise unprocessable("Can not approve your own pull request")
        if event == "REQUEST_CHANGES":
            raise unprocessable("Can not request changes on your own pull request")
    if event in ("REQUEST_CHANGES", "COMMENT") and not (body or "").strip():
        raise unprocessable(f"Review body is required when the event is {event}")


def _submit(
    world: World, repo: Repo, pr: PullRequest, review: Review, sender: User, event: str
) -> None:
    review.state = REVIEW_EVENTS[event]  # type: ignore[assignment]
    review.submitted_at = world.clock.now()
    pr.updated_at = review.submitted_at
    world.emit(
        "pull_request_review",
        "submitted",
        repo,
        lambda ctx: hooks.pull_request_review(ctx, repo, pr, review, "submitted", sender),
    )


def find_review(pr: PullRequest, review_id: int) -> Review:
    for r in pr.reviews:
        if r.id == review_id:
            return r
    raise ApiError(404, "Not Found")


def dismiss_review(
    world: World, repo: Repo, pr: PullRequest, review: Review, sender: User, message: str
) -> Review:
    if not isinstance(message, str) or not message.strip():
        raise validation_failed("PullRequestReview", "message", "missing_field")
    if review.state == "PENDING":
        raise unprocessable("Can not dismiss a pending pull request review")
    if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
        raise unprocessable(f"Can not dismiss a {review.state.lower()} pull request review")
    review.state = "DISMISSED"
    pr.updated_at = world.clock.now()
    world.emit(
        "pull_request_review",
        "dismissed",
        repo,
        lambda ctx: hooks.pull_request_review(ctx, repo, pr, review, "dismissed", sender),
    )
    return review


# --- merging ------------------------------------------------------------------------------
def merge(
    world: World,
    repo: Repo,
    pr: PullRequest,
    merger: User,
    *,
    method: str = "merge",
    sha: str | None = None,
    title: str | None = None,
    message: str | None = None,
) -> str:
    """Merge as `PUT /pulls/{n}/merge` does; returns the new base branch tip."""
    if method not in MERGE_METHODS:
        raise validation_failed("PullRequest", "merge_method", "invalid")
    if pr.merged or pr.state != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    if sha is not None and sha != pr.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    if pr.draft:
        raise ApiError(405, "Pull Request is still a draft")
    base_tip = repo.git.branch(pr.base_ref)
    if base_tip is None or repo.git.branch(pr.head_ref) is None:
        raise ApiError(405, "Pull Request is not mergeable")
    result, _ = repo.git.merge(base_tip, pr.head_sha)
    tree = result.tree
    if tree is None:
        raise ApiError(405, "Pull Request is not mergeable")
    now = world.clock.now()
    author = signature(world, merger)
    committer = Signature(*GITHUB_COMMITTER, now)
    git = repo.git
    if method == "merge":
        subject = title or f"Merge pull request #{pr.number} from {repo.owner}/{pr.head_ref}"
        body = pr.title if message is None else message
        new_tip = git.commit(
            tree, (base_tip, pr.head_sha), _message(subject, body), author, committer
        )
    elif method == "squash":
        subject = title or f"{pr.title} (#{pr.number})"
        if message is None:
            body = "\n\n".join(
                f"* {git.store.commit(c).message.strip()}" for c in pullinfo.commits(repo, pr)
            )
        else:
            body = message
        new_tip = git.commit(tree, (base_tip,), _message(subject, body), author, committer)
    else:
        new_tip = _rebase(world, repo, pr, base_tip, committer)
    pr.base_sha = base_tip
    pr.state = "closed"
    pr.merged_at = pr.closed_at = pr.updated_at = now
    pr.merged_by = pr.closed_by = merger.login
    pr.merge_commit_sha = new_tip
    push(world, repo, f"refs/heads/{pr.base_ref}", new_tip, merger)
    _emit(world, repo, pr, "closed", merger)
    return new_tip


def _message(subject: str, body: str) -> str:
    return f"{subject}\n\n{body}" if body else subject


def _rebase(world: World, repo: Repo, pr: PullRequest, onto: str, committer: Signature) -> str:
    """Replay the pull request's commits onto the base tip, keeping their authors."""
    git = repo.git
    current = onto
    for sha in pullinfo.commits(repo, pr):
        c = git.store.commit(sha)
        if len(c.parents) > 1:
            continue  # merge commits are dropped by a rebase
        result = git.merge_commits(c.parents[0] if c.parents else None, current, sha)
        if result.tree is None:
            raise ApiError(405, "This branch can't be rebased")
        current = git.commit(result.tree, (current,), c.message, c.author, committer)
    return current


def update_branch(
    world: World, repo: Repo, pr: PullRequest, actor: User, expected_head_sha: str | None
) -> str:
    """`PUT /pulls/{n}/update-branch`: merge the base branch into the head branch."""
    if pr.state != "open":
        raise ApiError(422, "Cannot update a closed pull request.")
    if expected_head_sha is not None and expected_head_sha != pr.head_sha:
        raise ApiError(422, "expected head sha didn't match current head ref.")
    base_tip = repo.git.branch(pr.base_ref)
    if base_tip is None:
        raise ApiError(422, "Base branch does not exist.")
    if repo.git.history.is_ancestor(base_tip, pr.head_sha):
        raise ApiError(422, "There are no new commits on the base branch.")
    result, _ = repo.git.merge(pr.head_sha, base_tip)
    tree = result.tree
    if tree is None:
        raise ApiError(422, "merge conflict between base and head")
    now = world.clock.now()
    message = f"Merge branch '{pr.base_ref}' into {pr.head_ref}"
    sha = repo.git.commit(
        tree,
        (pr.head_sha, base_tip),
        message,
        signature(world, actor),
        Signature(*GITHUB_COMMITTER, now),
    )
    push(world, repo, f"refs/heads/{pr.head_ref}", sha, actor)
    return sha

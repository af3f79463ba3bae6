"""JSON shapes of pull requests, reviews and issue comments.

One pull request shape serves both REST and webhooks: it carries every field either schema
requires and nothing the (strict) webhook schema forbids.
"""

from __future__ import annotations

from typing import Any

from bot.emulator import pullinfo
from bot.emulator.clock import iso
from bot.emulator.git import Signature
from bot.emulator.render.core import Ctx, label, repository, user_by_login
from bot.emulator.render.core import app as render_app
from bot.emulator.state import IssueComment, PullRequest, Repo, Review, node_id

_SIMPLE_DROP = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def _when(value) -> str | None:
    return iso(value) if value else None


def _links(ctx: Ctx, repo: Repo, pr: PullRequest) -> dict[str, dict[str, str]]:
    api = ctx.api(f"/repos/{repo.full_name}")
    n = pr.number
    return {
        "self": {"href": f"{api}/pulls/{n}"},
        "html": {"href": ctx.html(f"/{repo.full_name}/pull/{n}")},
        "issue": {"href": f"{api}/issues/{n}"},
        "comments": {"href": f"{api}/issues/{n}/comments"},
        "review_comments": {"href": f"{api}/pulls/{n}/comments"},
        "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
        "commits": {"href": f"{api}/pulls/{n}/commits"},
        "statuses": {"href": f"{api}/statuses/{pr.head_sha}"},
    }


def pull_request(ctx: Ctx, repo: Repo, pr: PullRequest, *, webhook: bool = False) -> dict[str, Any]:
    api = ctx.api(f"/repos/{repo.full_name}")
    repo_json = repository(ctx, repo, webhook=webhook)
    owner = user_by_login(ctx, repo.owner)
    merge = pullinfo.mergeability(repo, pr, consume=not webhook)
    changes = pullinfo.files(repo, pr)
    commit_count = len(pullinfo.commits(repo, pr))
    links = _links(ctx, repo, pr)
    merge_commit_sha = pr.merge_commit_sha
    if merge_commit_sha is None and merge.test_merge_tree:
        merge_commit_sha = _test_merge_commit(repo, pr, merge.test_merge_tree)
    return {
        "url": links["self"]["href"],
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "html_url": links["html"]["href"],
        "diff_url": ctx.html(f"/{repo.full_name}/pull/{pr.number}.diff"),
        "patch_url": ctx.html(f"/{repo.full_name}/pull/{pr.number}.patch"),
        "issue_url": links["issue"]["href"],
        "number": pr.number,
        "state": pr.state,
        "locked": pr.locked,
        "title": pr.title,
        "user": user_by_login(ctx, pr.user),
        "body": pr.body,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": _when(pr.closed_at),
        "merged_at": _when(pr.merged_at),
        "merge_commit_sha": merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [label(ctx, repo, repo.labels[n.lower()]) for n in pr.labels],
        "milestone": None,
        "draft": pr.draft,
        "commits_url": links["commits"]["href"],
        "review_comments_url": links["review_comments"]["href"],
        "review_comment_url": links["review_comment"]["href"],
        "comments_url": links["comments"]["href"],
        "statuses_url": f"{api}/statuses/{pr.head_sha}",
        "head": {
            "label": f"{repo.owner}:{pr.head_ref}",
            "ref": pr.head_ref,
            "sha": pr.head_sha,
            "user": owner,
            "repo": repo_json,
        },
        "base": {
            "label": f"{repo.owner}:{pr.base_ref}",
            "ref": pr.base_ref,
            "sha": pullinfo.base_sha(repo, pr),
            "user": owner,
            "repo": repo_json,
        },
        "_links": links,
        "author_association": ctx.state.author_association(repo, pr.user),
        "auto_merge": None,
        "active_lock_reason": None,
        "merged": pr.merged,
        "mergeable": merge.mergeable,
        "rebaseable": merge.rebaseable,
        "mergeable_state": merge.state,
        "merged_by": user_by_login(ctx, pr.merged_by) if pr.merged_by else None,
        "comments": sum(1 for c in repo.comments.values() if c.number == pr.number),
        "review_comments": 0,
        "maintainer_can_modify": pr.maintainer_can_modify,
        "commits": commit_count,
        "additions": sum(f.additions for f in changes),
        "deletions": sum(f.deletions for f in changes),
        "changed_files": len(changes),
    }


def _test_merge_commit(repo: Repo, pr: PullRequest, tree: str) -> str:
    """GitHub's `merge_commit_sha` of an open, mergeable pull request: a test merge commit."""
    base = pullinfo.base_sha(repo, pr)
    key = ("test-merge", base, pr.head_sha)
    if key not in repo.git.derived:
        sig = Signature("GitHub", "noreply@github.com", pr.updated_at)
        message = f"Merge {pr.head_sha} into {base}"
        repo.git.derived[key] = repo.git.commit(tree, (base, pr.head_sha), message, sig)
    return repo.git.derived[key]  # type: ignore[return-value]


def simple_pull_request(ctx: Ctx, repo: Repo, pr: PullRequest) -> dict[str, Any]:
    """The pull request as `pull_request_review` webhooks carry it."""
    full = pull_request(ctx, repo, pr, webhook=True)
    return {k: v for k, v in full.items() if k not in _SIMPLE_DROP}


def pull_minimal(ctx: Ctx, repo: Repo, pr: PullRequest) -> dict[str, Any]:
    ref = {"id": repo.id, "url": ctx.api(f"/repos/{repo.full_name}"), "name": repo.name}
    return {
        "id": pr.id,
        "number": pr.number,
        "url": ctx.api(f"/repos/{repo.full_name}/pulls/{pr.number}"),
        "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": ref},
        "base": {"ref": pr.base_ref, "sha": pullinfo.base_sha(repo, pr), "repo": ref},
    }


def review(ctx: Ctx, repo: Repo, pr: PullRequest, r: Review, *, webhook: bool = False) -> dict:
    pr_url = ctx.api(f"/repos/{repo.full_name}/pulls/{pr.number}")
    html = ctx.html(f"/{repo.full_name}/pull/{pr.number}#pullrequestreview-{r.id}")
    return {
        "id": r.id,
        "node_id": node_id("PullRequestReview", r.id),
        "user": user_by_login(ctx, r.user),
        "body": r.body,
        "state": r.state.lower() if webhook else r.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": ctx.state.author_association(repo, r.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": _when(r.submitted_at),
        "commit_id": r.commit_id,
    }


def issue_comment(ctx: Ctx, repo: Repo, c: IssueComment) -> dict[str, Any]:
    app = ctx.state.apps.get(c.app_id) if c.app_id else None
    return {
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "url": ctx.api(f"/repos/{repo.full_name}/issues/comments/{c.id}"),
        "html_url": ctx.html(f"/{repo.full_name}/pull/{c.number}#issuecomment-{c.id}"),
        "body": c.body,
        "user": user_by_login(ctx, c.user),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "issue_url": ctx.api(f"/repos/{repo.full_name}/issues/{c.number}"),
        "author_association": ctx.state.author_association(repo, c.user),
        "performed_via_github_app": render_app(ctx, app) if app else None,
        "reactions": {
            "url": ctx.api(f"/repos/{repo.full_name}/issues/comments/{c.id}/reactions"),
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "confused": 0,
            "heart": 0,
            "hooray": 0,
            "eyes": 0,
            "rocket": 0,
        },
    }

"""Issue comments and labels (pull requests are issues with the same number)."""

from __future__ import annotations

from bot.emulator import issues
from bot.emulator.api.common import ctx, readable_repo, writable_repo
from bot.emulator.api.pagination import paginated
from bot.emulator.api.router import Request, Response, Router, created, no_content, ok
from bot.emulator.clock import iso
from bot.emulator.errors import ApiError
from bot.emulator.render.core import label, user_by_login
from bot.emulator.render.pulls import issue_comment
from bot.emulator.state import node_id
from bot.emulator.world import World


def _app_id(req: Request) -> int | None:
    return (
        req.actor.app.id
        if req.actor and req.actor.kind == "installation" and req.actor.app
        else None
    )


def get_issue(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    pr = issues.issue(repo, req.int_param("issue_number"))
    c = ctx(world, req)
    api = c.api(f"/repos/{repo.full_name}/issues/{pr.number}")
    return ok(
        {
            "id": pr.id,
            "node_id": node_id("Issue", pr.id),
            "url": api,
            "repository_url": c.api(f"/repos/{repo.full_name}"),
            "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments",
            "events_url": api + "/events",
            "html_url": c.html(f"/{repo.full_name}/pull/{pr.number}"),
            "number": pr.number,
            "state": pr.state,
            "title": pr.title,
            "body": pr.body,
            "user": user_by_login(c, pr.user),
            "labels": [label(c, repo, repo.labels[n.lower()]) for n in pr.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": pr.locked,
            "comments": sum(1 for x in repo.comments.values() if x.number == pr.number),
            "pull_request": {
                "url": c.api(f"/repos/{repo.full_name}/pulls/{pr.number}"),
                "html_url": c.html(f"/{repo.full_name}/pull/{pr.number}"),
                "diff_url": c.html(f"/{repo.full_name}/pull/{pr.number}.diff"),
                "patch_url": c.html(f"/{repo.full_name}/pull/{pr.number}.patch"),
                "merged_at": iso(pr.merged_at) if pr.merged_at else None,
            },
            "closed_at": iso(pr.closed_at) if pr.closed_at else None,
            "closed_by": user_by_login(c, pr.closed_by) if pr.closed_by else None,
            "created_at": iso(pr.created_at),
            "updated_at": iso(pr.updated_at),
            "author_association": world.state.author_association(repo, pr.user),
        }
    )


def list_comments(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    number = req.int_param("issue_number")
    issues.issue(repo, number)
    found = sorted((x for x in repo.comments.values() if x.number == number), key=lambda x: x.id)
    c = ctx(world, req)
    return paginated(req, found, lambda x: issue_comment(c, repo, x))


def create_comment(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "issues", "read")
    body = req.json_object().get("body")
    comment = issues.add_comment(
        world, repo, req.int_param("issue_number"), who, body, _app_id(req)
    )
    return created(issue_comment(ctx(world, req), repo, comment))


def _may_change(world: World, req: Request, repo, who, comment) -> None:
    """Only the comment's author, people with write access, or an App installation."""
    if comment.user == who.login or (req.actor and req.actor.kind == "installation"):
        return
    if world.state.role(repo, who.login) not in ("write", "maintain", "admin"):
        raise ApiError(403, "You must be the author of the comment or have write access.")


def get_comment(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    comment = issues.find_comment(repo, req.int_param("comment_id"))
    return ok(issue_comment(ctx(world, req), repo, comment))


def edit_comment(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "issues", "read")
    comment = issues.find_comment(repo, req.int_param("comment_id"))
    _may_change(world, req, repo, who, comment)
    issues.edit_comment(world, comment, req.json_object().get("body"))
    return ok(issue_comment(ctx(world, req), repo, comment))


def delete_comment(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "issues", "read")
    comment = issues.find_comment(repo, req.int_param("comment_id"))
    _may_change(world, req, repo, who, comment)
    del repo.comments[comment.id]
    return no_content()


def list_labels(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    pr = issues.issue(repo, req.int_param("issue_number"))
    c = ctx(world, req)
    return paginated(req, [repo.labels[n.lower()] for n in pr.labels], lambda x: label(c, repo, x))


def add_labels(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "issues", "triage")
    labels = issues.add_labels(world, repo, req.int_param("issue_number"), req.json())
    c = ctx(world, req)
    return ok([label(c, repo, x) for x in labels])


def set_labels(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "issues", "triage")
    labels = issues.set_labels(world, repo, req.int_param("issue_number"), req.json())
    c = ctx(world, req)
    return ok([label(c, repo, x) for x in labels])


def remove_label(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "issues", "triage")
    labels = issues.remove_label(repo, req.int_param("issue_number"), req.params["name"])
    c = ctx(world, req)
    return ok([label(c, repo, x) for x in labels])


def remove_all_labels(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "issues", "triage")
    issues.remove_all_labels(repo, req.int_param("issue_number"))
    return no_content()


def register(router: Router) -> None:
    i = "/repos/{owner}/{repo}/issues"
    n = i + "/{issue_number}"
    router.add("GET", i + "/comments/{comment_id}", get_comment)
    router.add("PATCH", i + "/comments/{comment_id}", edit_comment)
    router.add("DELETE", i + "/comments/{comment_id}", delete_comment)
    router.add("GET", n, get_issue)
    router.add("GET", n + "/comments", list_comments)
    router.add("POST", n + "/comments", create_comment)
    router.add("GET", n + "/labels", list_labels)
    router.add("POST", n + "/labels", add_labels)
    router.add("PUT", n + "/labels", set_labels)
    router.add("DELETE", n + "/labels", remove_all_labels)
    router.add("DELETE", n + "/labels/{name}", remove_label)

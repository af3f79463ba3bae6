"""Pull request routes: list, open, read, edit (incl. the draft extension), files, commits,
reviews (submit, pending + events, dismiss), merge, update-branch."""

from __future__ import annotations

from bot.emulator import pullinfo, pulls
from bot.emulator.api.common import ctx, readable_repo, writable_repo
from bot.emulator.api.pagination import paginated
from bot.emulator.api.router import Request, Response, Router, created, no_content, ok
from bot.emulator.errors import not_found, validation_failed
from bot.emulator.render import git
from bot.emulator.render.pulls import pull_request, review
from bot.emulator.world import World

MAX_FILES = 3000


def _pr(world: World, req: Request, permission: str = "pull_requests"):
    repo = readable_repo(world, req, permission)
    return repo, repo.pull(req.int_param("pull_number"))


def list_pulls(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "pull_requests")
    state = req.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("PullRequest", "state")
    items = [p for p in repo.pulls.values() if state == "all" or p.state == state]
    if "head" in req.query:
        head = req.query["head"].split(":")[-1]
        items = [p for p in items if p.head_ref == head]
    if "base" in req.query:
        items = [p for p in items if p.base_ref == req.query["base"]]
    sort = req.query.get("sort", "created")
    key = {"created": lambda p: p.created_at, "updated": lambda p: p.updated_at}.get(
        sort, lambda p: p.created_at
    )
    descending = req.query.get("direction", "desc") == "desc"
    items.sort(key=lambda p: (key(p), p.number), reverse=descending)
    c = ctx(world, req)
    return paginated(req, items, lambda p: pull_request(c, repo, p))


def create_pull(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "pull_requests", "read")
    body = req.json_object()
    pr = pulls.open_pull(
        world,
        repo,
        who,
        title=body.get("title", ""),
        head=body.get("head", ""),
        base=body.get("base", ""),
        body=body.get("body"),
        draft=bool(body.get("draft", False)),
        maintainer_can_modify=bool(body.get("maintainer_can_modify", False)),
    )
    return created(pull_request(ctx(world, req), repo, pr))


def get_pull(world: World, req: Request) -> Response:
    repo, pr = _pr(world, req)
    return ok(pull_request(ctx(world, req), repo, pr))


def edit_pull(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "pull_requests")
    pr = repo.pull(req.int_param("pull_number"))
    caller = req.actor
    if caller and caller.kind == "user" and caller.user and caller.user.login == pr.user:
        who = caller.user  # authors may edit their own pull requests
    else:
        repo, who = writable_repo(world, req, "pull_requests", "triage")
    pulls.edit_pull(world, repo, pr, who, req.json_object())
    return ok(pull_request(ctx(world, req), repo, pr))


def list_files(world: World, req: Request) -> Response:
    repo, pr = _pr(world, req)
    files = pullinfo.files(repo, pr)[:MAX_FILES]
    c = ctx(world, req)
    return paginated(req, files, lambda f: git.diff_entry(c, repo, pr.head_sha, f))


def list_commits(world: World, req: Request) -> Response:
    repo, pr = _pr(world, req)
    c = ctx(world, req)
    return paginated(req, pullinfo.commits(repo, pr)[:250], lambda s: git.commit(c, repo, s))


def list_reviews(world: World, req: Request) -> Response:
    repo, pr = _pr(world, req)
    viewer = req.actor.login if req.actor else None
    visible = [r for r in pr.reviews if r.state != "PENDING" or r.user == viewer]
    c = ctx(world, req)
    return paginated(req, visible, lambda r: review(c, repo, pr, r))


def get_review(world: World, req: Request) -> Response:
    repo, pr = _pr(world, req)
    r = pulls.find_review(pr, req.int_param("review_id"))
    if r.state == "PENDING" and (not req.actor or req.actor.login != r.user):
        raise not_found()
    return ok(review(ctx(world, req), repo, pr, r))


def create_review(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "pull_requests", "read")
    pr = repo.pull(req.int_param("pull_number"))
    body = req.json_object()
    event = body.get("event")
    r = pulls.create_review(
        world,
        repo,
        pr,
        who,
        event=event or None,
        body=body.get("body"),
        commit_id=body.get("commit_id"),
    )
    return ok(review(ctx(world, req), repo, pr, r))


def submit_review(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "pull_requests", "read")
    pr = repo.pull(req.int_param("pull_number"))
    r = pulls.find_review(pr, req.int_param("review_id"))
    body = req.json_object()
    event = body.get("event")
    if not isinstance(event, str):
        raise validation_failed("PullRequestReview", "event", "missing_field")
    pulls.submit_pending(world, repo, pr, r, who, event, body.get("body"))
    return ok(review(ctx(world, req), repo, pr, r))


def dismiss_review(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "pull_requests")
    pr = repo.pull(req.int_param("pull_number"))
    r = pulls.find_review(pr, req.int_param("review_id"))
    body = req.json_object()
    pulls.dismiss_review(world, repo, pr, r, who, body.get("message", ""))
    return ok(review(ctx(world, req), repo, pr, r))


def check_merged(world: World, req: Request) -> Response:
    _, pr = _pr(world, req)
    if pr.merged:
        return no_content()
    raise not_found()


def merge_pull(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents")
    pr = repo.pull(req.int_param("pull_number"))
    body = req.json_object()
    sha = pulls.merge(
        world,
        repo,
        pr,
        who,
        method=body.get("merge_method", "merge"),
        sha=body.get("sha"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
    )
    return ok({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def update_branch(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents")
    pr = repo.pull(req.int_param("pull_number"))
    body = req.json_object()
    pulls.update_branch(world, repo, pr, who, body.get("expected_head_sha"))
    url = ctx(world, req).html(f"/{repo.full_name}/pull/{pr.number}")
    return ok({"message": "Updating pull request branch.", "url": url}, 202)


def requested_reviewers(world: World, req: Request) -> Response:
    _pr(world, req)
    return ok({"users": [], "teams": []})


def register(router: Router) -> None:
    p = "/repos/{owner}/{repo}/pulls"
    n = p + "/{pull_number}"
    router.add("GET", p, list_pulls)
    router.add("POST", p, create_pull)
    router.add("GET", n, get_pull)
    router.add("PATCH", n, edit_pull)
    router.add("GET", n + "/files", list_files)
    router.add("GET", n + "/commits", list_commits)
    router.add("GET", n + "/reviews", list_reviews)
    router.add("POST", n + "/reviews", create_review)
    router.add("GET", n + "/reviews/{review_id}", get_review)
    router.add("POST", n + "/reviews/{review_id}/events", submit_review)
    router.add("PUT", n + "/reviews/{review_id}/dismissals", dismiss_review)
    router.add("GET", n + "/merge", check_merged)
    router.add("PUT", n + "/merge", merge_pull)
    router.add("PUT", n + "/update-branch", update_branch)
    router.add("GET", n + "/requested_reviewers", requested_reviewers)

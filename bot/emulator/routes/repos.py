"""Repository, branches, commits, compare, collaborators, CODEOWNERS errors, statuses, labels."""

from __future__ import annotations

from bot.emulator import checks
from bot.emulator.api.common import commit_for, ctx, readable_repo, writable_repo
from bot.emulator.api.pagination import page_args, paginated, slice_page
from bot.emulator.api.router import Request, Response, Router, created, no_content, ok
from bot.emulator.auth import require
from bot.emulator.clock import parse_time
from bot.emulator.codeowners import codeowners_errors
from bot.emulator.errors import ApiError, not_found
from bot.emulator.git.diff import diff_trees
from bot.emulator.render import core, git
from bot.emulator.render.checks import combined_status, status
from bot.emulator.render.core import user_by_login
from bot.emulator.world import World

# GitHub: at most 250 commits unpaginated, and up to 300 changed files (on the first page only
# when the caller pages through the commits with `page`/`per_page`)
MAX_COMPARE_COMMITS = 250
MAX_COMPARE_FILES = 300


def get_repo(world: World, req: Request) -> Response:
    repo = readable_repo(world, req)
    viewer = req.actor.login if req.actor and req.actor.kind == "user" else None
    return ok(core.full_repository(ctx(world, req), repo, viewer))


def list_branches(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    c = ctx(world, req)
    names = repo.git.branches()
    return paginated(req, names, lambda n: git.short_branch(c, repo, n, repo.git.branch(n)))


def get_branch(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    name = req.params["branch"]
    sha = repo.git.branch(name)
    if sha is None:
        raise ApiError(404, "Branch not found")
    return ok(git.branch(ctx(world, req), repo, name, sha))


def list_commits(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    if not repo.git.refs:
        raise ApiError(409, "Git Repository is empty.")
    start = req.query.get("sha") or repo.default_branch
    tip = repo.git.resolve(start)
    if tip is None:
        raise ApiError(404, f"No commit found for SHA: {start}")
    shas = repo.git.history.log(tip, req.query.get("path") or None)
    store = repo.git.store
    if "since" in req.query or "until" in req.query:
        try:
            since = parse_time(req.query["since"]) if "since" in req.query else None
            until = parse_time(req.query["until"]) if "until" in req.query else None
        except ValueError:
            raise ApiError(400, "Invalid time value") from None
        shas = [
            s
            for s in shas
            if (since is None or store.commit(s).committer.when >= since)
            and (until is None or store.commit(s).committer.when <= until)
        ]
    author = req.query.get("author")
    if author:
        emails = {author.lower()}
        user = world.state.users.get(author.lower())
        if user:
            emails.add(user.noreply_email.lower())
        shas = [s for s in shas if store.commit(s).author.email.lower() in emails]
    c = ctx(world, req)
    return paginated(req, shas, lambda s: git.commit(c, repo, s))


def get_commit(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    sha = repo.git.resolve(req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    commit = repo.git.store.commit(sha)
    parent = commit.parents[0] if commit.parents else None
    files = diff_trees(repo.git.store, *repo.git.changes(parent, sha))
    return ok(git.commit(ctx(world, req), repo, sha, files=files))


def compare(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    spec = req.params["basehead"]
    sep = "..." if "..." in spec else ".."
    base_name, _, head_name = spec.partition(sep)
    if not base_name or not head_name:
        raise not_found()
    base_name, head_name = base_name.split(":")[-1], head_name.split(":")[-1]
    base, head = repo.git.resolve(base_name), repo.git.resolve(head_name)
    if base is None or head is None:
        raise not_found()
    history = repo.git.history
    mb = history.merge_base(base, head)
    ahead = list(reversed(history.range(base, head)))
    behind = history.range(head, base)
    if base == head:
        state = "identical"
    elif not behind:
        state = "ahead"
    elif not ahead:
        state = "behind"
    else:
        state = "diverged"
    files = diff_trees(repo.git.store, *repo.git.changes(mb, head))
    c = ctx(world, req)
    html = c.html(f"/{repo.full_name}/compare/{base_name}...{head_name}")
    headers: dict[str, str] = {}
    if "page" in req.query or "per_page" in req.query:
        page, link = slice_page(req, ahead)
        if link:
            headers["Link"] = link
        if page_args(req)[0] > 1:
            files = []
    else:
        page = ahead[:MAX_COMPARE_COMMITS]
    return Response(
        200,
        {
            "url": c.api(f"/repos/{repo.full_name}/compare/{base_name}...{head_name}"),
            "html_url": html,
            "permalink_url": c.html(f"/{repo.full_name}/compare/{base}...{head}"),
            "diff_url": html + ".diff",
            "patch_url": html + ".patch",
            "base_commit": git.commit(c, repo, base),
            "merge_base_commit": git.commit(c, repo, mb) if mb else None,
            "status": state,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [git.commit(c, repo, s) for s in page],
            "files": [git.diff_entry(c, repo, head, f) for f in files[:MAX_COMPARE_FILES]],
        },
        headers,
    )


def collaborator_permission(world: World, req: Request) -> Response:
    repo = world.state.repo(req.params["owner"], req.params["repo"])
    who = req.actor
    assert who is not None
    if who.kind == "installation":
        require(world.state, who, repo, "read", "metadata", write=False)
    elif who.kind == "user" and who.user is not None:
        if world.state.role(repo, who.user.login) not in ("write", "maintain", "admin"):
            if repo.private and world.state.role(repo, who.user.login) == "none":
                raise not_found()
            raise ApiError(403, "Must have push access to view collaborator permission.")
    else:
        raise not_found() if repo.private else ApiError(401, "Requires authentication")
    target = world.state.user(req.params["username"])
    role = world.state.role(repo, target.login)
    permission = {"maintain": "write", "triage": "read"}.get(role, role)
    c = ctx(world, req)
    user_json = user_by_login(c, target.login)
    rank = ["none", "read", "triage", "write", "maintain", "admin"].index(role)
    user_json["permissions"] = {
        "admin": rank >= 5,
        "maintain": rank >= 4,
        "push": rank >= 3,
        "triage": rank >= 2,
        "pull": rank >= 1,
    }
    user_json["role_name"] = role
    return ok({"permission": permission, "role_name": role, "user": user_json})


def check_collaborator(world: World, req: Request) -> Response:
    repo = readable_repo(world, req)
    login = req.params["username"]
    if (
        login.lower() in {n.lower() for n in repo.collaborators}
        or login.lower() == repo.owner.lower()
    ):
        return no_content()
    raise not_found()


def codeowners_report(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    sha = repo.git.resolve(req.query.get("ref") or repo.default_branch)
    errors = None if sha is None else codeowners_errors(world.state, repo, sha)
    if errors is None:
        raise not_found()
    return ok({"errors": errors})


def create_status(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "statuses")
    st = checks.create_status(world, repo, req.params["sha"], who, req.json_object())
    return created(status(ctx(world, req), repo, st))


def combined(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "statuses")
    sha = commit_for(repo, req.params["ref"])
    found = [s for s in repo.statuses if s.sha == sha]
    return ok(combined_status(ctx(world, req), repo, sha, found))


def list_statuses(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "statuses")
    sha = commit_for(repo, req.params["ref"])
    c = ctx(world, req)
    found = sorted((s for s in repo.statuses if s.sha == sha), key=lambda s: s.id, reverse=True)
    return paginated(req, found, lambda s: status(c, repo, s))


def list_labels(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    c = ctx(world, req)
    return paginated(
        req, sorted(repo.labels.values(), key=lambda x: x.id), lambda x: core.label(c, repo, x)
    )


def get_label(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "issues")
    lab = repo.labels.get(req.params["name"].lower())
    if lab is None:
        raise not_found()
    return ok(core.label(ctx(world, req), repo, lab))


def register(router: Router) -> None:
    r = "/repos/{owner}/{repo}"
    router.add("GET", r, get_repo)
    router.add("GET", r + "/branches", list_branches)
    router.add("GET", r + "/branches/{branch}", get_branch)
    router.add("GET", r + "/commits", list_commits)
    router.add("GET", r + "/commits/{ref}/status", combined)
    router.add("GET", r + "/commits/{ref}/statuses", list_statuses)
    router.add("GET", r + "/compare/{basehead}", compare)
    router.add("GET", r + "/collaborators/{username}/permission", collaborator_permission)
    router.add("GET", r + "/collaborators/{username}", check_collaborator)
    router.add("GET", r + "/codeowners/errors", codeowners_report)
    router.add("POST", r + "/statuses/{sha}", create_status)
    router.add("GET", r + "/statuses/{ref}", list_statuses)  # the legacy path PyGithub reads
    router.add("GET", r + "/labels", list_labels)
    router.add("GET", r + "/labels/{name}", get_label)


def register_late(router: Router) -> None:
    """Greedy routes that must come after every more specific `/commits/{ref}/…` route."""
    router.add("GET", "/repos/{owner}/{repo}/commits/{ref}", get_commit)

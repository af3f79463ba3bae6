"""Check runs: create and update (GitHub App installations only, as on GitHub), read, list for a
ref, list annotations, re-request; check suites for a ref."""

from __future__ import annotations

from bot.emulator import checks
from bot.emulator.api.common import ctx, readable_repo, writable_repo
from bot.emulator.api.pagination import paginated
from bot.emulator.api.router import Request, Response, Router, ok
from bot.emulator.errors import ApiError
from bot.emulator.render.checks import annotation, check_run, check_suite
from bot.emulator.state import App, Repo, User
from bot.emulator.world import World


def _as_app(world: World, req: Request) -> tuple[Repo, User, App]:
    who = req.actor
    repo = world.state.repo(req.params["owner"], req.params["repo"])
    if who is None or who.kind != "installation":
        readable_repo(world, req)  # 404 for what the caller cannot see
        raise ApiError(
            403,
            "You must authenticate via a GitHub App.",
            documentation_url="https://docs.github.com/rest/checks/runs#create-a-check-run",
        )
    repo, user = writable_repo(world, req, "checks")
    assert who.app is not None
    return repo, user, who.app


def create_run(world: World, req: Request) -> Response:
    repo, user, app = _as_app(world, req)
    run = checks.create_check_run(world, repo, app, user, req.json_object())
    return ok(check_run(ctx(world, req), repo, run), 201)


def update_run(world: World, req: Request) -> Response:
    repo, user, app = _as_app(world, req)
    run = checks.find_run(repo, req.int_param("check_run_id"))
    if run.app_id != app.id:
        raise ApiError(
            403, f"Invalid app_id `{app.id}` - check run can only be modified by its creator."
        )
    checks.update_check_run(world, repo, run, user, req.json_object())
    return ok(check_run(ctx(world, req), repo, run))


def get_run(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "checks")
    run = checks.find_run(repo, req.int_param("check_run_id"))
    return ok(check_run(ctx(world, req), repo, run))


def list_annotations(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "checks")
    run = checks.find_run(repo, req.int_param("check_run_id"))
    return paginated(req, run.annotations, lambda a: annotation(run, a))


def rerequest(world: World, req: Request) -> Response:
    """GitHub's "Re-run" for a check run: people with write access may ask, like the button."""
    repo, user = writable_repo(world, req, "checks")
    run = checks.find_run(repo, req.int_param("check_run_id"))
    checks.rerequest(world, repo, run, user)
    return ok({}, 201)


def runs_for_ref(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "checks")
    sha = repo.git.resolve(req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    status = req.query.get("status")
    if status is not None and status not in checks.STATUSES:
        raise ApiError(422, "status must be one of queued, in_progress or completed")
    runs = checks.runs_for(
        repo,
        sha,
        name=req.query.get("check_name"),
        status=status,
        latest=req.query.get("filter", "latest") == "latest",
    )
    c = ctx(world, req)
    return paginated(req, runs, lambda r: check_run(c, repo, r), key="check_runs")


def suites_for_ref(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "checks")
    sha = repo.git.resolve(req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    suites = [s for s in repo.check_suites.values() if s.head_sha == sha]
    c = ctx(world, req)
    return paginated(req, suites, lambda s: check_suite(c, repo, s), key="check_suites")


def get_suite(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "checks")
    suite = repo.check_suites.get(req.int_param("check_suite_id"))
    if suite is None:
        raise ApiError(404, "Not Found")
    return ok(check_suite(ctx(world, req), repo, suite))


def rerequest_suite(world: World, req: Request) -> Response:
    """GitHub's "Re-run all checks" for a suite: write access, like the button."""
    repo, user = writable_repo(world, req, "checks")
    suite = repo.check_suites.get(req.int_param("check_suite_id"))
    if suite is None:
        raise ApiError(404, "Not Found")
    checks.rerequest_suite(world, repo, suite, user)
    return ok({}, 201)


def register(router: Router) -> None:
    r = "/repos/{owner}/{repo}"
    router.add("POST", r + "/check-runs", create_run)
    router.add("GET", r + "/check-runs/{check_run_id}", get_run)
    router.add("PATCH", r + "/check-runs/{check_run_id}", update_run)
    router.add("GET", r + "/check-runs/{check_run_id}/annotations", list_annotations)
    router.add("POST", r + "/check-runs/{check_run_id}/rerequest", rerequest)
    router.add("GET", r + "/check-suites/{check_suite_id}", get_suite)
    router.add("POST", r + "/check-suites/{check_suite_id}/rerequest", rerequest_suite)
    router.add("GET", r + "/commits/{ref}/check-runs", runs_for_ref)
    router.add("GET", r + "/commits/{ref}/check-suites", suites_for_ref)

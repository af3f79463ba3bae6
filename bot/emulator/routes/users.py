"""The caller, users, the rate-limit status and the API root."""

from __future__ import annotations

from bot.emulator.api.common import actor, ctx
from bot.emulator.api.router import Request, Response, Router, ok
from bot.emulator.errors import ApiError
from bot.emulator.render.core import user
from bot.emulator.world import World


def current_user(world: World, req: Request) -> Response:
    who = actor(req)
    if who.kind == "anonymous":
        raise ApiError(401, "Requires authentication")
    if who.kind in ("installation", "app"):
        raise ApiError(403, "Resource not accessible by integration")
    assert who.user is not None
    out = user(ctx(world, req), who.user)
    out.update({"name": who.user.name, "email": who.user.email})
    return ok(out)


def get_user(world: World, req: Request) -> Response:
    return ok(user(ctx(world, req), world.state.account(req.params["username"])))


def rate_limit(world: World, req: Request) -> Response:
    """`GET /rate_limit`: the caller's budget (this call itself is not charged, as on GitHub)."""
    limiter = world.ratelimit
    key = actor(req).budget_key
    b = limiter.budget(key)
    core = {
        "limit": b.limit,
        "used": b.used,
        "remaining": b.remaining,
        "reset": b.reset,
        "resource": "core",
    }
    return ok({"resources": {"core": core}, "rate": core})


def root(world: World, req: Request) -> Response:
    c = ctx(world, req)
    return ok(
        {
            "current_user_url": c.api("/user"),
            "repository_url": c.api("/repos/{owner}/{repo}"),
            "organization_url": c.api("/orgs/{org}"),
            "rate_limit_url": c.api("/rate_limit"),
            "user_url": c.api("/users/{user}"),
        }
    )


def register(router: Router) -> None:
    router.add("GET", "/", root, charged=False)
    router.add("GET", "/user", current_user)
    router.add("GET", "/users/{username}", get_user)
    router.add("GET", "/rate_limit", rate_limit, charged=False)

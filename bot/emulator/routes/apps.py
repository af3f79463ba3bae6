"""GitHub App endpoints (JWT-authenticated): the app, its installations, installation access
tokens, and the App webhook's delivery log with redelivery. Also repository hooks' deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bot.emulator import auth
from bot.emulator.api.common import actor, ctx, writable_repo
from bot.emulator.api.pagination import page_args, paginated
from bot.emulator.api.router import Request, Response, Router, ok
from bot.emulator.clock import iso
from bot.emulator.errors import ApiError, not_found
from bot.emulator.render.core import app as render_app
from bot.emulator.render.core import installation as render_installation
from bot.emulator.render.core import repository
from bot.emulator.webhooks import Delivery
from bot.emulator.world import World


def get_app(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    return ok(render_app(ctx(world, req), a))


def get_app_by_slug(world: World, req: Request) -> Response:
    for a in world.state.apps.values():
        if a.slug == req.params["app_slug"]:
            return ok(render_app(ctx(world, req), a))
    raise not_found()


def list_installations(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    items = [i for i in world.state.installations.values() if i.app_id == a.id]
    c = ctx(world, req)
    return paginated(req, items, lambda i: render_installation(c, i))


def get_installation(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    inst = world.state.installation(req.int_param("installation_id"))
    if inst.app_id != a.id:
        raise not_found()
    return ok(render_installation(ctx(world, req), inst))


def create_token(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    inst = world.state.installations.get(req.int_param("installation_id"))
    if inst is None or inst.app_id != a.id:
        raise not_found()
    body = req.json_object()
    token = auth.mint_installation_token(world.state, inst, body.get("permissions"))
    c = ctx(world, req)
    out: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(datetime.fromtimestamp(token.expires_at, UTC)),
        "permissions": dict(token.permissions),
        "repository_selection": "all" if inst.repositories is None else "selected",
    }
    if inst.repositories is not None:
        out["repositories"] = [
            repository(c, r) for r in world.state.repos.values() if inst.covers(r)
        ]
    return ok(out, 201)


def installation_repositories(world: World, req: Request) -> Response:
    who = actor(req)
    if who.kind != "installation" or who.installation is None:
        raise ApiError(403, "This endpoint requires an installation access token.")
    inst = who.installation
    repos = sorted((r for r in world.state.repos.values() if inst.covers(r)), key=lambda r: r.id)
    c = ctx(world, req)
    selection = "all" if inst.repositories is None else "selected"
    return paginated(
        req, repos, lambda r: repository(c, r), key="repositories", repository_selection=selection
    )


def _installation_for_account(world: World, req: Request, login: str) -> Response:
    a = auth.require_app(actor(req))
    for inst in world.state.installations.values():
        if inst.app_id == a.id and inst.account.lower() == login.lower():
            return ok(render_installation(ctx(world, req), inst))
    raise not_found()


def repo_installation(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    repo = world.state.repo(req.params["owner"], req.params["repo"])
    inst = world.state.installation_for(repo, a.id)
    if inst is None:
        raise not_found()
    return ok(render_installation(ctx(world, req), inst))


def org_installation(world: World, req: Request) -> Response:
    return _installation_for_account(world, req, req.params["org"])


def user_installation(world: World, req: Request) -> Response:
    return _installation_for_account(world, req, req.params["username"])


# --- deliveries ---------------------------------------------------------------------------
def _cursor_page(req: Request, items: list[Delivery]) -> Response:
    """GitHub's cursor pagination for deliveries: newest first, `cursor` = last id seen."""
    _, per_page = page_args(req)
    items = sorted(items, key=lambda d: d.id, reverse=True)
    if req.query.get("redelivery") in ("true", "false"):
        wanted = req.query["redelivery"] == "true"
        items = [d for d in items if d.redelivery == wanted]
    status = req.query.get("status")
    if status in ("success", "failure"):  # by status_code: 200-399 is a success
        items = [d for d in items if (200 <= (d.status_code or 0) < 400) == (status == "success")]
    cursor = req.query.get("cursor")
    if cursor:
        try:
            below = int(cursor)
        except ValueError:
            raise ApiError(400, "Invalid cursor") from None
        items = [d for d in items if d.id < below]
    page = items[:per_page]
    headers = {}
    if len(items) > per_page:
        query = dict(req.query)
        query["cursor"] = str(page[-1].id)
        headers["Link"] = f'<{req.base}{req.path}?{urlencode(query)}>; rel="next"'
    return Response(200, [d.summary() for d in page], headers)


def _webhooks(world: World):
    if world.webhooks is None:
        raise not_found()
    return world.webhooks


def app_deliveries(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    return _cursor_page(req, _webhooks(world).for_app(a.id))


def _app_delivery(world: World, req: Request) -> Delivery:
    a = auth.require_app(actor(req))
    d = _webhooks(world).find(req.int_param("delivery_id"))
    if d is None or d not in _webhooks(world).for_app(a.id):
        raise not_found()
    return d


def app_delivery(world: World, req: Request) -> Response:
    return ok(_app_delivery(world, req).record())


def app_redeliver(world: World, req: Request) -> Response:
    d = _app_delivery(world, req)
    _webhooks(world).redeliver(d.id)
    return ok({}, 202)


def app_hook_config(world: World, req: Request) -> Response:
    a = auth.require_app(actor(req))
    hook = next((h for h in world.state.hooks.values() if h.app_id == a.id), None)
    if hook is None:
        raise not_found()
    return ok(
        {
            "content_type": "json",
            "url": hook.url,
            "insecure_ssl": "0",
            "secret": "********" if hook.secret else None,
        }
    )


def _repo_hook(world: World, req: Request):
    repo, _ = writable_repo(world, req, "repository_hooks", "admin")
    hook = world.state.hooks.get(req.int_param("hook_id"))
    if hook is None or hook.app_id is not None:
        raise not_found()
    if hook.repos is not None and repo.full_name.lower() not in {r.lower() for r in hook.repos}:
        raise not_found()
    return repo, hook


def repo_hooks(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "repository_hooks", "admin")
    c = ctx(world, req)
    hooks = [
        h
        for h in world.state.hooks.values()
        if h.app_id is None
        and (h.repos is None or repo.full_name.lower() in {r.lower() for r in h.repos})
    ]

    def render(h) -> dict[str, Any]:
        api = c.api(f"/repos/{repo.full_name}/hooks/{h.id}")
        return {
            "type": "Repository",
            "id": h.id,
            "name": "web",
            "active": h.active,
            "events": list(h.events),
            "config": {"content_type": "json", "url": h.url, "insecure_ssl": "0"},
            "updated_at": iso(h.created_at) if h.created_at else None,
            "created_at": iso(h.created_at) if h.created_at else None,
            "url": api,
            "test_url": api + "/test",
            "ping_url": api + "/pings",
            "deliveries_url": api + "/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        }

    return paginated(req, hooks, render)


def repo_hook_deliveries(world: World, req: Request) -> Response:
    _, hook = _repo_hook(world, req)
    return _cursor_page(req, _webhooks(world).for_hook(hook.id))


def repo_hook_delivery(world: World, req: Request) -> Response:
    _, hook = _repo_hook(world, req)
    d = _webhooks(world).find(req.int_param("delivery_id"))
    if d is None or d.hook_id != hook.id:
        raise not_found()
    return ok(d.record())


def repo_hook_redeliver(world: World, req: Request) -> Response:
    _, hook = _repo_hook(world, req)
    d = _webhooks(world).find(req.int_param("delivery_id"))
    if d is None or d.hook_id != hook.id:
        raise not_found()
    _webhooks(world).redeliver(d.id)
    return ok({}, 202)


def register(router: Router) -> None:
    router.add("GET", "/app", get_app)
    router.add("GET", "/apps/{app_slug}", get_app_by_slug)
    router.add("GET", "/app/installations", list_installations)
    router.add("GET", "/app/installations/{installation_id}", get_installation)
    router.add("POST", "/app/installations/{installation_id}/access_tokens", create_token)
    router.add("GET", "/app/hook/config", app_hook_config)
    router.add("GET", "/app/hook/deliveries", app_deliveries)
    router.add("GET", "/app/hook/deliveries/{delivery_id}", app_delivery)
    router.add("POST", "/app/hook/deliveries/{delivery_id}/attempts", app_redeliver)
    router.add("GET", "/installation/repositories", installation_repositories)
    router.add("GET", "/repos/{owner}/{repo}/installation", repo_installation)
    router.add("GET", "/orgs/{org}/installation", org_installation)
    router.add("GET", "/users/{username}/installation", user_installation)
    h = "/repos/{owner}/{repo}/hooks"
    router.add("GET", h, repo_hooks)
    router.add("GET", h + "/{hook_id}/deliveries", repo_hook_deliveries)
    router.add("GET", h + "/{hook_id}/deliveries/{delivery_id}", repo_hook_delivery)
    router.add("POST", h + "/{hook_id}/deliveries/{delivery_id}/attempts", repo_hook_redeliver)

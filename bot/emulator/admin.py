"""The emulator's own API, under `/_emulator/` (a path GitHub does not use): state dump, clock,
faults, rate-limit budgets, call log, webhook deliveries and configuration, pushing files,
writing a repository out as git. Not authenticated, logged, charged or faulted.
See README "Local GitHub" for the list."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.api.router import Request
from bot.emulator.errors import ApiError
from bot.emulator.faults import KINDS

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator

AdminHandler = Callable[["Emulator", Request, dict[str, str]], Awaitable[Any]]
_ROUTES: list[tuple[str, re.Pattern[str], AdminHandler]] = []


def _route(method: str, pattern: str) -> Callable[[AdminHandler], AdminHandler]:
    def decorate(fn: AdminHandler) -> AdminHandler:
        _ROUTES.append((method, re.compile("^/_emulator" + pattern + "/?$"), fn))
        return fn

    return decorate


def _body(req: Request) -> dict[str, Any]:
    return req.json_object()


@_route("GET", "")
async def index(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return {
        "endpoints": [
            f"{m} {r.pattern.removeprefix('^').removesuffix('/?$')}" for m, r, _ in _ROUTES
        ]
    }


@_route("GET", "/state")
async def state(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    with emu.lock:
        s = emu.state
        return {
            "url": emu.url,
            "clock": emu.clock.describe(),
            "users": [{"login": u.login, "id": u.id, "type": u.type} for u in s.users.values()],
            "orgs": [
                {
                    "login": o.login,
                    "teams": {
                        t.slug: {
                            "members": sorted(t.members),
                            "maintainers": sorted(t.maintainers),
                            "pending": sorted(t.pending),
                            "parent": t.parent,
                        }
                        for t in o.teams.values()
                    },
                }
                for o in s.orgs.values()
            ],
            "repos": [
                {
                    "full_name": r.full_name,
                    "private": r.private,
                    "default_branch": r.default_branch,
                    "refs": dict(r.git.refs),
                    "collaborators": dict(r.collaborators),
                    "pulls": [
                        {
                            "number": pr.number,
                            "title": pr.title,
                            "state": pr.state,
                            "draft": pr.draft,
                            "merged": pr.merged,
                            "user": pr.user,
                            "head": f"{pr.head_ref}@{pr.head_sha}",
                            "base": pr.base_ref,
                            "reviews": [
                                {
                                    "id": x.id,
                                    "user": x.user,
                                    "state": x.state,
                                    "commit_id": x.commit_id,
                                }
                                for x in pr.reviews
                            ],
                            "labels": list(pr.labels),
                        }
                        for pr in r.pulls.values()
                    ],
                    "check_runs": [
                        {
                            "id": c.id,
                            "name": c.name,
                            "head_sha": c.head_sha,
                            "status": c.status,
                            "conclusion": c.conclusion,
                            "title": c.output.get("title"),
                        }
                        for c in r.check_runs.values()
                    ],
                    "comments": [
                        {"id": c.id, "number": c.number, "user": c.user, "body": c.body}
                        for c in r.comments.values()
                    ],
                }
                for r in s.repos.values()
            ],
            "apps": [
                {
                    "id": a.id,
                    "slug": a.slug,
                    "installations": [i.id for i in s.installations.values() if i.app_id == a.id],
                }
                for a in s.apps.values()
            ],
            "hooks": [
                {"id": h.id, "url": h.url, "app_id": h.app_id, "events": h.events}
                for h in s.hooks.values()
            ],
        }


@_route("GET", "/clock")
async def get_clock(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return emu.clock.describe()


@_route("PUT", "/clock")
async def set_clock(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    body = _body(req)
    try:
        if body.get("release"):
            emu.clock.release()
        if "now" in body:
            emu.clock.set(str(body["now"]))
        if "offset_seconds" in body:
            emu.clock.set_offset(float(body["offset_seconds"]))
        if "advance_seconds" in body:
            emu.clock.advance(float(body["advance_seconds"]))
    except (ValueError, TypeError) as e:
        raise ApiError(400, f"bad clock change: {e}") from None
    return emu.clock.describe()


@_route("GET", "/faults")
async def list_faults(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return emu.faults.describe()


@_route("POST", "/faults")
async def add_fault(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    body = _body(req)
    kind = body.pop("kind", "status")
    target = body.pop("target", "*")
    if kind not in KINDS:
        raise ApiError(422, f"kind must be one of {', '.join(KINDS)}")
    allowed = {"status", "message", "times", "rate", "skip", "retry_after", "seconds", "login"}
    unknown = set(body) - allowed
    if unknown:
        raise ApiError(422, f"unknown fault fields: {', '.join(sorted(unknown))}")
    if "seed" in body:
        emu.faults.reseed(int(body.pop("seed")))
    return emu.faults.add(target, kind, **body).describe()


@_route("POST", "/faults/seed")
async def seed_faults(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    emu.faults.reseed(int(_body(req).get("seed", 0)))
    return {"ok": True}


@_route("DELETE", "/faults")
async def clear_faults(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    emu.faults.clear()
    return {"ok": True}


@_route("DELETE", r"/faults/(?P<id>\d+)")
async def remove_fault(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    if not emu.faults.remove(int(p["id"])):
        raise ApiError(404, "no such fault")
    return {"ok": True}


@_route("POST", "/stages")
async def add_stage(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    """Stage a race: before the `nth` next call to `target`, push `files` to a branch."""
    body = _body(req)
    push = body.get("push")
    if not isinstance(body.get("target"), str) or not isinstance(push, dict):
        raise ApiError(422, 'give "target": "METHOD /route", "push": {"repo", "branch", "files"}')
    for key in ("repo", "branch", "files"):
        if key not in push:
            raise ApiError(422, f'push needs "{key}"')

    def action() -> None:
        emu.push_files(
            push["repo"],
            push["branch"],
            push["files"],
            message=push.get("message", "Staged push"),
            author=push.get("author"),
            date=push.get("date"),
        )

    stage = emu.faults.before_call(
        body["target"], action, int(body.get("nth", 1)), body.get("login")
    )
    return {"id": stage.id, "target": body["target"], "nth": stage.nth}


@_route("GET", "/ratelimit")
async def budgets(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return emu.ratelimit.snapshot()


@_route("POST", "/ratelimit/exhaust")
async def exhaust(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    key = _body(req).get("key")
    if not isinstance(key, str):
        raise ApiError(
            422, 'give "key": "user:<login>", "installation:<id>", "app:<id>" or "anonymous"'
        )
    emu.ratelimit.exhaust(key)
    return emu.ratelimit.snapshot()


@_route("DELETE", "/ratelimit")
async def reset_budgets(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    emu.ratelimit.reset()
    emu.secondary.reset()
    return {"ok": True}


@_route("GET", "/calls")
async def calls(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    q = req.query
    found = emu.calls.calls(
        q.get("method"),
        q.get("route"),
        login=q.get("login"),
        transport=q.get("transport", "http") or None,
        since=int(q.get("since", 0)),
    )
    return [c.to_json() for c in found]


@_route("GET", "/calls/stats")
async def call_stats(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return emu.calls.stats()


@_route("DELETE", "/calls")
async def reset_calls(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    emu.calls.reset()
    return {"ok": True}


@_route("GET", "/deliveries")
async def deliveries(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    found = emu.webhooks.events(req.query.get("event"), req.query.get("action"))
    return [d.record() | {"hook_id": d.hook_id, "attempted": d.attempted} for d in found]


@_route("POST", "/deliveries/drain")
async def drain(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    await emu.webhooks.drain(float(req.query.get("timeout", 30)))
    return {"pending": emu.webhooks.pending()}


@_route("POST", r"/deliveries/(?P<id>\d+)/redeliver")
async def redeliver(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    try:
        return emu.webhooks.redeliver(int(p["id"])).summary()
    except KeyError:
        raise ApiError(404, "no such delivery") from None


@_route("GET", "/webhooks")
async def hooks(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    return [
        {
            "id": h.id,
            "url": h.url,
            "events": h.events,
            "app_id": h.app_id,
            "repos": h.repos,
            "active": h.active,
        }
        for h in emu.state.hooks.values()
    ]


@_route("POST", "/webhooks")
async def add_hook(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    body = _body(req)
    if not isinstance(body.get("url"), str):
        raise ApiError(422, "a webhook needs a url")
    hook = emu.add_webhook(
        body["url"], body.get("secret"), events=body.get("events"), app_id=body.get("app_id")
    )
    return {"id": hook.id, "url": hook.url}


@_route("DELETE", r"/webhooks/(?P<id>\d+)")
async def remove_hook(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    with emu.lock:
        if emu.state.hooks.pop(int(p["id"]), None) is None:
            raise ApiError(404, "no such webhook")
    return {"ok": True}


@_route("PUT", "/options")
async def set_options(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    body = _body(req)
    known = {f.name for f in fields(emu.options)}
    unknown = set(body) - known
    if unknown:
        raise ApiError(422, f"unknown options: {', '.join(sorted(unknown))}")
    for k, v in body.items():
        setattr(emu.options, k, v)
    return {f.name: getattr(emu.options, f.name) for f in fields(emu.options)}


@_route("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/push")
async def push_files(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    body = _body(req)
    files = body.get("files")
    if not isinstance(body.get("branch"), str) or not isinstance(files, dict):
        raise ApiError(422, 'give "branch" and "files": {path: text or null}')
    sha = emu.push_files(
        f"{p['owner']}/{p['repo']}",
        body["branch"],
        files,
        message=body.get("message", "Update files"),
        author=body.get("author"),
        date=body.get("date"),
    )
    return {"sha": sha}


@_route("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/export")
async def export(emu: Emulator, req: Request, p: dict[str, str]) -> Any:
    path = _body(req).get("path")
    if not isinstance(path, str):
        raise ApiError(422, 'give "path": where to write the bare repository')
    out = emu.export_git(f"{p['owner']}/{p['repo']}", path)
    return {"path": str(out)}


async def handle_admin(emu: Emulator, req: Request) -> web.Response:
    path = req.path
    allowed = False
    for method, pattern, fn in _ROUTES:
        m = pattern.match(path)
        if not m:
            continue
        if method != req.method:
            allowed = True
            continue
        try:
            result = await fn(emu, req, m.groupdict())
        except ApiError as e:
            return _json(e.status, e.body())
        except KeyError as e:
            return _json(404, {"message": f"not found: {e}"})
        return _json(200, result)
    return _json(
        405 if allowed else 404, {"message": "Not Found" if not allowed else "Method Not Allowed"}
    )


def _json(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, default=str), content_type="application/json"
    )

"""Serving one API call, whatever the transport: route → identity → rate limit → faults and
staged actions → handler (under the world lock) → ETag/304 → headers → call log.

HTTP calls go through everything. In-process calls (the people helpers in tests) skip faults
and latency: faults are aimed at the code under test, which talks HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

from bot.emulator.api.aliases import canonical, repository_links
from bot.emulator.api.router import Request, Response, Route, Router
from bot.emulator.auth import ANONYMOUS, Actor, identify
from bot.emulator.calllog import Call, CallLog
from bot.emulator.errors import ApiError
from bot.emulator.faults import Decision, Faults
from bot.emulator.git import GitObjectError
from bot.emulator.ratelimit import RateLimiter
from bot.emulator.secondary import SecondaryLimiter
from bot.emulator.world import World

log = logging.getLogger("bot.emulator")
REPOSITORY_ROUTES = "/repos/{owner}/{repo}/"


@dataclass
class Served:
    status: int
    headers: dict[str, str]
    body: bytes
    json: Any = None
    route: Route | None = None
    actor: Actor = ANONYMOUS
    charged: bool = False
    fault: str | None = None
    delay: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def etag_for(body: bytes, *, weak: bool = True) -> str:
    """GitHub's entity tag: weak on reads, strong on a created resource (as it sends them)."""
    tag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
    return "W/" + tag if weak else tag


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    bare = etag.removeprefix("W/")
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or bare in candidates


class Dispatcher:
    def __init__(
        self,
        world: World,
        router: Router,
        faults: Faults,
        calls: CallLog,
        ratelimit: RateLimiter,
        secondary: SecondaryLimiter | None = None,
    ) -> None:
        self.world = world
        self.router = router
        self.faults = faults
        self.calls = calls
        self.ratelimit = ratelimit
        self.secondary = secondary
        self.auth_time = time.time

    # --- entry points -----------------------------------------------------------------------
    async def handle_async(self, req: Request) -> Served:
        started = time.perf_counter()
        latency = self.world.options.latency
        if latency > 0:
            await asyncio.sleep(latency)
        early, route, decision = self._prepare(req)
        if early is not None:
            early.delay = latency
            return self._finish(req, early, started)
        assert route is not None and decision is not None
        if decision.latency:
            await asyncio.sleep(decision.latency)
        served = self._serve(req, route, decision)
        served.delay = latency + decision.latency
        return self._finish(req, served, started)

    def handle(self, req: Request) -> Served:
        """Serve synchronously (in-process calls; no faults)."""
        started = time.perf_counter()
        early, route, decision = self._prepare(req)
        if early is not None:
            return self._finish(req, early, started)
        assert route is not None and decision is not None
        return self._finish(req, self._serve(req, route, decision), started)

    # --- steps ------------------------------------------------------------------------------
    def _prepare(self, req: Request) -> tuple[Served | None, Route | None, Decision | None]:
        route: Route | None = None
        try:
            with self.world.lock:
                req.path = canonical(self.world.state, req.path)
            route, req.params = self.router.match(req.method, req.path)
            req.actor = identify(self.world.state, req.headers.get("Authorization"), self.auth_time)
            who = req.actor.login or "anonymous"
            self.ratelimit.check(req.actor.budget_key, who)
        except ApiError as e:
            served = self._error(e, req.actor or ANONYMOUS)
            served.route = route
            return served, route, None
        decision = Decision()
        if req.transport == "http":
            headers = self.ratelimit.headers(req.actor.budget_key)
            decision = self.faults.decide(req.method, route.template, req.actor.login, headers)
            if decision.error is not None:
                served = self._error(decision.error, req.actor)
                served.route = route
                served.fault = decision.fault_kind
                return served, route, None
            if self.secondary is not None:
                try:
                    self.secondary.admit(req.actor.budget_key, req.method)
                except ApiError as e:
                    served = self._error(e, req.actor)
                    served.route = route
                    served.fault = "secondary_limit"
                    return served, route, None
        return None, route, decision

    def _serve(self, req: Request, route: Route, decision: Decision) -> Served:
        actor = req.actor or ANONYMOUS
        with self.world.lock:
            for action in decision.actions:
                action()
            try:
                response = route.handler(self.world, req)
            except ApiError as e:
                served = self._error(e, actor)
                served.route = route
                served.charged = route.charged
                return served
            except GitObjectError as e:
                served = self._error(ApiError(422, str(e)), actor)
                served.route = route
                return served
            except Exception:
                log.exception("emulator handler failed: %s %s", req.method, req.path)
                served = self._error(ApiError(500, "Server Error"), actor)
                served.route = route
                return served
        return self._respond(req, route, response, actor)

    def _respond(self, req: Request, route: Route, response: Response, actor: Actor) -> Served:
        body = b"" if response.body is None else json.dumps(response.body).encode()
        headers = dict(response.headers)
        charged = route.charged
        if "Link" in headers and route.template.startswith(REPOSITORY_ROUTES):
            repo = self.world.state.repo(req.params["owner"], req.params["repo"])
            headers["Link"] = repository_links(headers["Link"], req.base, req.path, repo)
        if body and 200 <= response.status < 300:  # GitHub tags every answer, writes too
            etag = etag_for(body, weak=response.status != 201)
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
            matched = _etag_matches(req.headers.get("If-None-Match"), etag)
            if req.method == "GET" and response.status == 200 and matched:
                return Served(304, headers, b"", None, route, actor, charged=False)
        if body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return Served(response.status, headers, body, response.body, route, actor, charged=charged)

    def _error(self, error: ApiError, actor: Actor) -> Served:
        body = error.body()
        headers = {"Content-Type": "application/json; charset=utf-8", **error.headers}
        return Served(error.status, headers, json.dumps(body).encode(), body, None, actor)

    def _finish(self, req: Request, served: Served, started: float) -> Served:
        actor = served.actor
        key = actor.budget_key
        if served.charged:
            self.ratelimit.charge(key)
        limit_headers = self.ratelimit.headers(key)
        for name, value in limit_headers.items():
            served.headers.setdefault(name, value)
        served.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        served.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
        served.headers.setdefault("X-GitHub-Request-Id", uuid.uuid4().hex[:20].upper())
        served.headers.setdefault("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
        # GitHub's time, as every GitHub response carries it: the emulator's clock
        served.headers.setdefault("Date", format_datetime(self.world.clock.now(), usegmt=True))
        request_json: Any = None
        try:
            request_json = req.json()
        except ApiError:
            request_json = None
        self.calls.record(
            Call(
                seq=0,
                time=time.time(),
                method=req.method,
                route=served.route.template if served.route else None,
                path=req.path,
                query=dict(req.query),
                status=served.status,
                login=actor.login,
                actor=actor.kind,
                charged=served.charged,
                not_modified=served.status == 304,
                fault=served.fault,
                delay=served.delay,
                transport=req.transport,
                duration=time.perf_counter() - started,
                request_json=request_json,
                response_json=served.json,
                response_headers=dict(served.headers),
                params=dict(req.params),
            )
        )
        return served

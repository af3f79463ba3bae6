"""`flagbot serve`: the aiohttp application.

`POST /webhook` verifies and acknowledges (202) within microseconds; parsing, routing and
reconciling happen on background tasks, so GitHub's 10-second limit is never at risk. The
background work gives way to acknowledgements: it handles one delivery at a time and lets the
event loop serve waiting requests in between, so a burst is acknowledged first and worked off
after. `GET /healthz` reports liveness and the backlog, `GET /readyz` readiness and
`GET /metrics` Prometheus metrics (see `instruments`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Hashable
from typing import Any

import aiohttp
import msgspec
from aiohttp import web
from cachetools import LRUCache
from gidgethub.sansio import Event

from bot.gh.auth import AppAuth, TokenAuth
from bot.gh.client import GitHubClient
from bot.gh.errors import NotOurs, github_failure
from bot.gh.pulls import RepoGateway
from bot.logs import annotate
from bot.service import events
from bot.service.caches import Caches
from bot.service.config import ServiceConfig
from bot.service.health import ReadinessCheck
from bot.service.instruments import Instruments, repository_name
from bot.service.intake import Accepted, Rejected, check_delivery
from bot.service.membership import affected_pulls
from bot.service.metrics import metrics_handler
from bot.service.preflight import check_github
from bot.service.queue import KeyedQueue
from bot.service.reconcile import Outcome, Reconciler

log = logging.getLogger("flagbot.service")

SERVICE = web.AppKey("flagbot", object)
RECONCILE_ATTEMPTS = 5
ETAG_CACHE_SIZE = 2048  # conditional-request cache per credential (keyed by URL)
# Routing work done before the event loop gets a turn: short against an acknowledgement's
# budget (GitHub waits 10 s), long against one delivery's routing (tens of microseconds).
ROUTING_SLICE = 0.001
# How long the first delivery of a batch waits for others to join it before routing starts:
# nothing against a reconcile (GitHub's API calls take longer), and a burst is routed in
# batches.
ROUTING_BATCH = 0.001
# Acknowledgements come first: while deliveries keep arriving (less than ROUTING_QUIET apart),
# routing waits, but never longer than ROUTING_MAX_DEFER after the oldest unrouted delivery
# arrived, nor past ROUTING_MAX_BACKLOG unrouted ones.
ROUTING_QUIET = 0.005
ROUTING_MAX_DEFER = 1.0
ROUTING_MAX_BACKLOG = 5000


class Service:
    """The long-lived parts: one HTTP session, credentials, caches, the work queue."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.caches = Caches()
        self.auth: AppAuth | TokenAuth = (
            AppAuth(config.app_id, config.private_key)
            if config.app_id and config.private_key
            else TokenAuth(config.token or "")
        )
        self.session: aiohttp.ClientSession | None = None
        self.clients: dict[Any, GitHubClient] = {}
        self.installations: dict[tuple[str, int], int | None] = {}
        self.fresh: set[tuple[str, int]] = set()
        self.outcomes: deque[Outcome] = deque(maxlen=100)  # the latest, for logs and tests
        self._bot_login: str | None = None
        # acknowledged deliveries not yet routed; the parser sleeps on `_arrived` when empty
        self._deliveries: deque[Accepted] = deque()
        self._since = 0.0  # when the oldest unrouted delivery arrived (loop time)
        self._last = 0.0  # when the newest delivery arrived
        self._arrived = asyncio.Event()
        self._routed = asyncio.Event()  # set while `_deliveries` is empty
        self._routed.set()
        self._parser: asyncio.Task[None] | None = None
        self.queue = KeyedQueue(self._work, workers=config.workers)
        self.instruments = Instruments(config.api_url, lambda: self.backlog, config.ready_backlog)
        self.reconciler = Reconciler(
            self.gateway_for,
            bot_login="",
            channel_env=dict(config.channel_env or {}),
            checks_allowed=self.auth.is_app,
            announce_grace=config.announce_grace,
            on_notice=self.instruments.notice,
        )
        self._failures: dict[Hashable, int] = {}
        self._retries: set[asyncio.Task[None]] = set()

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.queue.start()
        self._parser = asyncio.create_task(self._parse_loop())

    async def stop(self) -> None:
        if self._parser:
            self._parser.cancel()
            await asyncio.gather(self._parser, return_exceptions=True)
        await self.queue.stop()
        if self.session:
            await self.session.close()

    async def drain(self) -> None:
        """Wait until every acknowledged delivery has been reconciled (tests, shutdown)."""
        while True:
            await self._routed.wait()
            await self.queue.drain()
            if not self._routed.is_set():
                continue  # a delivery came in meanwhile
            if not self._retries:
                return
            await asyncio.gather(*list(self._retries), return_exceptions=True)

    @property
    def backlog(self) -> int:
        """Deliveries not yet routed plus pull requests waiting for or in a reconcile."""
        return len(self._deliveries) + self.queue.pending

    # GitHub ------------------------------------------------------------------------------------

    def client(self, installation_id: int | None) -> GitHubClient:
        key = installation_id or "token"
        if key not in self.clients:
            assert self.session is not None, "service not started"
            self.clients[key] = GitHubClient(
                self.session,
                base_url=self.config.api_url,
                cache=LRUCache(maxsize=ETAG_CACHE_SIZE),
                policy=self.config.retry,
                observe=self.instruments.github_observer(str(key)),
            )
        return self.clients[key]

    async def gateway_for(self, repo: str, installation_id: int | None) -> RepoGateway:
        gh = self.client(installation_id)
        token = await self.auth.token_for(gh, repo, installation_id)
        if self._bot_login is None:
            self._bot_login = await self.auth.login(gh)
            self.reconciler.bot_login = self._bot_login
        return RepoGateway(gh, repo, token, self.caches)

    # Work --------------------------------------------------------------------------------------

    def accept(self, delivery: Accepted) -> None:
        """Queue an acknowledged delivery for the parser. The first of a batch wakes it a
        moment later (`ROUTING_BATCH`), so a burst is routed a batch per wake-up instead of
        one event-loop turn per delivery."""
        self._deliveries.append(delivery)
        self._last = asyncio.get_running_loop().time()
        if len(self._deliveries) == 1:
            self._since = self._last
            self._routed.clear()
            asyncio.get_running_loop().call_later(ROUTING_BATCH, self._arrived.set)

    async def _parse_loop(self) -> None:
        """Route the backlog in slices of at most `ROUTING_SLICE` seconds, letting the event
        loop in between: requests waiting to be acknowledged are never held up by more than a
        slice, and a burst is routed without an event-loop turn per delivery."""
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            await self._let_acknowledgements_pass(loop)
            until = loop.time() + ROUTING_SLICE
            while self._deliveries:
                await self._route(self._deliveries[0])
                self._deliveries.popleft()
                if self._deliveries and loop.time() >= until:
                    await asyncio.sleep(0)  # acknowledgements waiting to go out go first
                    until = loop.time() + ROUTING_SLICE
            self._arrived.clear()
            self._routed.set()

    async def _let_acknowledgements_pass(self, loop: asyncio.AbstractEventLoop) -> None:
        """While a burst is still arriving, acknowledge it first: routing shares the CPU with
        acknowledging, and only acknowledgements have a deadline (GitHub's 10 s). Bounded, so
        under sustained load routing still keeps up."""
        while len(self._deliveries) < ROUTING_MAX_BACKLOG:
            now = loop.time()
            wake = min(self._last + ROUTING_QUIET, self._since + ROUTING_MAX_DEFER)
            if now >= wake:
                return
            await asyncio.sleep(wake - now)

    async def _route(self, delivery: Accepted) -> None:
        with self.instruments.routing(delivery.delivery_id, delivery.event, len(delivery.body)):
            if delivery.event not in events.ROUTED_EVENTS:
                return
            try:
                event = parse_event(delivery)
                annotate(repo=repository_name(event.data))
                found: list[events.Work | events.BaseChanged | events.TeamChanged] = []
                await events.router.dispatch(event, found.append)
                for item in found:
                    if isinstance(item, events.BaseChanged):
                        await self._base_changed(item)
                    elif isinstance(item, events.TeamChanged):
                        await self._team_changed(item)
                    else:
                        self._submit(item)
            except Exception:  # a malformed but signed payload: log it, keep serving
                annotate(outcome="malformed")
                log.exception("could not route delivery %s", delivery.delivery_id)

    def _submit(self, item: events.Work) -> None:
        key = (item.repo, item.number)
        self.installations[key] = item.installation_id
        if item.fresh:
            self.fresh.add(key)
        self.instruments.submitted(key)
        self.queue.submit(key)

    async def _base_changed(self, item: events.BaseChanged) -> None:
        try:
            gw = await self.gateway_for(item.repo, item.installation_id)
            for pull in await gw.open_pulls(item.branch):
                self._submit(events.Work(item.repo, int(pull["number"]), item.installation_id))
        except NotOurs as exc:
            log.warning("ignored a push to %s:%s: %s", item.repo, item.branch, exc)
        except Exception as exc:
            why = github_failure(exc)
            log.error(
                "could not list pull requests into %s:%s: %s",
                item.repo,
                item.branch,
                why or "a bug in flagbot",
                exc_info=not why,
            )

    async def _team_changed(self, item: events.TeamChanged) -> None:
        try:
            gw = await self.gateway_for("", item.installation_id)
            for work in await affected_pulls(gw, item, self.reconciler.owner_teams):
                self._submit(work)
        except Exception as exc:
            why = github_failure(exc)
            log.error(
                "could not re-decide pull requests after %s changed: %s",
                item.teams,
                why or "a bug in flagbot",
                exc_info=not why,
            )

    async def _work(self, key: Hashable) -> None:
        repo, number = key  # type: ignore[misc]
        fresh = key in self.fresh
        self.fresh.discard(key)  # type: ignore[arg-type]
        with self.instruments.reconciling(key) as done:  # logs one line with what came of it
            try:
                outcome = await self.reconciler.reconcile(
                    repo,
                    number,
                    self.installations.get(key),
                    fresh=fresh,  # type: ignore[arg-type]
                )
            except NotOurs as exc:  # not this App's to act on: one line, no retry
                done.result = "not_ours"
                log.warning("ignored %s#%s: %s", repo, number, exc)
                return
            except Exception as exc:
                self._retry_later(key)
                why = github_failure(exc)  # GitHub's trouble: one line; flagbot's bug: traceback
                log.error(
                    "reconcile of %s#%s failed: %s",
                    repo,
                    number,
                    why or "a bug in flagbot",
                    exc_info=not why,
                )
                return
            done.decided(outcome)
        self._failures.pop(key, None)
        self.outcomes.append(outcome)
        if outcome.retry:
            self.queue.submit(key)

    def _retry_later(self, key: Hashable) -> None:
        """GitHub kept failing past the client's retries: try the whole reconcile again later,
        since no further webhook may come for this pull request."""
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        if failures > RECONCILE_ATTEMPTS:
            log.error("giving up on %s after %d failed reconciles", key, failures - 1)
            self._failures.pop(key, None)
            return

        async def later() -> None:
            await asyncio.sleep(min(60.0, self.config.retry.base * 4**failures))
            self.queue.submit(key)

        task = asyncio.create_task(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)


_ROUTING = msgspec.json.Decoder(events.Routing)
TOO_LARGE = Rejected(413, "payload too large")


def parse_event(delivery: Accepted) -> Event:
    """An acknowledged delivery (its signature checked) as a gidgethub event for the router.

    Only the fields the router reads are decoded (`events.Routing`): the rest of a 20-30 KB
    payload is skipped without building Python objects, several times cheaper than a full
    parse, and the reconcile reads the pull request from GitHub anyway. Form-encoded
    deliveries go through gidgethub."""
    if delivery.content_type == "application/json":
        data = _ROUTING.decode(delivery.body)
        return Event(data, event=delivery.event, delivery_id=delivery.delivery_id)
    headers = {
        "content-type": delivery.content_type,
        "x-github-event": delivery.event,
        "x-github-delivery": delivery.delivery_id,
    }
    return Event.from_http(headers, delivery.body)


def acknowledgement(delivery_id: str) -> web.Response:
    """202 with `{"accepted": "<delivery id>"}`, written directly (no JSON encoder for a
    one-key object on the hot path)."""
    body = b'{"accepted": ' + json.dumps(delivery_id).encode() + b"}"
    return web.Response(status=202, body=body, content_type="application/json")


def make_app(config: ServiceConfig) -> web.Application:
    service = Service(config)
    app = web.Application(client_max_size=config.max_body)
    app[SERVICE] = service

    def refuse(request: web.Request, refused: Rejected, size: int) -> web.Response:
        service.instruments.rejected(request.headers, refused.status, refused.reason, size)
        return web.json_response({"error": refused.reason}, status=refused.status)

    async def webhook(request: web.Request) -> web.Response:
        if (request.content_length or 0) > config.max_body:
            return refuse(request, TOO_LARGE, request.content_length or 0)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(request, TOO_LARGE, request.content_length or 0)
        result = check_delivery(request.headers, body, config.webhook_secret, config.max_body)
        if isinstance(result, Rejected):
            return refuse(request, result, len(body))
        service.accept(result)
        return acknowledgement(result.delivery_id)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backlog": service.backlog})

    async def probe() -> str | None:
        assert service.session is not None, "service not started"
        return await check_github(service.session, config)

    readiness = ReadinessCheck(service.instruments.readiness, probe, lambda: service.backlog)

    async def lifecycle(app: web.Application):
        await service.start()
        yield
        await service.stop()

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readiness.handle)
    app.router.add_get("/metrics", metrics_handler(service.instruments.metrics))
    app.cleanup_ctx.append(lifecycle)
    return app

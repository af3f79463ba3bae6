"""`flagbot serve`: the aiohttp application.

`POST /webhook` verifies and acknowledges (202) within microseconds; parsing, routing and
reconciling happen on background tasks, so GitHub's 10-second limit is never at risk.
`GET /healthz` reports liveness and the backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from gidgethub.sansio import Event

from bot.gh.auth import AppAuth, TokenAuth
from bot.gh.client import GitHubClient
from bot.gh.errors import NotOurs
from bot.gh.pulls import RepoGateway
from bot.service import events
from bot.service.caches import Caches
from bot.service.config import ServiceConfig
from bot.service.intake import Rejected, check_delivery
from bot.service.queue import KeyedQueue
from bot.service.reconcile import Outcome, Reconciler

log = logging.getLogger("flagbot.service")

SERVICE = web.AppKey("flagbot", object)
RECONCILE_ATTEMPTS = 5


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
        self.outcomes: list[Outcome] = []  # the latest reconcile outcomes (bounded), for tests
        self._bot_login: str | None = None
        self._deliveries: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()
        self._parser: asyncio.Task[None] | None = None
        self.queue = KeyedQueue(self._work, workers=config.workers)
        self.reconciler = Reconciler(
            self.gateway_for,
            bot_login="",
            channel_env=dict(config.channel_env or {}),
            checks_allowed=self.auth.is_app,
            announce_grace=config.announce_grace,
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
            await self._deliveries.join()
            await self.queue.drain()
            if not self._retries:
                return
            await asyncio.gather(*list(self._retries), return_exceptions=True)

    # GitHub ------------------------------------------------------------------------------------

    def client(self, installation_id: int | None) -> GitHubClient:
        key = installation_id or "token"
        if key not in self.clients:
            assert self.session is not None, "service not started"
            self.clients[key] = GitHubClient(
                self.session,
                base_url=self.config.api_url,
                cache=Caches().etags,
                policy=self.config.retry,
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

    def accept(self, headers: dict[str, str], body: bytes) -> None:
        self._deliveries.put_nowait((headers, body))

    async def _parse_loop(self) -> None:
        while True:
            headers, body = await self._deliveries.get()
            try:
                event = parse_event(headers, body)
                found: list[events.Work | events.BaseChanged] = []
                await events.router.dispatch(event, found.append)
                for item in found:
                    if isinstance(item, events.BaseChanged):
                        await self._base_changed(item)
                    else:
                        self._submit(item)
            except Exception:  # a malformed but signed payload: log it, keep serving
                log.exception("could not route delivery %s", headers.get("x-github-delivery"))
            finally:
                self._deliveries.task_done()

    def _submit(self, item: events.Work) -> None:
        key = (item.repo, item.number)
        self.installations[key] = item.installation_id
        if item.fresh:
            self.fresh.add(key)
        self.queue.submit(key)

    async def _base_changed(self, item: events.BaseChanged) -> None:
        try:
            gw = await self.gateway_for(item.repo, item.installation_id)
            for pull in await gw.open_pulls(item.branch):
                self._submit(events.Work(item.repo, int(pull["number"]), item.installation_id))
        except NotOurs as exc:
            log.warning("ignored a push to %s:%s: %s", item.repo, item.branch, exc)
        except Exception:
            log.exception("could not list pull requests into %s:%s", item.repo, item.branch)

    async def _work(self, key: Hashable) -> None:
        repo, number = key  # type: ignore[misc]
        fresh = key in self.fresh
        self.fresh.discard(key)  # type: ignore[arg-type]
        try:
            outcome = await self.reconciler.reconcile(
                repo,
                number,
                self.installations.get(key),
                fresh=fresh,  # type: ignore[arg-type]
            )
        except NotOurs as exc:  # not this App's to act on: one line, no retry
            log.warning("ignored %s#%s: %s", repo, number, exc)
            return
        self.outcomes = [*self.outcomes[-99:], outcome]
        log.info(
            "%s#%s: %s%s",
            repo,
            number,
            outcome.decision.title if outcome.decision else "left alone (closed)",
            f" (merge {outcome.merge_status})" if outcome.merge_status else "",
        )
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


def parse_event(headers: dict[str, str], body: bytes) -> Event:
    """A verified delivery as a gidgethub event. The signature was checked when the delivery
    was acknowledged; JSON is parsed with orjson (several times faster than the standard
    library on GitHub's 20-30 KB payloads); form-encoded deliveries go through gidgethub."""
    if headers.get("content-type", "").startswith("application/json"):
        return Event(
            orjson.loads(body),
            event=headers["x-github-event"],
            delivery_id=headers["x-github-delivery"],
        )
    unsigned = {k: v for k, v in headers.items() if not k.startswith("x-hub-signature")}
    return Event.from_http(unsigned, body)


def make_app(config: ServiceConfig) -> web.Application:
    service = Service(config)
    app = web.Application(client_max_size=config.max_body)
    app[SERVICE] = service

    async def webhook(request: web.Request) -> web.Response:
        if (request.content_length or 0) > config.max_body:
            return web.json_response({"error": "payload too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "payload too large"}, status=413)
        result = check_delivery(request.headers, body, config.webhook_secret, config.max_body)
        if isinstance(result, Rejected):
            return web.json_response({"error": result.reason}, status=result.status)
        service.accept({k.lower(): v for k, v in request.headers.items()}, body)
        return web.json_response({"accepted": result.delivery_id}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backlog": service.queue.pending})

    async def lifecycle(app: web.Application):
        await service.start()
        yield
        await service.stop()

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(lifecycle)
    return app

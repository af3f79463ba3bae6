"""`flagbot serve`: the aiohttp application.

`POST /webhook` verifies, decodes the few fields routing reads (no body waits in memory) and
acknowledges (202) within microseconds; routing (`routing`) and
reconciling (`work`, `reconcile`) happen on background tasks, so GitHub's 10-second limit is
never at risk. A sweep (`sweep`) at start-up and every `FLAGBOT_SWEEP_INTERVAL` finds what
lost deliveries left behind. On shutdown new deliveries get 503 while acknowledged work
finishes (`FLAGBOT_DRAIN_TIMEOUT`). `GET /healthz` reports liveness and the backlog,
`GET /readyz` readiness and `GET /metrics` Prometheus metrics (see `instruments`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from bot.gh.errors import NotOurs
from bot.gh.pacing import Pacer
from bot.gh.pulls import RepoGateway
from bot.service import events, exports
from bot.service.announcing import Announcements
from bot.service.caches import Caches
from bot.service.config import ServiceConfig
from bot.service.events import Work
from bot.service.health import ReadinessCheck
from bot.service.instruments import Instruments
from bot.service.intake import Accepted, Rejected, check_delivery
from bot.service.membership import affected_pulls
from bot.service.metrics import metrics_handler
from bot.service.pool import ClientPool
from bot.service.preflight import check_github
from bot.service.queue import KeyedQueue
from bot.service.reconcile import Outcome, Reconciler, utcnow
from bot.service.routing import DeliveryRouter
from bot.service.sweep import Sweeper, SweepMemo, SweepReport, sweep
from bot.service.work import WorkQueue

log = logging.getLogger("flagbot.service")

SERVICE = web.AppKey("flagbot", object)


class Service:
    """The long-lived parts: GitHub clients, the delivery router, the work queue, the
    sweeper. `clock`, `sleep` and `pacer` (how each credential's writes are paced, built with
    `sleep=`) are injected so tests and benchmarks run on the emulator's time and limits."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        pacer: Callable[..., Pacer] = Pacer,
    ) -> None:
        self.config = config
        self.instruments = Instruments(config.api_url, lambda: self.backlog, config.ready_backlog)
        self.pool = ClientPool(
            config, sleep=sleep, pacer=pacer, observer=self.instruments.github_observer
        )
        self.reconciler = Reconciler(
            self.pool.gateway_for,
            channel_env=dict(config.channel_env or {}),
            checks_allowed=self.pool.auth.is_app,
            clock=clock,
            on_notice=self.instruments.notice,
        )
        self.work = WorkQueue(
            self.reconciler.reconcile,
            workers=config.workers,
            retry=config.retry,
            sleep=sleep,
            watch=self.instruments.reconciling,
        )
        self.router = DeliveryRouter(
            self._submit,
            self._base_changed,
            self._team_changed,
            watch=self.instruments.routing,
            pushed=self._pushed,
        )
        # Called with (repository, branch) when a push lands: what is served from a branch
        # (the flag exports) is read again.
        self.push_listeners: list[Callable[[str, str], None]] = []
        self.announcements = Announcements(
            lambda key: self.work.submit(Work(key[0], key[1], self.work.installations.get(key)))
        )
        self.reconciler.hand_off = self.announcements.hand
        self.reconciler.announcing = self.announcements.holds
        self.memo = SweepMemo()  # periodic sweeps skip what did not change
        self.work.listeners.append(self.memo.finished)
        self.sweeper = Sweeper(self.sweep, config.sweep_interval, sleep=sleep, rng=rng)
        self.closing = False  # draining for shutdown: new deliveries get 503

    @property
    def queue(self) -> KeyedQueue:
        return self.work.queue

    @property
    def outcomes(self) -> deque[Outcome]:
        return self.work.outcomes

    @property
    def installations(self) -> dict[tuple[str, int], int | None]:
        return self.work.installations

    @property
    def caches(self) -> Caches:
        return self.pool.caches

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.pool.start()
        self.work.start()
        self.router.start()
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.router.stop()
        await self.work.stop()
        await self.announcements.stop()
        await self.pool.close()

    async def drain(self) -> None:
        """Wait until every acknowledged delivery has been reconciled (tests, shutdown)."""
        while True:
            await self.router.routed.wait()
            await self.work.drain()
            await self.announcements.drain()
            if self.router.routed.is_set() and not self.work.pending + self.announcements.pending:
                return  # else a delivery came in meanwhile

    async def shutdown(self, timeout: float) -> list[tuple[str, int]]:
        """Stop accepting (503), finish what was acknowledged within `timeout` seconds, and
        log what could not finish, by pull request (the next sweep picks it up)."""
        self.closing = True
        await self.sweeper.stop()
        try:
            await asyncio.wait_for(self.drain(), timeout)
            return []
        except TimeoutError:
            left = sorted({*self.work.unfinished(), *self.announcements.unfinished()})
            for repo, number in left:
                log.warning(
                    "shutdown: %s#%s not finished; the next sweep picks it up", repo, number
                )
            if len(self.router):
                log.warning("shutdown: %d deliveries not routed", len(self.router))
            return left

    @property
    def backlog(self) -> int:
        """Deliveries not yet routed plus pull requests waiting for or in a reconcile."""
        return len(self.router) + self.work.pending + self.announcements.pending

    # GitHub ------------------------------------------------------------------------------------

    async def gateway_for(self, repo: str, installation_id: int | None) -> RepoGateway:
        return await self.pool.gateway_for(repo, installation_id)

    async def sweep(self) -> SweepReport:
        """Sweep every repository the App is installed on (a token: those seen so far)."""
        repos = await self.pool.repositories() if self.pool.auth.is_app else None
        if repos is None:
            repos = sorted({(r, i) for (r, _), i in self.work.installations.items()})
        return await sweep(self.pool, self._submit, repos, self.memo)

    # Work --------------------------------------------------------------------------------------

    def accept(self, delivery: Accepted) -> None:
        self.router.accept(delivery)

    def _submit(self, item: events.Work) -> None:
        self.instruments.submitted((item.repo, item.number))  # the delivery that asked
        self.work.submit(item)

    def _pushed(self, item: events.Pushed) -> None:
        for listener in self.push_listeners:
            listener(item.repo, item.branch)

    async def _base_changed(self, item: events.BaseChanged) -> None:
        try:
            gw = await self.gateway_for(item.repo, item.installation_id)
            for pull in await gw.open_pulls(item.branch):
                self._submit(events.Work(item.repo, int(pull["number"]), item.installation_id))
        except NotOurs as exc:
            log.warning("ignored a push to %s:%s: %s", item.repo, item.branch, exc)
        except Exception as exc:  # the next sweep re-decides them
            log.warning("could not list pull requests into %s:%s: %s", item.repo, item.branch, exc)

    async def _team_changed(self, item: events.TeamChanged) -> None:
        try:
            gw = await self.gateway_for("", item.installation_id)
            for work in await affected_pulls(gw, item, self.reconciler.owner_teams):
                self._submit(work)
        except Exception as exc:  # the next sweep re-decides them
            log.warning("could not re-decide pull requests after %s changed: %s", item.teams, exc)


TOO_LARGE = Rejected(413, "payload too large")
_ACK_HEADERS = {"Content-Type": "application/json"}


def acknowledgement(delivery_id: str) -> web.Response:
    """202 with `{"accepted": "<delivery id>"}`, written directly (no JSON encoder for a
    one-key object on the hot path, no content-type parsing)."""
    body = b'{"accepted": ' + json.dumps(delivery_id).encode() + b"}"
    return web.Response(status=202, body=body, headers=_ACK_HEADERS)


def make_app(config: ServiceConfig, service: Service | None = None) -> web.Application:
    service = service or Service(config)
    app = web.Application(client_max_size=config.max_body)
    app[SERVICE] = service

    def refuse(request: web.Request, refused: Rejected, size: int) -> web.Response:
        service.instruments.rejected(request.headers, refused.status, refused.reason, size)
        return web.json_response({"error": refused.reason}, status=refused.status)

    async def webhook(request: web.Request) -> web.Response:
        if service.closing:  # GitHub records the failure; `flagbot redeliver` or a sweep
            return web.json_response({"error": "shutting down"}, status=503)
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
        status = "draining" if service.closing else "ok"
        return web.json_response({"status": status, "backlog": service.backlog})

    async def probe() -> str | None:
        assert service.pool.session is not None, "service not started"
        return await check_github(service.pool.session, config)

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
    exports.register(app, service)  # applications read the flags: flagd and Unleash
    return app

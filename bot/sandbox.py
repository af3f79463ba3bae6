"""A local stack in one process: the emulated GitHub and a flagbot service wired together.

The demo, the replay command, the benchmarks and the end-to-end tests all run flagbot exactly
as production does (webhooks over HTTP, REST calls through gidgethub), only pointed at the
emulator. The service acts as the seed's first GitHub App.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import web

from bot.emulator.emulator import Emulator
from bot.exports.access import ReadTokens
from bot.gh.pacing import Pacer, Window
from bot.gh.retry import DEFAULT_POLICY, RetryPolicy
from bot.service.app import SERVICE, Service, make_app
from bot.service.config import NO_READ_TOKENS, ServiceConfig

SECRET = "s3cret"


@dataclass
class Sandbox:
    emulator: Emulator
    service: Service
    config: ServiceConfig
    bot_url: str
    replicas: list[Service] = field(default_factory=list)
    app: web.Application | None = None

    @property
    def api_url(self) -> str:
        return self.config.api_url

    async def settle(self, rounds: int = 50) -> None:
        """Until quiet: every webhook delivered and every reconcile it caused finished (the
        bot's own merge causes more webhooks, hence the loop)."""
        for _ in range(rounds):
            before = len(self.emulator.webhooks.deliveries)
            await self.emulator.webhooks.drain()
            for service in (self.service, *self.replicas):
                await service.drain()
            if len(self.emulator.webhooks.deliveries) == before:
                return
        raise RuntimeError("the bot and the emulator never settled")


def pacing(emulator: Emulator) -> Callable[..., Pacer]:
    """flagbot paces its writes under the secondary limits this GitHub enforces (GitHub's own
    unless the seed's options lower them), by the clock it counts them on."""
    windows = [Window(w.seconds, w.limit) for w in emulator.write_windows()]
    return partial(Pacer, windows, clock=emulator.clock.timestamp)


@asynccontextmanager
async def sandbox(
    seed: Mapping[str, Any] | Emulator,
    *,
    secret: str = SECRET,
    channel_env: Mapping[str, str] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    read_tokens: ReadTokens = NO_READ_TOKENS,
) -> AsyncIterator[Sandbox]:
    """`sleep`: how the service waits (retries, write pacing): tests pass one that does not,
    benchmarks one that moves the emulator's clock (`bot.emulator.warp`)."""
    emulator = seed if isinstance(seed, Emulator) else Emulator.from_seed(dict(seed))
    if not emulator.private_keys:
        raise ValueError("the seed needs an app with a private key for flagbot to act as")
    app_id, key = next(iter(emulator.private_keys.items()))
    async with emulator.serve() as gh:
        config = ServiceConfig(
            webhook_secret=secret,
            api_url=gh.url,
            app_id=str(app_id),
            private_key=key,
            channel_env=dict(channel_env or {}),
            retry=retry,
            read_tokens=read_tokens,
        )
        service = Service(config, clock=emulator.clock.now, sleep=sleep, pacer=pacing(emulator))
        app = make_app(config, service)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/webhook"
        emulator.add_webhook(url, secret, app_id=app_id)
        try:
            yield Sandbox(emulator, app[SERVICE], config, url, app=app)
        finally:
            await runner.cleanup()

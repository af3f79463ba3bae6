"""Receivers for the seed policy's notification channels (Slack, audit webhook, e-mail), so
a benchmark's lifecycles notify as they do in production instead of failing to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from tests.receivers import HttpReceiver, Mailbox, smtp_server


@dataclass
class Channels:
    env: dict[str, str]  # the environment variables the policy's channels read
    receiver: HttpReceiver  # what the Slack and audit webhooks received
    mailbox: Mailbox  # what the e-mail channel sent


@asynccontextmanager
async def channels() -> AsyncIterator[Channels]:
    receiver = HttpReceiver()
    runner = web.AppRunner(receiver.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        with smtp_server() as (mailbox, smtp_url):
            env = {
                "FLAGBOT_SLACK_WEBHOOK_URL": f"{url}/slack",
                "FLAGBOT_AUDIT_WEBHOOK_URL": f"{url}/audit",
                "FLAGBOT_SMTP_URL": smtp_url,
            }
            yield Channels(env, receiver, mailbox)
    finally:
        await runner.cleanup()

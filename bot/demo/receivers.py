"""Real local receivers for the channels of flagbot.yml, so the demo's notifications visibly
arrive: one HTTP endpoint per Slack or webhook channel, one SMTP server for e-mail channels,
all on 127.0.0.1 (ephemeral ports) on the demo's event loop.

`env` holds what production keeps in secrets: each channel's URL under the variable the
policy names, and a signing secret for webhook channels that ask for one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from typing import Any

from aiohttp import web

from bot.policy.model import Channel

SIGNING_SECRET = "demo-audit-secret"


@dataclass(frozen=True, slots=True)
class Received:
    """One notification as its receiver got it."""

    channel: str
    type: str  # slack | webhook | email
    subject: str
    body: Any  # the JSON posted, or the e-mail's text
    to: tuple[str, ...] = ()
    signed: bool | None = None  # webhook: signature present and valid; None: not signed


@dataclass
class Inbox:
    channels: tuple[Channel, ...]
    env: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # channel -> URL, for the header

    def since(self, mark: int) -> list[Received]:
        return self.received[mark:]

    def count(self, channel: str | None = None) -> int:
        return sum(1 for r in self.received if channel is None or r.channel == channel)


@asynccontextmanager
async def receivers(channels: Sequence[Channel]) -> AsyncIterator[Inbox]:
    inbox = Inbox(tuple(channels))
    by_name = {c.name: c for c in channels}
    secrets = {
        c.name: SIGNING_SECRET
        for c in channels
        if c.type == "webhook" and c.options.get("secret_env")
    }
    for c in channels:
        if c.name in secrets:
            inbox.env[c.options["secret_env"]] = SIGNING_SECRET

    async def http(request: web.Request) -> web.Response:
        channel = by_name.get(request.match_info["name"])
        if channel is None:
            return web.Response(status=404)
        raw = await request.read()
        inbox.received.append(_from_post(channel, raw, request.headers, secrets.get(channel.name)))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{name}", http)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    smtp: asyncio.base_events.Server | None = None
    try:
        mail = [c for c in channels if c.type == "email"]
        if mail:
            smtp = await _smtp_server(inbox, mail)
        for c in channels:
            if c.type == "email" and smtp is not None:
                url = f"smtp://127.0.0.1:{smtp.sockets[0].getsockname()[1]}"
            else:
                url = f"http://127.0.0.1:{http_port}/{c.name}"
            if c.url_env:
                inbox.env[c.url_env] = url
            inbox.where[c.name] = url
        yield inbox
    finally:
        if smtp is not None:
            smtp.close()
            await smtp.wait_closed()
        await runner.cleanup()


def _from_post(channel: Channel, raw: bytes, headers: Any, secret: str | None) -> Received:
    data = json.loads(raw or b"null")
    if channel.type == "slack":
        text = str((data or {}).get("text", ""))
        subject = text.splitlines()[0].strip("*") if text else ""
        return Received(channel.name, "slack", subject, data)
    signed = None
    given = headers.get("X-Flagbot-Signature-256")
    if secret is not None:
        wanted = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        signed = given is not None and hmac.compare_digest(given, wanted)
    subject = str((data or {}).get("subject", ""))
    return Received(channel.name, "webhook", subject, data, signed=signed)


async def _smtp_server(inbox: Inbox, channels: list[Channel]) -> asyncio.base_events.Server:
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = message_from_bytes(envelope.original_content, policy=email_policy.default)
            # One SMTP server stands for every e-mail channel: tell them apart by sender.
            sender = str(msg.get("From", ""))
            channel = next((c for c in channels if c.sender == sender), channels[0])
            body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            inbox.received.append(
                Received(
                    channel.name,
                    "email",
                    str(msg.get("Subject", "")).strip(),
                    body.get_content() if body is not None else "",
                    to=tuple(a.strip() for a in str(msg.get("To", "")).split(",") if a.strip()),
                )
            )
            return "250 Message accepted for delivery"

    loop = asyncio.get_running_loop()
    handler = Handler()
    return await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", loop=loop), "127.0.0.1", 0
    )

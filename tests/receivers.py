"""Real local receivers for notifications: an HTTP endpoint (Slack-style or generic webhook)
and an SMTP server (aiosmtpd), both on 127.0.0.1 with ephemeral ports."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web


@dataclass
class HttpReceiver:
    """Records every POST; answers with `status` (settable to simulate an outage)."""

    status: int = 200
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            self.headers.append(dict(request.headers))
            self.posts.append({"path": request.path, "json": json.loads(body or b"null")})
            return web.Response(status=self.status, text="ok")

        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        return app


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler protocol
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, str]]:
    """A real SMTP server in a thread; yields the mailbox and an smtp:// URL for it."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()  # aiosmtpd's readiness probe needs the real port up front
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll until predicate() is true (deliveries are asynchronous); fail after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)

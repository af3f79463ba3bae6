"""Running the service until SIGTERM or SIGINT, then shutting down gracefully.

aiohttp's own runner stops listening first, so deliveries arriving during shutdown would be
refused at the socket and acknowledged work cancelled. Here the listener stays up answering
503 (GitHub records a failed delivery, which `flagbot redeliver` can resend) while acknowledged
work finishes, up to the drain timeout; what could not finish is logged by pull request and
left for the next sweep.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable

from aiohttp import web

from bot.service.app import SERVICE, Service


async def serve_until_signalled(
    app: web.Application, sock: socket.socket, say: Callable[[str], None]
) -> None:
    """Serve `app` on `sock` (bound and listening already, so a busy port was reported before
    anything started) until a signal."""
    service: Service = app[SERVICE]  # type: ignore[assignment]
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    host, port = sock.getsockname()[:2]
    say(f"listening on http://{host}:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        timeout = service.config.drain_timeout
        say(f"draining (up to {timeout:g}s): {service.backlog} pull requests and deliveries")
        left = await service.shutdown(timeout)
        say(f"stopped; {len(left)} unfinished" if left else "stopped; nothing left undone")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()

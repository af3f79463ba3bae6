"""The aiohttp adapter: every request becomes a transport-neutral `Request` for the pipeline;
`/_emulator/...` goes to the admin API instead (never logged, charged or faulted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.emulator.api.router import Request

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator

ADMIN_PREFIX = "/_emulator"
MAX_BODY = 64 * 1024 * 1024


def make_app(emulator: Emulator) -> web.Application:
    from bot.emulator.admin import handle_admin

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        req = Request(
            method=request.method.upper(),
            path=request.rel_url.raw_path,
            query=dict(request.rel_url.query),
            headers=request.headers,
            body=body,
            base=f"{request.scheme}://{request.host}",
        )
        if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
            return await handle_admin(emulator, req)
        served = await emulator.dispatcher.handle_async(req)
        return web.Response(status=served.status, body=served.body or None, headers=served.headers)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app

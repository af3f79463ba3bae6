"""`check_github`, the one call behind start-up and /readyz, on each kind of answer: accepted,
refused, an error status, not GitHub at all, and no answer."""

from __future__ import annotations

import socket

import aiohttp
from aiohttp import web

from bot.emulator.emulator import Emulator
from bot.service.config import ServiceConfig
from bot.service.preflight import check_github
from tests.emulator_harness import APP_ID, TOKENS, app_private_key, seed_for


def app_config(url: str) -> ServiceConfig:
    return ServiceConfig("s", api_url=url, app_id=str(APP_ID), private_key=app_private_key())


async def probe(config: ServiceConfig, timeout: float = 5.0) -> str | None:
    async with aiohttp.ClientSession() as session:
        return await check_github(session, config, timeout=timeout)


async def test_accepted_app_and_token():
    emulator = Emulator.from_seed(seed_for())
    async with emulator.serve() as gh:
        assert await probe(app_config(gh.url)) is None
        assert await probe(ServiceConfig("s", api_url=gh.url, token=TOKENS["flagbot"])) is None


async def test_an_error_status_names_the_url_and_status():
    emulator = Emulator.from_seed(seed_for())
    emulator.faults.fail("GET /app", 503, times=None)
    async with emulator.serve() as gh:
        line = await probe(app_config(gh.url))
    assert line == (
        f"GITHUB_API_URL: GitHub at {gh.url} answered 503 to GET /app (Service Unavailable): "
        "try again later, or check the URL"
    )


async def test_a_web_page_is_not_the_api(aiohttp_server):
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>GitHub</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/app", page)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")
    line = await probe(app_config(url))
    assert line is not None
    assert "does not look like GitHub's REST API (GET /app answered 200 text/html)" in line


async def test_no_answer_within_the_timeout():
    # A socket that accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        line = await probe(app_config(url), timeout=0.2)
    assert line == (
        f"GITHUB_API_URL: GitHub unreachable at {url} (no answer within 0.2 s): check the URL "
        "and that this host can reach it"
    )

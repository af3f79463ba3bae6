"""Test helpers for anything that runs against the local GitHub (bot, rollout job, demo tests).

- `seed_for(files, **extra)`, `app_private_key()`, `APP_ID`, `INSTALLATION_ID`, `REPO`: the
  standard test seed and its constants, defined in `bot.emulator.seeds` (shipped, so the CLI
  can use them without pytest) and re-exported here.
- `WebhookSink`: a tiny aiohttp receiver recording deliveries (`async with WebhookSink() as s`).
- pytest fixtures (`emulator`, `github`, `github_url`): import them into a conftest with
  `from tests.emulator_harness import emulator, github, github_url  # noqa: F401`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from bot.emulator.emulator import Emulator, Server
from bot.emulator.seeds import (  # re-exported: tests import them from here
    APP_ID,
    DEFAULT_FILES,
    INSTALLATION_ID,
    REPO,
    TOKENS,
    app_private_key,
    seed_for,
)

__all__ = [
    "APP_ID",
    "DEFAULT_FILES",
    "INSTALLATION_ID",
    "REPO",
    "TOKENS",
    "WebhookSink",
    "app_private_key",
    "emulator",
    "github",
    "github_url",
    "seed_for",
]


class WebhookSink:
    """Records webhook deliveries: `received` is a list of (headers, raw body, parsed JSON)."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((dict(request.headers), body, json.loads(body) if body else None))
        return web.Response(status=self.status, text="ok")

    async def __aenter__(self) -> WebhookSink:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    def events(self) -> list[tuple[str, str | None]]:
        return [(h.get("X-GitHub-Event", ""), (p or {}).get("action")) for h, _, p in self.received]


# --- pytest fixtures ------------------------------------------------------------------------
@pytest.fixture
def emulator() -> Emulator:
    """A fresh emulator on the standard seed (not served)."""
    return Emulator.from_seed(seed_for())


@pytest.fixture
async def github(emulator: Emulator) -> AsyncIterator[Server]:
    """The emulator served on 127.0.0.1 (free port) on the test's event loop."""
    async with emulator.serve() as server:
        yield server


@pytest.fixture
def github_url(emulator: Emulator) -> Iterator[str]:
    """The emulator served from a background thread, for synchronous code (PyGithub)."""
    with emulator.serve_in_thread() as url:
        yield url

"""Test helpers for anything that runs against the local GitHub (bot, rollout job, demo tests).

- `seed_for(files, **extra)`: the standard test seed (users dev/mgr/qa/flagbot/outsider, org
  `acme` with teams, the `flagbot` App installed on `acme`, repository `acme/flags` holding
  `files`), as a dict to tweak before `Emulator.from_seed`.
- `app_private_key()`: one RSA key per process for the test App.
- `WebhookSink`: a tiny aiohttp receiver recording deliveries (`async with WebhookSink() as s`).
- pytest fixtures (`emulator`, `github`, `github_url`): import them into a conftest with
  `from bot.emulator.testing import emulator, github, github_url  # noqa: F401`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from copy import deepcopy
from functools import lru_cache
from typing import Any

import pytest
from aiohttp import web

from bot.emulator.emulator import Emulator, Server

APP_ID = 1001
INSTALLATION_ID = 2002
REPO = "acme/flags"
TOKENS = {
    "dev": "dev-token",
    "mgr": "mgr-token",
    "qa": "qa-token",
    "flagbot": "bot-token",
    "outsider": "outsider-token",
}

DEFAULT_FILES = {
    "README.md": "# flags\n",
    ".github/CODEOWNERS": "flags/ @acme/eng-managers @acme/qa\n",
    "flags/checkout.yaml": "name: New checkout\nenabled: true\nrollout:\n  percentage: 5\n",
}


@lru_cache(maxsize=1)
def app_private_key() -> str:
    """A 2048-bit RSA private key (PEM), generated once per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def seed_for(files: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """The standard test seed; `extra` keys replace the seed's top-level keys."""
    seed: dict[str, Any] = {
        "users": [{"login": login, "token": token} for login, token in TOKENS.items()],
        "orgs": [
            {
                "login": "acme",
                "members": ["dev"],
                "teams": [
                    {"slug": "leads", "maintainers": ["mgr"]},
                    {"slug": "eng-managers", "members": ["mgr"], "parent": "leads"},
                    {"slug": "qa", "members": ["qa"]},
                ],
            }
        ],
        "apps": [
            {
                "id": APP_ID,
                "slug": "flagbot",
                "owner": "acme",
                "private_key": app_private_key(),
                "installations": [{"id": INSTALLATION_ID, "account": "acme"}],
            }
        ],
        "repos": [
            {
                "full_name": REPO,
                "default_branch": "main",
                "files": dict(DEFAULT_FILES if files is None else files),
                "collaborators": {
                    "dev": "write",
                    "mgr": "write",
                    "qa": "write",
                    "flagbot": "admin",
                },
            }
        ],
    }
    seed.update(deepcopy(extra))
    return seed


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

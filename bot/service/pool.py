"""GitHub clients for the service: one HTTP session, the credentials, one client (with its
conditional-request cache) per credential, and a gateway per repository."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from cachetools import LRUCache

from bot.gh.auth import AppAuth, TokenAuth
from bot.gh.client import GitHubClient, Observer
from bot.gh.pacing import Pacer
from bot.gh.pulls import PER_PAGE, RepoGateway
from bot.service.caches import Caches
from bot.service.config import ServiceConfig

log = logging.getLogger("flagbot.service")

ETAG_CACHE_SIZE = 2048  # conditional-request cache per credential (keyed by URL)


class ClientPool:
    def __init__(
        self,
        config: ServiceConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pacer: Callable[..., Pacer] = Pacer,
        observer: Callable[[str], Observer] | None = None,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.pacer = pacer  # called with `sleep=` once per credential
        self.observer = observer  # per credential: metrics and readiness hear every answer
        self.caches = Caches()
        self.auth: AppAuth | TokenAuth = (
            AppAuth(config.app_id, config.private_key)
            if config.app_id and config.private_key
            else TokenAuth(config.token or "")
        )
        self.session: aiohttp.ClientSession | None = None
        self.clients: dict[Any, GitHubClient] = {}
        self.bot_login: str | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self.session:
            await self.session.close()

    def client(self, installation_id: int | None) -> GitHubClient:
        key = installation_id or "token"
        if key not in self.clients:
            assert self.session is not None, "service not started"
            self.clients[key] = GitHubClient(
                self.session,
                base_url=self.config.api_url,
                cache=LRUCache(maxsize=ETAG_CACHE_SIZE),
                policy=self.config.retry,
                pacer=self.pacer(sleep=self.sleep),
                observe=self.observer(str(key)) if self.observer else None,
            )
        return self.clients[key]

    async def login(self) -> str:
        """Who flagbot is on GitHub (`<slug>[bot]` for an App), asked once."""
        if self.bot_login is None:
            self.bot_login = await self.auth.login(self.client(None))
        return self.bot_login

    async def gateway_for(self, repo: str, installation_id: int | None) -> RepoGateway:
        gh = self.client(installation_id)
        token = await self.auth.token_for(gh, repo, installation_id)
        login = await self.login()
        gw = RepoGateway(gh, repo, token, self.caches, login)
        gw.checks_allowed = self.auth.is_app
        return gw

    async def repositories(self) -> list[tuple[str, int | None]]:
        """(repository, installation) for every repository the App is installed on; a
        token has no installations, so the caller names its repositories instead."""
        if not isinstance(self.auth, AppAuth):
            return []
        gh = self.client(None)
        found: list[tuple[str, int | None]] = []
        async for inst in gh.getiter(
            f"/app/installations?per_page={PER_PAGE}", jwt=self.auth.jwt(), iterable_key=None
        ):
            iid = int(inst["id"])
            try:
                token = await self.auth.token_for(self.client(iid), "", iid)
                found += [
                    (repo["full_name"], iid)
                    async for repo in self.client(iid).getiter(
                        f"/installation/repositories?per_page={PER_PAGE}",
                        oauth_token=token,
                        iterable_key="repositories",
                    )
                ]
            except Exception as exc:  # suspended, gone, GitHub failing: the others still count
                log.warning("could not list the repositories of installation %s: %r", iid, exc)
        return found

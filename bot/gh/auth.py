"""Who the service acts as: a plain token, or a GitHub App minting installation tokens.

Installation tokens last an hour; they are cached per installation and renewed five minutes
before they expire. Minting is serialised per installation so a burst of webhooks mints once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from gidgethub import BadRequest, apps
from gidgethub.abc import GitHubAPI

from bot.gh.errors import NotOurs

RENEW_BEFORE = 300.0  # seconds


class TokenAuth:
    def __init__(self, token: str) -> None:
        self._token = token
        self.is_app = False

    async def token_for(self, gh: GitHubAPI, repo: str, installation_id: int | None) -> str:
        return self._token

    async def login(self, gh: GitHubAPI) -> str:
        user = await gh.getitem("/user", oauth_token=self._token)
        return user["login"]


@dataclass
class _Minted:
    token: str
    expires_at: float


@dataclass
class AppAuth:
    app_id: str
    private_key: str
    is_app: bool = True
    _tokens: dict[int, _Minted] = field(default_factory=dict)
    _installations: dict[str, int] = field(default_factory=dict)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    _login: str | None = None
    _login_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def jwt(self) -> str:
        return apps.get_jwt(app_id=self.app_id, private_key=self.private_key)

    async def installation_of(self, gh: GitHubAPI, repo: str) -> int:
        if repo not in self._installations:
            try:
                data = await gh.getitem(f"/repos/{repo}/installation", jwt=self.jwt())
            except BadRequest as exc:
                if exc.status_code == 404:
                    raise NotOurs(f"the App is not installed on {repo} (404)") from None
                raise
            self._installations[repo] = int(data["id"])
        return self._installations[repo]

    async def token_for(self, gh: GitHubAPI, repo: str, installation_id: int | None) -> str:
        iid = installation_id or await self.installation_of(gh, repo)
        lock = self._locks.setdefault(iid, asyncio.Lock())
        async with lock:
            minted = self._tokens.get(iid)
            if minted and minted.expires_at - time.time() > RENEW_BEFORE:
                return minted.token
            try:
                data = await apps.get_installation_access_token(
                    gh, installation_id=str(iid), app_id=self.app_id, private_key=self.private_key
                )
            except BadRequest as exc:
                if exc.status_code == 404:
                    raise NotOurs(f"the App has no installation {iid} (404)") from None
                raise
            expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
            self._tokens[iid] = _Minted(data["token"], expires.timestamp())
            return data["token"]

    async def login(self, gh: GitHubAPI) -> str:
        """The App's bot login, asked once however many reconciles start together."""
        async with self._login_lock:
            if self._login is None:
                app = await gh.getitem("/app", jwt=self.jwt())
                self._login = f"{app['slug']}[bot]"
            return self._login

"""gidgethub's aiohttp client with flagbot's retry policy, pacing, API version pin and call
counting.

`observe`, when given, hears of every attempt: the status (None when no answer came), the
answer's headers (rate-limit budget) and whether the call was made with the App's JWT rather
than an installation token or user token (the two draw on different rate-limit budgets)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import suppress
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from gidgethub import HTTPException
from gidgethub.aiohttp import GitHubAPI

from bot.gh.pacing import WRITE_METHODS, Pacer, is_urgent
from bot.gh.retry import DEFAULT_POLICY, RetryPolicy, retry_delay

API_VERSION = "2022-11-28"
USER_AGENT = "flagbot"

Observer = Callable[[int | None, Mapping[str, str], bool], None]


class GitHubClient(GitHubAPI):
    """One per credential (its ETag cache is keyed by URL only, not by token), so one pacer per
    installation. Calls authenticated as the App itself (a JWT) are not paced: GitHub counts
    them against the App, not the installation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = "https://api.github.com",
        oauth_token: str | None = None,
        cache: MutableMapping[str, Any] | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        calls: Counter[str] | None = None,
        observe: Observer | None = None,
        pacer: Pacer | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            session, USER_AGENT, oauth_token=oauth_token, cache=cache, base_url=base_url
        )
        self.policy = policy
        self._date: str | None = None
        self.calls: Counter[str] = calls if calls is not None else Counter()
        self.observe = observe
        # `pause` is injected, so tests never wait through real backoff
        self.pacer = pacer or Pacer(sleep=pause)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = {**headers, "x-github-api-version": API_VERSION}
        as_app = headers.get("authorization", "").lower().startswith("bearer ")
        attempt = 0
        while True:
            attempt += 1
            try:
                status, resp_headers, data = await self._paced(method, url, headers, body, as_app)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if self.observe:
                    self.observe(None, {}, as_app)
                delay = retry_delay(None, {}, attempt, self.pacer.clock(), self.policy)
                if delay is None:
                    raise ConnectionError(f"{method} {url}: {exc}") from exc
                await self.sleep(delay)
                continue
            if status == 304:
                self.calls["304"] += 1
            if self.observe:
                self.observe(status, resp_headers, as_app)
            if not as_app and resp_headers.get("x-ratelimit-remaining") == "0":
                with suppress(KeyError, ValueError):  # spent: nobody calls before the reset
                    self.pacer.pause_all(float(resp_headers["x-ratelimit-reset"]))
            self._date = resp_headers.get("date") or self._date
            return status, resp_headers, data

    async def _paced(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, as_app: bool
    ) -> tuple[int, Mapping[str, str], bytes]:
        self.calls[method] += 1
        if as_app:
            return await super()._request(method, url, headers, body)
        if method in WRITE_METHODS:
            async with self.pacer.write(urgent=is_urgent()):
                return await super()._request(method, url, headers, body)
        async with self.pacer.read():
            return await super()._request(method, url, headers, body)

    def server_time(self) -> datetime | None:
        """GitHub's time at its latest answer (its `Date` header): flagbot compares GitHub's
        timestamps against GitHub's clock, never its own."""
        if not self._date:
            return None
        try:
            return parsedate_to_datetime(self._date)
        except (TypeError, ValueError):
            return None

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        headers = exception.headers or {}
        now = self.pacer.clock()
        delay = retry_delay(
            int(exception.status_code), headers, attempt, now, self.policy, message=str(exception)
        )
        if delay is None:
            return False
        self.calls["retry"] += 1
        if int(exception.status_code) in (403, 429):  # a limit: hold the others back too
            if method in WRITE_METHODS and headers.get("x-ratelimit-remaining") != "0":
                self.pacer.pause_writes(now + delay)
            else:
                self.pacer.pause_all(now + delay)
        await self.sleep(delay)
        return True

    async def sleep(self, seconds: float) -> None:
        await self.pacer.sleep(seconds)

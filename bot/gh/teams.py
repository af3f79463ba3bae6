"""Who is in a team, as the decisions ask it: one listing per team answers every question.

A team's member list (child teams included, active members only) answers "is a member" and
"is not a member" alike. Kept a minute; read again, an unchanged listing is a 304, which GitHub
does not charge (the per-login membership check answers "not a member" with a 404, charged
every time). Each decision may want answers read for it, not cached from an earlier one (a
merge never rests on a cached membership): the listings of the teams its repository asked
about before are read alongside its pull request, in the same round trip.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from bot.gh.tasks import once, quiet

PER_PAGE = 100


class TeamListings:
    """One decision's view: `members` answers from its own fresh reads, else the cache."""

    def __init__(self, gh: GitHubAPI, repo: str, token: str, caches: Any) -> None:
        self.gh = gh
        self.repo = repo
        self.token = token
        self.caches = caches
        self._fresh: dict[str, asyncio.Task[frozenset[str]]] = {}  # read for this decision

    def read_ahead(self) -> None:
        """Read, now and concurrently, every team this repository's decisions asked about."""
        for team in self.caches.repo_teams.get(self.repo) or ():
            if team not in self._fresh:
                self._fresh[team] = asyncio.ensure_future(self._listing(team))
                self._fresh[team].add_done_callback(quiet)

    async def members(self, team: str, *, fresh: bool = False) -> frozenset[str]:
        """The active members of `@org/slug` (lower-case logins); a team this token cannot
        see has none. A fresh answer is one read during this decision."""
        key = team_key(team)
        known = self.caches.repo_teams.get(self.repo) or frozenset()
        if key not in known:
            self.caches.repo_teams[self.repo] = known | {key}
        task = self._fresh.get(key)
        if task is None and fresh:
            task = self._fresh[key] = asyncio.ensure_future(self._listing(key))
        if task is None:
            return await once(self.caches.memberships, key, lambda: self._listing(key))
        self.caches.memberships[key] = task  # read during this decision: newer than any cached
        return await asyncio.shield(task)

    def forget(self, org: str) -> None:
        """Drop every cached listing of `org`'s teams."""
        prefix = team_key(f"{org}/")
        cache = self.caches.memberships
        for key in [k for k in list(cache) if k.startswith(prefix)]:
            cache.pop(key, None)

    async def _listing(self, key: str) -> frozenset[str]:
        org, slug = key.removeprefix("@").split("/", 1)
        try:
            return frozenset(
                [
                    m["login"].lower()
                    async for m in self.gh.getiter(
                        f"/orgs/{org}/teams/{slug}/members?per_page={PER_PAGE}",
                        oauth_token=self.token,
                    )
                ]
            )
        except BadRequest as exc:
            if exc.status_code not in (403, 404):
                raise
            return frozenset()


def team_key(team: str) -> str:
    """`@Org/Slug` and `org/slug` name one team: `@org/slug`."""
    return "@" + team.lstrip("@").lower()

"""Someone joined or left a team: which open pull requests to decide again.

An approval counts only while its author is in the team, so the cached answers about the
organization's teams are dropped at once, and every open pull request whose code owners
include the team (as last decided here) is re-decided; one this process has not decided yet is
re-decided too, since nothing says it is unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.gh.pulls import RepoGateway
from bot.service.events import TeamChanged, Work

log = logging.getLogger("flagbot.service")


async def affected_pulls(
    gw: RepoGateway, item: TeamChanged, owner_teams: Mapping[tuple[str, int], frozenset[str]]
) -> list[Work]:
    gw.forget_memberships(item.org)
    if item.installation_id is None:  # token mode: only the repositories decided here
        repos = sorted({repo for repo, _ in owner_teams})
    else:
        repos = await gw.installation_repos()
    found: list[Work] = []
    for repo in repos:
        try:
            pulls = await RepoGateway(gw.gh, repo, gw.token, gw.caches).open_pulls()
        except Exception as exc:  # the other repositories are still re-decided
            log.warning(
                "could not list pull requests of %s after %s changed: %r", repo, item.teams, exc
            )
            continue
        for pull in pulls:
            number = int(pull["number"])
            teams = owner_teams.get((repo, number))
            if teams is None or item.concerns(teams):
                found.append(Work(repo, number, item.installation_id))
    return found

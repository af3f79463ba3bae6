"""What `GET /repos/{owner}/{repo}/codeowners/errors` reports about a repository's CODEOWNERS.

flagbot's own parser (`bot.policy.codeowners`) reads the file as GitHub does and reports the
lines GitHub rejects; the emulator, which knows its accounts and their access, adds the owners
GitHub would ignore ("Unknown owner"). So GitHub's view in tests and flagbot's are one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.emulator.state import ROLE_RANK, Repo, State
from bot.policy.codeowners import load_codeowners, locate, owner_kind, unknown_owner_errors


def codeowners_errors(state: State, repo: Repo, sha: str) -> list[dict[str, Any]] | None:
    """GitHub's error items for the CODEOWNERS at commit `sha`, in file order; None when the
    commit has no CODEOWNERS in any of GitHub's three places."""
    path = locate(lambda p: repo.git.read(sha, p) is not None)
    if path is None:
        return None
    data = repo.git.read(sha, path)
    assert data is not None
    codeowners, _ = load_codeowners(data, path)
    found = [*codeowners.errors, *unknown_owner_errors(codeowners, owner_known(state, repo))]
    found.sort(key=lambda e: (e.line, e.column))
    return [error.to_github() for error in found]


def owner_known(state: State, repo: Repo) -> Callable[[str], bool]:
    """Whether GitHub would honour an owner on `repo`: users (and the users behind e-mails)
    need write access; teams must belong to the owner org, be visible, and have write access
    (when the seed declared no team access, every team of the org counts as having it)."""

    def writes(login: str) -> bool:
        return ROLE_RANK[state.role(repo, login)] >= ROLE_RANK["write"]

    def known(owner: str) -> bool:
        kind = owner_kind(owner)
        if kind == "email":
            return any(
                (u.email or "").lower() == owner.lower() and writes(u.login)
                for u in state.users.values()
                if u.type != "Organization"
            )
        if kind == "team":
            org_login, _, slug = owner[1:].partition("/")
            org = state.orgs.get(org_login.lower())
            if org is None or org.login.lower() != repo.owner.lower():
                return False
            team = next((t for s, t in org.teams.items() if s.lower() == slug.lower()), None)
            if team is None or team.privacy == "secret":
                return False
            granted = "write" if repo.teams is None else repo.teams.get(team.slug, "none")
            return ROLE_RANK[granted] >= ROLE_RANK["write"]
        user = state.users.get(owner[1:].lower())
        return user is not None and user.type != "Organization" and writes(user.login)

    return known

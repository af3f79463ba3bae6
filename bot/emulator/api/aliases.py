"""GitHub's id-based paths, which its own answers hand out and clients follow as given:

- `/repositories/{id}/...`: the URLs in `Link` headers of a repository's lists
  (`<https://api.github.com/repositories/3710711/commits?per_page=25&page=2>; rel="next"`);
- `/organizations/{org_id}/team/{team_id}/...`: every team's `url`, `members_url`, and the
  `url` of a team membership (PyGithub builds its team calls on them).

They are served as the `/repos/{owner}/{repo}/...` and `/orgs/{org}/teams/{team_slug}/...`
paths they stand for, so the call log, faults and the conformance checks name the same route.
"""

from __future__ import annotations

import re

from bot.emulator.state import Repo, State

_REPOSITORY = re.compile(r"/repositories/(\d+)(/.*)?")
_TEAM = re.compile(r"/organizations/(\d+)/team/(\d+)(/.*)?")


def canonical(state: State, path: str) -> str:
    """The `/repos/...` or `/orgs/...` path an id-based path stands for (else `path`)."""
    if m := _REPOSITORY.fullmatch(path):
        repo = next((r for r in state.repos.values() if r.id == int(m[1])), None)
        if repo is not None:
            return f"/repos/{repo.full_name}{m[2] or ''}"
    elif m := _TEAM.fullmatch(path):
        org = next((o for o in state.orgs.values() if o.account.id == int(m[1])), None)
        team = org and next((t for t in org.teams.values() if t.id == int(m[2])), None)
        if org is not None and team:
            return f"/orgs/{org.login}/teams/{team.slug}{m[3] or ''}"
    return path


def repository_links(link: str, base: str, path: str, repo: Repo) -> str:
    """A `Link` header of a repository's list (`path`: `/repos/{owner}/{repo}/...` as the
    caller wrote it) in GitHub's form, on `/repositories/{id}/...`."""
    prefix = "/".join(path.split("/")[:4])
    return link.replace(f"<{base}{prefix}/", f"<{base}/repositories/{repo.id}/")

"""JSON shapes of accounts, repositories, teams, labels, apps and installations.

Every URL is built from the address the emulator is served on (`Ctx.base`), because PyGithub
checks that returned URLs share its base URL and follows them. `html_url`s use the same host
(the emulator serves no web pages; they only have to be well-formed URLs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.emulator.clock import iso
from bot.emulator.state import (
    App,
    Installation,
    Label,
    Org,
    Repo,
    State,
    Team,
    User,
    node_id,
)


@dataclass(frozen=True, slots=True)
class Ctx:
    state: State
    base: str  # scheme://host:port, no trailing slash

    def api(self, path: str) -> str:
        return self.base + path

    def html(self, path: str) -> str:
        return self.base + path


def user(ctx: Ctx, u: User) -> dict[str, Any]:
    api = ctx.api(f"/users/{u.login}")
    return {
        "login": u.login,
        "id": u.id,
        "node_id": node_id("Bot" if u.type == "Bot" else "User", u.id),
        "avatar_url": ctx.api(f"/avatars/u/{u.id}?v=4"),
        "gravatar_id": "",
        "url": api,
        "html_url": ctx.html(f"/{u.login}"),
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": u.type,
        "site_admin": u.site_admin,
    }


def user_by_login(ctx: Ctx, login: str) -> dict[str, Any]:
    return user(ctx, ctx.state.account(login))


def organization(ctx: Ctx, org: Org) -> dict[str, Any]:
    api = ctx.api(f"/orgs/{org.login}")
    return {
        "login": org.login,
        "id": org.account.id,
        "node_id": node_id("Organization", org.account.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": ctx.api(f"/avatars/u/{org.account.id}?v=4"),
        "description": org.description,
    }


def organization_full(ctx: Ctx, org: Org, viewer: str | None) -> dict[str, Any]:
    """`GET /orgs/{org}`: the public profile, plus plan and member settings for its owners."""
    repos = [r for r in ctx.state.repos.values() if r.owner.lower() == org.login.lower()]
    private = sum(1 for r in repos if r.private)
    out = organization(ctx, org)
    out.update(
        {
            "name": org.account.name,
            "company": None,
            "blog": None,
            "location": None,
            "email": org.account.email,
            "twitter_username": None,
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": len(repos) - private,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": ctx.html(f"/{org.login}"),
            "created_at": iso(org.created_at),
            "updated_at": iso(org.created_at),
            "type": "Organization",
        }
    )
    if viewer is None or viewer not in org.owners:
        return out
    members = {*org.members, *org.owners}
    for t in org.teams.values():
        members |= t.members | t.maintainers
    out.update(
        {
            "total_private_repos": private,
            "owned_private_repos": private,
            "private_gists": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "billing_email": None,
            "plan": {
                "name": "free",
                "space": 976562499,
                "private_repos": 10000,
                "filled_seats": len(members),
                "seats": len(members),
            },
            "default_repository_permission": "read",
            "members_can_create_repositories": True,
            "two_factor_requirement_enabled": False,
            "members_allowed_repository_creation_type": "all",
            "members_can_create_public_repositories": True,
            "members_can_create_private_repositories": True,
            "members_can_create_internal_repositories": False,
            "members_can_create_pages": True,
            "members_can_create_public_pages": True,
            "members_can_create_private_pages": True,
            "members_can_fork_private_repositories": False,
        }
    )
    return out


_REPO_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(ctx: Ctx, repo: Repo, *, webhook: bool = False) -> dict[str, Any]:
    """The repository object embedded in pull requests, statuses and webhooks. Webhooks add
    `custom_properties` (octokit's schema requires it; GitHub's REST `repository` has none)."""
    api = ctx.api(f"/repos/{repo.full_name}")
    html = ctx.html(f"/{repo.full_name}")
    host = ctx.base.split("://", 1)[-1]
    out: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user_by_login(ctx, repo.owner),
        "html_url": html,
        "description": repo.description,
        "fork": False,
        "url": api,
    }
    out.update({key: api + suffix for key, suffix in _REPO_TEMPLATES.items()})
    open_count = sum(1 for pr in repo.pulls.values() if pr.state == "open")
    out.update(
        {
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "pushed_at": iso(repo.pushed_at or repo.created_at),
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host.split(':')[0]}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
    )
    if webhook:
        out["custom_properties"] = {}
    return out


def full_repository(ctx: Ctx, repo: Repo, viewer: str | None) -> dict[str, Any]:
    """`GET /repos/{owner}/{repo}`: the repository plus settings and the caller's permissions."""
    out = repository(ctx, repo)
    role = ctx.state.role(repo, viewer) if viewer else ("none" if repo.private else "read")
    rank = ["none", "read", "triage", "write", "maintain", "admin"].index(role)
    out["permissions"] = {
        "admin": rank >= 5,
        "maintain": rank >= 4,
        "push": rank >= 3,
        "triage": rank >= 2,
        "pull": rank >= 1,
    }
    out.update(
        {
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "allow_update_branch": True,
            "delete_branch_on_merge": False,
            "network_count": 0,
            "subscribers_count": 0,
        }
    )
    org = ctx.state.orgs.get(repo.owner.lower())
    if org:
        out["organization"] = user(ctx, org.account)
    return out


def team(ctx: Ctx, t: Team) -> dict[str, Any]:
    org = ctx.state.org(t.org)
    api = ctx.api(f"/organizations/{org.account.id}/team/{t.id}")
    out: dict[str, Any] = {
        "name": t.name,
        "id": t.id,
        "node_id": node_id("Team", t.id),
        "slug": t.slug,
        "description": t.description,
        "privacy": t.privacy,
        "notification_setting": "notifications_enabled",
        "url": api,
        "html_url": ctx.html(f"/orgs/{t.org}/teams/{t.slug}"),
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "permission": "pull",
        "parent": None,
    }
    if t.parent and t.parent in org.teams:
        parent = org.teams[t.parent]
        out["parent"] = {k: v for k, v in team(ctx, parent).items() if k != "parent"}
    return out


def team_full(ctx: Ctx, t: Team) -> dict[str, Any]:
    """`GET /orgs/{org}/teams/{team_slug}`: the team with counts, dates and its organization's
    public profile."""
    org = ctx.state.org(t.org)
    repos = [
        r
        for r in ctx.state.repos.values()
        if r.owner.lower() == org.login.lower() and t.slug in (r.teams or {})
    ]
    out = team(ctx, t)
    out.update(
        {
            "members_count": len(org.team_members(t.slug)),
            "repos_count": len(repos),
            "created_at": iso(t.created_at),
            "updated_at": iso(t.created_at),
            "organization": organization_full(ctx, org, None),
        }
    )
    return out


def label(ctx: Ctx, repo: Repo, lab: Label) -> dict[str, Any]:
    return {
        "id": lab.id,
        "node_id": node_id("Label", lab.id),
        "url": ctx.api(f"/repos/{repo.full_name}/labels/{lab.name}"),
        "name": lab.name,
        "color": lab.color,
        "default": lab.default,
        "description": lab.description,
    }


def app(ctx: Ctx, a: App) -> dict[str, Any]:
    created = iso(a.created_at) if a.created_at else "2024-01-01T00:00:00Z"
    return {
        "id": a.id,
        "slug": a.slug,
        "node_id": node_id("Integration", a.id),
        "client_id": a.client_id or f"Iv1.{a.id:016x}",
        "owner": user_by_login(ctx, a.owner),
        "name": a.name,
        "description": a.description,
        "external_url": ctx.html(f"/apps/{a.slug}"),
        "html_url": ctx.html(f"/apps/{a.slug}"),
        "created_at": created,
        "updated_at": created,
        "permissions": dict(a.permissions),
        "events": list(a.events),
        "installations_count": sum(1 for i in ctx.state.installations.values() if i.app_id == a.id),
    }


def installation(ctx: Ctx, inst: Installation) -> dict[str, Any]:
    a = ctx.state.app(inst.app_id)
    account = ctx.state.account(inst.account)
    created = iso(inst.created_at)
    return {
        "id": inst.id,
        "account": user(ctx, account),
        "repository_selection": "all" if inst.repositories is None else "selected",
        "access_tokens_url": ctx.api(f"/app/installations/{inst.id}/access_tokens"),
        "repositories_url": ctx.api("/installation/repositories"),
        "html_url": ctx.html(f"/settings/installations/{inst.id}"),
        "app_id": a.id,
        "client_id": a.client_id or f"Iv1.{a.id:016x}",
        "app_slug": a.slug,
        "target_id": account.id,
        "target_type": account.type,
        "permissions": dict(inst.permissions),
        "events": list(a.events),
        "created_at": created,
        "updated_at": created,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def installation_lite(inst: Installation) -> dict[str, Any]:
    return {"id": inst.id, "node_id": node_id("Installation", inst.id)}

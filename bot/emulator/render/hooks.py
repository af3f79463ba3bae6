"""Webhook payloads: `push`, `pull_request`, `pull_request_review`, `check_run`,
`check_suite` and `membership`.

Each builder returns the payload without `installation`; the dispatcher adds it for App
webhooks, as GitHub does.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.git import ZERO_SHA
from bot.emulator.render.checks import check_run_webhook, check_suite_webhook
from bot.emulator.render.core import Ctx, organization, repository, team, user
from bot.emulator.render.pulls import pull_request as render_pull
from bot.emulator.render.pulls import review as render_review
from bot.emulator.render.pulls import simple_pull_request
from bot.emulator.state import CheckRun, CheckSuite, Org, PullRequest, Repo, Review, Team, User

MAX_PUSH_COMMITS = 20
WEB_FLOW_EMAIL = "noreply@github.com"


def envelope(ctx: Ctx, repo: Repo, sender: User, *, push: bool = False) -> dict[str, Any]:
    repo_json = repository(ctx, repo, webhook=True)
    if push:  # push payloads carry unix timestamps and a few legacy fields
        repo_json["created_at"] = int(repo.created_at.timestamp())
        repo_json["pushed_at"] = int((repo.pushed_at or repo.created_at).timestamp())
        repo_json["stargazers"] = 0
        repo_json["master_branch"] = repo.default_branch
    out: dict[str, Any] = {"repository": repo_json}
    org = ctx.state.orgs.get(repo.owner.lower())
    if org:
        out["organization"] = organization(ctx, org)
    out["sender"] = user(ctx, sender)
    return out


def _push_commit(ctx: Ctx, repo: Repo, sha: str) -> dict[str, Any]:
    git = repo.git
    c = git.store.commit(sha)
    old, new = git.changes(c.parents[0] if c.parents else None, sha)  # changed paths only

    def who(sig) -> dict[str, Any]:
        out: dict[str, Any] = {"name": sig.name, "email": sig.email}
        if sig.email.lower() == WEB_FLOW_EMAIL:
            out["username"] = "web-flow"  # GitHub's committer for commits made on GitHub
        for u in ctx.state.users.values():
            if sig.email.lower() == u.noreply_email.lower():
                out["username"] = u.login
        return out

    return {
        "id": sha,
        "tree_id": c.tree,
        "distinct": True,
        "message": c.message,
        "timestamp": c.committer.when.isoformat(),
        "url": ctx.html(f"/{repo.full_name}/commit/{sha}"),
        "author": who(c.author),
        "committer": who(c.committer),
        "added": sorted(p for p in new if p not in old),
        "removed": sorted(p for p in old if p not in new),
        "modified": sorted(p for p in new if p in old and new[p] != old[p]),
    }


def push(
    ctx: Ctx, repo: Repo, ref: str, before: str, after: str, forced: bool, sender: User
) -> dict[str, Any]:
    created = before == ZERO_SHA
    deleted = after == ZERO_SHA
    commits: list[str] = []
    if not deleted:
        commits = list(reversed(repo.git.history.range(None if created else before, after)))
        if created:
            # a new branch lists the commits no other branch has
            others = [s for r, s in repo.git.refs.items() if r != ref]
            hidden: set[str] = set()
            for tip in others:
                hidden |= repo.git.history.ancestors(tip)
            commits = [c for c in commits if c not in hidden]
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": ctx.html(f"/{repo.full_name}/compare/{before[:12]}...{after[:12]}"),
        "commits": [_push_commit(ctx, repo, s) for s in commits[-MAX_PUSH_COMMITS:]],
        "head_commit": None if deleted else _push_commit(ctx, repo, after),
        "pusher": {"name": sender.login, "email": sender.noreply_email},
        **envelope(ctx, repo, sender, push=True),
    }


def pull_request(
    ctx: Ctx, repo: Repo, pr: PullRequest, action: str, sender: User, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, "number": pr.number}
    out.update(extra)
    out["pull_request"] = render_pull(ctx, repo, pr, webhook=True)
    out.update(envelope(ctx, repo, sender))
    return out


def pull_request_review(
    ctx: Ctx, repo: Repo, pr: PullRequest, r: Review, action: str, sender: User
) -> dict[str, Any]:
    return {
        "action": action,
        "review": render_review(ctx, repo, pr, r, webhook=True),
        "pull_request": simple_pull_request(ctx, repo, pr),
        **envelope(ctx, repo, sender),
    }


def check_suite(
    ctx: Ctx, repo: Repo, suite: CheckSuite, action: str, sender: User
) -> dict[str, Any]:
    return {
        "action": action,
        "check_suite": check_suite_webhook(ctx, repo, suite),
        **envelope(ctx, repo, sender),
    }


def check_run(ctx: Ctx, repo: Repo, run: CheckRun, action: str, sender: User) -> dict[str, Any]:
    return {
        "action": action,
        "check_run": check_run_webhook(ctx, repo, run),
        **envelope(ctx, repo, sender),
    }


def membership(
    ctx: Ctx, org: Org, t: Team, action: str, member: User, sender: User
) -> dict[str, Any]:
    """An organization's event: no `repository`, and `scope` is always `team`."""
    return {
        "action": action,
        "scope": "team",
        "member": user(ctx, member),
        "team": team(ctx, t),
        "organization": organization(ctx, org),
        "sender": user(ctx, sender),
    }

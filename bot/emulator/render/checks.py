"""JSON shapes of check runs, check suites and commit statuses."""

from __future__ import annotations

from typing import Any

from bot.emulator.clock import iso
from bot.emulator.git import ZERO_SHA
from bot.emulator.render.core import Ctx, app, repository, user_by_login
from bot.emulator.render.pulls import pull_minimal
from bot.emulator.state import CheckRun, CheckSuite, CommitStatus, Repo, node_id

_SEVERITY = [
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "neutral",
    "skipped",
    "success",
]


def _when(value) -> str | None:
    return iso(value) if value else None


def _pulls_for(ctx: Ctx, repo: Repo, sha: str) -> list[dict[str, Any]]:
    return [
        pull_minimal(ctx, repo, pr)
        for pr in repo.pulls.values()
        if pr.state == "open" and pr.head_sha == sha
    ]


def check_run(ctx: Ctx, repo: Repo, run: CheckRun) -> dict[str, Any]:
    api = ctx.api(f"/repos/{repo.full_name}/check-runs/{run.id}")
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": node_id("CheckRun", run.id),
        "external_id": run.external_id or "",
        "url": api,
        "html_url": ctx.html(f"/{repo.full_name}/runs/{run.id}"),
        "details_url": run.details_url or ctx.html(f"/{repo.full_name}/runs/{run.id}"),
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": _when(run.started_at),
        "completed_at": _when(run.completed_at),
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{api}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.suite_id},
        "app": app(ctx, ctx.state.app(run.app_id)),
        "pull_requests": _pulls_for(ctx, repo, run.head_sha),
    }


def check_run_webhook(ctx: Ctx, repo: Repo, run: CheckRun) -> dict[str, Any]:
    """A check run as `check_run` webhooks carry it: the suite is expanded."""
    out = check_run(ctx, repo, run)
    out["check_suite"] = check_suite(ctx, repo, repo.check_suites[run.suite_id])
    return out


def check_suite_webhook(ctx: Ctx, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
    """A check suite as `check_suite` webhooks carry it: with its head commit and run count."""
    out = check_suite(ctx, repo, suite)
    out["before"] = out["before"] or ZERO_SHA  # a root commit: GitHub's all-zero sha
    out["app"]["description"] = out["app"]["description"] or ""  # GitHub: "" when none
    c = repo.git.store.commit(suite.head_sha)
    out["latest_check_runs_count"] = len(
        {r.name for r in repo.check_runs.values() if r.suite_id == suite.id}
    )
    out["check_runs_url"] = ctx.api(f"/repos/{repo.full_name}/check-suites/{suite.id}/check-runs")
    out["head_commit"] = {
        "id": suite.head_sha,
        "tree_id": c.tree,
        "message": c.message,
        "timestamp": iso(c.committer.when),
        "author": {"name": c.author.name, "email": c.author.email},
        "committer": {"name": c.committer.name, "email": c.committer.email},
    }
    return out


def check_suite(ctx: Ctx, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
    runs = [r for r in repo.check_runs.values() if r.suite_id == suite.id]
    done = runs and all(r.status == "completed" for r in runs)
    status = "completed" if done else ("in_progress" if runs else "queued")
    conclusion = None
    if done:
        conclusion = min((r.conclusion or "success" for r in runs), key=_SEVERITY.index)
    commit = repo.git.store.commits.get(suite.head_sha)
    return {
        "id": suite.id,
        "node_id": node_id("CheckSuite", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": status,
        "conclusion": conclusion,
        "url": ctx.api(f"/repos/{repo.full_name}/check-suites/{suite.id}"),
        "before": commit.parents[0] if commit and commit.parents else None,
        "after": suite.head_sha,
        "pull_requests": _pulls_for(ctx, repo, suite.head_sha),
        "app": app(ctx, ctx.state.app(suite.app_id)),
        "created_at": iso(suite.created_at),
        "updated_at": iso(suite.updated_at),
    }


def annotation(run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": a["path"],
        "blob_href": "",
        "start_line": a["start_line"],
        "end_line": a["end_line"],
        "start_column": a.get("start_column"),
        "end_column": a.get("end_column"),
        "annotation_level": a["annotation_level"],
        "title": a.get("title"),
        "message": a["message"],
        "raw_details": a.get("raw_details"),
    }


def status(ctx: Ctx, repo: Repo, s: CommitStatus) -> dict[str, Any]:
    creator = ctx.state.account(s.creator)
    return {
        "url": ctx.api(f"/repos/{repo.full_name}/statuses/{s.sha}"),
        "avatar_url": ctx.api(f"/avatars/u/{creator.id}?v=4"),
        "id": s.id,
        "node_id": node_id("StatusContext", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
        "creator": user_by_login(ctx, s.creator),
    }


def combined_status(ctx: Ctx, repo: Repo, sha: str, statuses: list[CommitStatus]) -> dict:
    latest: dict[str, CommitStatus] = {}
    for s in statuses:
        latest[s.context] = s  # statuses are kept oldest first
    items = sorted(latest.values(), key=lambda s: s.id, reverse=True)
    states = {s.state for s in items}
    if not items or "pending" in states:
        overall = "pending"
    elif states & {"failure", "error"}:
        overall = "failure"
    else:
        overall = "success"
    return {
        "state": overall,
        "statuses": [status(ctx, repo, s) for s in items],
        "sha": sha,
        "total_count": len(items),
        "repository": repository(ctx, repo),
        "commit_url": ctx.api(f"/repos/{repo.full_name}/commits/{sha}"),
        "url": ctx.api(f"/repos/{repo.full_name}/commits/{sha}/status"),
    }

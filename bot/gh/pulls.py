"""The REST calls the reconcile loop makes for one repository, and nothing else.

Each method is one GitHub operation returning plain data. What never changes for a given sha
(file contents at a commit, trees) is cached by the caller-supplied `Caches`; everything else
goes through gidgethub's conditional-request cache, so an unchanged answer costs a 304, which
GitHub does not count against the rate limit.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from bot.gh.errors import NotOurs
from bot.policy.assess import ChangedFile
from bot.policy.reviews import Review
from bot.service.report import CHECK_NAME, CheckOutput

PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class MergeResult:
    merged: bool
    status: int  # 200, or GitHub's refusal: 405 not mergeable, 409 head moved, ...
    sha: str = ""
    message: str = ""


class RepoGateway:
    def __init__(self, gh: GitHubAPI, repo: str, token: str, caches: Any) -> None:
        self.gh = gh
        self.repo = repo
        self.token = token
        self.caches = caches

    # Reading -----------------------------------------------------------------------------------

    async def pull(self, number: int) -> dict[str, Any]:
        """The pull request; `NotOurs` when GitHub does not show it to this token."""
        try:
            return await self.gh.getitem(
                f"/repos/{self.repo}/pulls/{number}", oauth_token=self.token
            )
        except BadRequest as exc:
            if exc.status_code == 404:
                raise NotOurs("GitHub has no such pull request (404)") from None
            raise

    async def open_pulls(self, base: str | None = None) -> list[dict[str, Any]]:
        """Open pull requests into `base` (into any branch when None)."""
        into = f"&base={quote(base)}" if base is not None else ""
        try:
            return [
                p
                async for p in self.gh.getiter(
                    f"/repos/{self.repo}/pulls?state=open{into}&per_page={PER_PAGE}",
                    oauth_token=self.token,
                )
            ]
        except BadRequest as exc:
            if exc.status_code == 404:
                raise NotOurs(f"GitHub has no repository {self.repo} (404)") from None
            raise

    async def files(self, number: int) -> tuple[tuple[ChangedFile, ...], bool]:
        """The pull request's changed files; True when GitHub's 3000-file cap cut the list."""
        out = [
            ChangedFile(
                f["filename"], f["status"], f.get("previous_filename"), f.get("sha"), f.get("patch")
            )
            async for f in self.gh.getiter(
                f"/repos/{self.repo}/pulls/{number}/files?per_page={PER_PAGE}",
                oauth_token=self.token,
            )
        ]
        return tuple(out), len(out) >= 3000

    async def reviews(self, number: int) -> tuple[Review, ...]:
        return tuple(
            [
                Review.from_github(r)
                async for r in self.gh.getiter(
                    f"/repos/{self.repo}/pulls/{number}/reviews?per_page={PER_PAGE}",
                    oauth_token=self.token,
                )
            ]
        )

    async def file_at(self, path: str, sha: str) -> bytes | None:
        """A file's bytes at a commit, or None where it does not exist. Cached by (path, sha):
        a commit never changes."""
        key = (self.repo, path, sha)
        cache = self.caches.contents
        if key in cache:
            return cache[key]
        try:
            data = await self.gh.getitem(
                f"/repos/{self.repo}/contents/{quote(path)}?ref={sha}", oauth_token=self.token
            )
        except BadRequest as exc:
            if exc.status_code == 404:
                cache[key] = None
                return None
            raise
        if not isinstance(data, dict) or data.get("type") != "file":
            content = None
        elif data.get("encoding") == "base64":
            content = base64.b64decode(data.get("content") or "")
        else:  # 1-100 MB files come without content: fetch the blob
            blob = await self.gh.getitem(
                f"/repos/{self.repo}/git/blobs/{data['sha']}", oauth_token=self.token
            )
            content = base64.b64decode(blob.get("content") or "")
        cache[key] = content
        return content

    async def blobs(self, commit: str) -> dict[str, str] | None:
        """Path -> blob id of every file at a commit (one call, cached: a commit never
        changes); None when GitHub truncated the listing (very large repositories)."""

        async def fetch() -> dict[str, str] | None:
            tree = await self.gh.getitem(
                f"/repos/{self.repo}/git/trees/{commit}?recursive=1", oauth_token=self.token
            )
            if tree.get("truncated"):
                return None
            return {e["path"]: e["sha"] for e in tree.get("tree", ()) if e.get("type") == "blob"}

        return await once(self.caches.trees, (self.repo, commit), fetch)

    async def modes_under(self, commit: str, folder: str) -> dict[str, str] | None:
        """Path -> git mode of every entry under `folder` at a commit, symlinks (120000) and
        submodules (160000) included: one read of that folder's tree (git's `<rev>:<path>`),
        cached, since a commit never changes. {} when the folder does not exist; None when
        GitHub truncated the listing."""

        async def fetch() -> dict[str, str] | None:
            try:
                tree = await self.gh.getitem(
                    f"/repos/{self.repo}/git/trees/{commit}:{quote(folder, safe='')}?recursive=1",
                    oauth_token=self.token,
                )
            except BadRequest as exc:
                if exc.status_code == 404:
                    return {}
                raise
            if tree.get("truncated"):
                return None
            return {f"{folder}/{e['path']}": e["mode"] for e in tree.get("tree", ())}

        return await once(self.caches.trees, (self.repo, commit, folder), fetch)

    async def merge_base(self, base: str, head: str) -> str:
        """Where the pull request's diff starts (cached: both shas are fixed)."""
        key = (self.repo, base, head)
        cache = self.caches.trees
        if key not in cache:
            data = await self.gh.getitem(
                f"/repos/{self.repo}/compare/{base}...{head}?per_page=1", oauth_token=self.token
            )
            cache[key] = data["merge_base_commit"]["sha"]
        return cache[key]

    async def blob(self, sha: str) -> bytes:
        """A blob's bytes, cached by its id: the same content at any commit costs one read."""
        cache = self.caches.contents
        if sha not in cache:
            data = await self.gh.getitem(
                f"/repos/{self.repo}/git/blobs/{sha}", oauth_token=self.token
            )
            cache[sha] = base64.b64decode(data.get("content") or "")
        return cache[sha]

    async def is_member(self, team: str, login: str, *, fresh: bool = False) -> bool:
        """Active membership of `@org/slug` (child teams count; pending does not). `fresh`
        asks GitHub even when a cached answer exists (a 304, which costs nothing, when the
        membership is unchanged)."""
        key = (team, login)
        cache = self.caches.memberships
        if key in cache and not fresh:
            return cache[key]
        org, slug = team.lstrip("@").split("/", 1)
        try:
            data = await self.gh.getitem(
                f"/orgs/{org}/teams/{slug}/memberships/{login}", oauth_token=self.token
            )
            member = data.get("state") == "active"
        except BadRequest as exc:
            if exc.status_code not in (403, 404):
                raise
            member = False
        cache[key] = member
        return member

    async def installation_repos(self) -> list[str]:
        """Full names of the repositories this installation token may act on."""
        return [
            r["full_name"]
            async for r in self.gh.getiter(
                f"/installation/repositories?per_page={PER_PAGE}",
                iterable_key="repositories",
                oauth_token=self.token,
            )
        ]

    def forget_memberships(self, org: str) -> None:
        """Someone joined or left one of `org`'s teams: every cached answer about that
        organization's teams is dropped (a child team's change changes its parents' too)."""
        prefix = f"@{org.lower()}/"
        cache = self.caches.memberships
        for key in [k for k in list(cache) if k[0].lower().startswith(prefix)]:
            cache.pop(key, None)

    async def comments(self, number: int) -> list[dict[str, Any]]:
        return [
            c
            async for c in self.gh.getiter(
                f"/repos/{self.repo}/issues/{number}/comments?per_page={PER_PAGE}",
                oauth_token=self.token,
            )
        ]

    # Reporting ---------------------------------------------------------------------------------

    async def check_run(self, head_sha: str) -> dict[str, Any] | None:
        """flagbot's newest check run on the commit, if any."""
        key = (self.repo, head_sha)
        known = self.caches.check_runs.get(key)
        if known is not None:
            return known
        data = await self.gh.getitem(
            f"/repos/{self.repo}/commits/{head_sha}/check-runs?check_name={CHECK_NAME}"
            f"&filter=latest&per_page={PER_PAGE}",
            oauth_token=self.token,
        )
        runs = sorted(data.get("check_runs", ()), key=lambda r: r["id"])
        return runs[-1] if runs else None

    async def write_check(
        self, head_sha: str, existing: dict[str, Any] | None, output: CheckOutput
    ) -> dict[str, Any]:
        """Create or update flagbot's check run in place; annotations go in GitHub-sized
        batches (the first with the write, later ones appended by further updates)."""
        batches = list(output.batches()) or [[]]
        body: dict[str, Any] = {
            "name": CHECK_NAME,
            "head_sha": head_sha,
            "status": output.status,
            "output": {
                "title": output.title[:255],
                "summary": output.summary,
                "annotations": batches[0],
            },
        }
        if output.conclusion:
            body["conclusion"] = output.conclusion
        if existing is None:
            run = await self.gh.post(
                f"/repos/{self.repo}/check-runs", data=body, oauth_token=self.token
            )
        else:
            body.pop("head_sha")
            run = await self.gh.patch(
                f"/repos/{self.repo}/check-runs/{existing['id']}", data=body, oauth_token=self.token
            )
        for batch in batches[1:]:
            await self.gh.patch(
                f"/repos/{self.repo}/check-runs/{run['id']}",
                data={"output": {**body["output"], "annotations": batch}},
                oauth_token=self.token,
            )
        self.caches.check_runs[(self.repo, head_sha)] = run
        return run

    async def write_status(self, head_sha: str, output: CheckOutput) -> None:
        """Token mode: GitHub lets only Apps write check runs, so report a commit status."""
        state = {"success": "success", "failure": "failure", "neutral": "success"}.get(
            output.conclusion or "", "pending"
        )
        await self.gh.post(
            f"/repos/{self.repo}/statuses/{head_sha}",
            data={"state": state, "context": CHECK_NAME, "description": output.title[:140]},
            oauth_token=self.token,
        )

    # Acting ------------------------------------------------------------------------------------

    async def merge(
        self, number: int, *, sha: str, method: str, title: str, message: str
    ) -> MergeResult:
        try:
            data = await self.gh.put(
                f"/repos/{self.repo}/pulls/{number}/merge",
                data={
                    "sha": sha,
                    "merge_method": method,
                    "commit_title": title,
                    "commit_message": message,
                },
                oauth_token=self.token,
            )
        except BadRequest as exc:
            if exc.status_code in (405, 409, 422):
                return MergeResult(False, int(exc.status_code), message=str(exc))
            raise
        return MergeResult(
            bool(data.get("merged")), 200, data.get("sha", ""), data.get("message", "")
        )

    async def comment(self, number: int, body: str) -> dict[str, Any]:
        return await self.gh.post(
            f"/repos/{self.repo}/issues/{number}/comments",
            data={"body": body},
            oauth_token=self.token,
        )

    async def edit_comment(self, comment_id: int, body: str) -> None:
        await self.gh.patch(
            f"/repos/{self.repo}/issues/comments/{comment_id}",
            data={"body": body},
            oauth_token=self.token,
        )


async def once(cache: Any, key: Any, fetch: Any) -> Any:
    """Fetch an immutable value once, even when several coroutines ask at the same moment."""
    task = cache.get(key)
    if task is None:
        task = cache[key] = asyncio.ensure_future(fetch())
    try:
        return await asyncio.shield(task)
    except Exception:
        if cache.get(key) is task:
            del cache[key]
        raise


def has_marker(comments: Sequence[dict[str, Any]], marker: str, login: str | None) -> bool:
    return any(
        marker in (c.get("body") or "")
        and (login is None or (c.get("user") or {}).get("login", "").lower() == login.lower())
        for c in comments
    )

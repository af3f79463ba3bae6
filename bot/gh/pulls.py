"""The REST calls the reconcile loop makes for one repository, and nothing else.

Each method is one GitHub operation returning plain data. What never changes for a given sha
(file contents at a commit, trees) is cached by the caller-supplied `Caches`; everything else
goes through gidgethub's conditional-request cache, so an unchanged answer costs a 304, which
GitHub does not count against the rate limit.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from bot.gh.errors import NotOurs
from bot.gh.pacing import urgent
from bot.gh.tasks import once, quiet
from bot.gh.teams import TeamListings
from bot.policy.assess import ChangedFile
from bot.policy.patch import added_text
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
        self._ahead: dict[tuple[str, int], asyncio.Task[Any]] = {}
        self._asked: set[int] = set()  # pull requests whose reads went ahead
        self.teams = TeamListings(gh, repo, token, caches)

    # Reading -----------------------------------------------------------------------------------

    async def pull(self, number: int) -> dict[str, Any]:
        """The pull request; `NotOurs` when GitHub does not show it to this token.

        Its changed files and reviews depend on nothing but the number, and every decision
        reads them: they are asked for at the same moment (one round trip for all three, not
        three), and `files` and `reviews` then answer from those reads."""
        if number not in self._asked:  # once per decision: a second read wants only the pull
            self._asked.add(number)
            self._read_ahead("files", number, self._files)
            self._read_ahead("reviews", number, self._reviews)
            self.teams.read_ahead()  # this decision's team answers, fresh for a merge
        try:
            return await self.gh.getitem(
                f"/repos/{self.repo}/pulls/{number}", oauth_token=self.token
            )
        except BadRequest as exc:
            if exc.status_code == 404:
                raise NotOurs("GitHub has no such pull request (404)") from None
            raise

    def _read_ahead(self, what: str, number: int, read: Any) -> None:
        task = asyncio.ensure_future(read(number))
        task.add_done_callback(quiet)  # never asked for (a closed pull request): no noise
        self._ahead[(what, number)] = task

    async def _ahead_or(self, what: str, number: int, read: Any) -> Any:
        task = self._ahead.pop((what, number), None)
        if task is None:  # the caller reads for itself (concurrently, perhaps): none ahead
            self._asked.add(number)
            return await read(number)
        return await task

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
        return await self._ahead_or("files", number, self._files)

    async def _files(self, number: int) -> tuple[tuple[ChangedFile, ...], bool]:
        out = [
            ChangedFile(
                f["filename"], f["status"], f.get("previous_filename"), f.get("sha"), f.get("patch")
            )
            async for f in self.gh.getiter(
                f"/repos/{self.repo}/pulls/{number}/files?per_page={PER_PAGE}",
                oauth_token=self.token,
            )
        ]
        for f in out:
            self._remember_added(f)
        return tuple(out), len(out) >= 3000

    def _remember_added(self, f: ChangedFile) -> None:
        """An added file's patch is its whole content: keep it as the blob, so reading the
        new file costs no call. Kept only when it hashes to the blob id GitHub gave."""
        if f.status != "added" or not f.sha or not f.patch or f.sha in self.caches.contents:
            return
        text = added_text(f.patch)
        if text is None:
            return
        data = text.encode()
        if (
            hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
            == f.sha
        ):
            self.caches.contents[f.sha] = data

    async def reviews(self, number: int) -> tuple[Review, ...]:
        return await self._ahead_or("reviews", number, self._reviews)

    async def _reviews(self, number: int) -> tuple[Review, ...]:
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
        """A blob's bytes, cached by its id: the same content at any commit costs one read,
        even when several reconciles ask for it at the same moment."""
        cache = self.caches.contents
        if sha in cache:
            return cache[sha]

        async def fetch() -> bytes:
            data = await self.gh.getitem(
                f"/repos/{self.repo}/git/blobs/{sha}", oauth_token=self.token
            )
            content = cache[sha] = base64.b64decode(data.get("content") or "")
            return content

        try:
            return await once(self.caches.reading, sha, fetch)
        finally:
            if sha in cache:
                self.caches.reading.pop(sha, None)

    async def is_member(self, team: str, login: str, *, fresh: bool = False) -> bool:
        """Active membership of `@org/slug` (child teams count; pending does not). `fresh`
        wants an answer read for this decision, not one cached from an earlier one."""
        return login.lower() in await self.teams.members(team, fresh=fresh)

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
        self.teams.forget(org)

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
            with urgent():  # ahead of other pull requests' announcements in the write line
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


def has_marker(comments: Sequence[dict[str, Any]], marker: str, login: str | None) -> bool:
    return any(
        marker in (c.get("body") or "")
        and (login is None or (c.get("user") or {}).get("login", "").lower() == login.lower())
        for c in comments
    )

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gidgethub import BadRequest
from gidgethub.abc import GitHubAPI

from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.gh.errors import NotOurs
from bot.gh.pacing import urgent
from bot.gh.tasks import once, quiet
from bot.gh.teams import TeamListings
from bot.plan.facts import (
    ANNOUNCE,
    CLAIMS,
    CheckState,
    Ledger,
    claim_ref,
    claims_prefix,
)
from bot.plan.reads import Pull
from bot.plan.report import CHECK_NAME, CheckOutput
from bot.policy.assess import ChangedFile
from bot.policy.decision import PullRequestFacts
from bot.policy.patch import added_text
from bot.policy.reviews import Review

PER_PAGE = 100
# Closed pull requests a sweep looks at for a merge whose announcement was never claimed (a
# crash between the merge and the claim): the most recently updated page.
RECENT = 50


@dataclass(frozen=True, slots=True)
class MergeResult:
    merged: bool
    status: int  # 200, or GitHub's refusal: 405 not mergeable, 409 head moved, ...
    sha: str = ""
    message: str = ""


class RepoGateway:
    """`PullReads`, `LedgerReads` and the writes a plan's actions need, for one repository."""

    def __init__(
        self, gh: GitHubAPI, repo: str, token: str, caches: Any, bot_login: str = ""
    ) -> None:
        self.gh = gh
        self.repo = repo
        self.token = token
        self.caches = caches
        self.bot_login = bot_login
        self.checks_allowed = True  # token mode: commit statuses instead of check runs
        # claims by pull request as read, then as this gateway (one reconcile) changed them
        self._claims: dict[int, dict[str, str]] = {}
        self._ahead: dict[tuple[str, int], asyncio.Task[Any]] = {}
        self._asked: set[int] = set()  # pull requests whose reads went ahead
        self.teams = TeamListings(gh, repo, token, caches)

    def now(self) -> datetime | None:
        """GitHub's time at its latest answer, if known."""
        server_time = getattr(self.gh, "server_time", None)
        return server_time() if server_time else None

    # Reading -----------------------------------------------------------------------------------

    async def pull(self, number: int) -> Pull:
        data = await self.pull_data(number)
        merged_by = (data.get("merged_by") or {}).get("login", "")
        facts = PullRequestFacts(
            number=int(data["number"]),
            author=(data.get("user") or {}).get("login", ""),
            head_sha=data["head"]["sha"],
            base_sha=data["base"]["sha"],
            base_ref=data["base"]["ref"],
            title=data.get("title") or "",
            body=data.get("body") or "",
            state=data["state"],
            merged=bool(data.get("merged")),
            draft=bool(data.get("draft")),
            mergeable=data.get("mergeable"),
            merged_by_bot=bool(merged_by) and merged_by.lower() == self.bot_login.lower(),
            url=data.get("html_url") or "",
        )
        labels = frozenset(lb.get("name", "") for lb in data.get("labels") or ())
        merged_at = _time(data["merged_at"]) if data.get("merged_at") else None
        return Pull(facts, data.get("merge_commit_sha") or "", labels, merged_at)

    async def pull_data(self, number: int) -> dict[str, Any]:
        """The pull request; `NotOurs` when GitHub does not show it to this token.

        Its changed files and reviews depend on nothing but the number, and every decision
        reads them: they are asked for at the same moment (one round trip for all three, not
        three), and `files` and `reviews` then answer from those reads; so are the listings
        of the teams this repository's decisions ask about."""
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

    async def default_branch(self) -> str:
        """The repository's default branch (a conditional read: 304 while unchanged)."""
        try:
            data = await self.gh.getitem(f"/repos/{self.repo}", oauth_token=self.token)
        except BadRequest as exc:
            if exc.status_code == 404:
                raise NotOurs(f"GitHub has no repository {self.repo} (404)") from None
            raise
        return data.get("default_branch") or "main"

    async def branch_tip(self, branch: str) -> str:
        """The commit a branch points at (conditional: 304 while it has not moved)."""
        data = await self.gh.getitem(
            f"/repos/{self.repo}/git/ref/heads/{quote(branch)}", oauth_token=self.token
        )
        return data["object"]["sha"]

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
            for f in await self._pull_list(number, "files")
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
        return tuple(Review.from_github(r) for r in await self._pull_list(number, "reviews"))

    async def _pull_list(self, number: int, what: str) -> list[dict[str, Any]]:
        try:
            return [
                item
                async for item in self.gh.getiter(
                    f"/repos/{self.repo}/pulls/{number}/{what}?per_page={PER_PAGE}",
                    oauth_token=self.token,
                )
            ]
        except BadRequest as exc:
            if exc.status_code == 404:
                raise NotOurs("GitHub has no such pull request (404)") from None
            raise

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

    async def contents(
        self, sha: str, paths: Sequence[str], blob_ids: Mapping[str, str] | None = None
    ) -> dict[str, bytes]:
        """Files at a commit: by blob id when known (the pull request's file list gives the
        head's), else ids from one tree listing of the commit (cached), else one by one."""
        if not paths:
            return {}
        ids = dict(blob_ids or {})
        if any(p not in ids for p in paths):
            tree = await self.blobs(sha)
            if tree is None:  # truncated listing: ask for each file
                found = await asyncio.gather(
                    *(self.blob(ids[p]) if p in ids else self.file_at(p, sha) for p in paths)
                )
                return {p: c for p, c in zip(paths, found, strict=True) if c is not None}
            ids = {**tree, **ids}
        present = [p for p in paths if p in ids]
        found = await asyncio.gather(*(self.blob(ids[p]) for p in present))
        return dict(zip(present, found, strict=True))

    async def flag_modes(self, sha: str) -> dict[str, str] | None:
        return await self.modes_under(sha, FLAGS_DIR)

    async def flag_paths(self, sha: str) -> tuple[str, ...] | None:
        tree = await self.blobs(sha)
        return None if tree is None else tuple(p for p in tree if is_flag_path(p))

    async def ledger(self, pull: Pull, *, fresh: bool = False) -> Ledger:
        """flagbot's check runs on the head: a conditional read, none where this process knows
        the answer from its own writes (`fresh`: ask GitHub anyway). Claims are read apart
        (`claims`), only when the head may carry some."""
        runs = await self.check_runs(pull.facts.head_sha, fresh=fresh)
        newest = runs[-1] if runs else None
        check = None
        if newest is not None:
            out = newest.get("output") or {}
            check = CheckState(
                int(newest["id"]),
                newest.get("status") or "",
                newest.get("conclusion"),
                out.get("title") or "",
                out.get("summary") or "",
                newest.get("external_id") or "",
            )
        started = [r["started_at"] for r in runs if r.get("started_at")]
        return Ledger(
            check=check,
            first_checked=_time(min(started)) if started else None,
            labels=pull.labels,
        )

    async def claims(self, pr: PullRequestFacts) -> tuple[frozenset[str], bool]:
        """Which claims exist for the head, and whether the announcement is complete (its
        claim moved off the head): one matching-refs listing for the pull request, read once
        per reconcile (this gateway's own claims are added as it makes them)."""
        targets = self._claims.get(pr.number)
        if targets is None:
            refs = await self.gh.getitem(
                f"/repos/{self.repo}/git/matching-refs/{claims_prefix(pr.number)}",
                oauth_token=self.token,
            )
            targets = self._claims[pr.number] = {
                r.get("ref", ""): (r.get("object") or {}).get("sha", "") for r in refs
            }
        found = frozenset(w for w in CLAIMS if claim_ref(pr.number, pr.head_sha, w) in targets)
        done = targets.get(claim_ref(pr.number, pr.head_sha, ANNOUNCE), pr.head_sha)
        return found, done != pr.head_sha

    async def announcement_claims(self) -> dict[tuple[int, str], bool]:
        """Every announcement claim in the repository, by (pull request, head): whether it is
        complete (moved off the head it names). One listing for the whole repository."""
        refs = await self.gh.getitem(
            f"/repos/{self.repo}/git/matching-refs/flagbot/", oauth_token=self.token
        )
        found: dict[tuple[int, str], bool] = {}
        for r in refs:
            parts = r.get("ref", "").split("/")  # refs/flagbot/<pr>/<head>/announce
            if len(parts) != 5 or parts[4] != ANNOUNCE or not parts[2].isdigit():
                continue
            found[(int(parts[2]), parts[3])] = (r.get("object") or {}).get("sha") != parts[3]
        return found

    async def unfinished_announcements(self) -> list[int]:
        """Pull requests whose announcement was claimed and never completed."""
        return sorted(
            {n for (n, _), done in (await self.announcement_claims()).items() if not done}
        )

    async def recently_merged(self, base: str) -> list[tuple[int, str]]:
        """(number, head) of the pull requests merged into `base` among the most recently
        updated closed ones: one page, read conditionally (a 304 when nothing closed)."""
        pulls = await self.gh.getitem(
            f"/repos/{self.repo}/pulls?state=closed&base={quote(base)}&sort=updated"
            f"&direction=desc&per_page={RECENT}",
            oauth_token=self.token,
        )
        return [(int(p["number"]), str(p["head"]["sha"])) for p in pulls if p.get("merged_at")]

    async def finish_claim(self, ref: str, sha: str) -> None:
        """Move a claim to `sha` (the completion marker)."""
        await self.gh.patch(
            f"/repos/{self.repo}/git/{ref}",
            data={"sha": sha, "force": True},
            oauth_token=self.token,
        )
        self._own_claim(ref, sha)

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

    # Reporting ---------------------------------------------------------------------------------

    async def check_runs(self, head_sha: str, *, fresh: bool = False) -> list[dict[str, Any]]:
        """flagbot's check runs on the commit, oldest first (the first one starts the
        approval clock; the newest is what reviewers see). Empty in token mode. Remembered
        per commit with this process's own writes applied, so a run it just wrote is not
        read back (`fresh`: ask GitHub anyway)."""
        if not self.checks_allowed:
            return []
        key = (self.repo, head_sha)
        known = self.caches.check_runs.get(key)
        if known is not None and not fresh:
            return list(known)
        data = await self.gh.getitem(
            f"/repos/{self.repo}/commits/{head_sha}/check-runs?check_name={CHECK_NAME}"
            f"&filter=all&per_page={PER_PAGE}",
            oauth_token=self.token,
        )
        runs = sorted(data.get("check_runs", ()), key=lambda r: r["id"])
        self.caches.check_runs[key] = runs
        return list(runs)

    async def write_check(
        self,
        head_sha: str,
        existing: int | None,
        output: CheckOutput,
        external_id: str = "",
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
        if external_id:
            body["external_id"] = external_id
        if existing is None:
            run = await self.gh.post(
                f"/repos/{self.repo}/check-runs", data=body, oauth_token=self.token
            )
        else:
            body.pop("head_sha")
            run = await self.gh.patch(
                f"/repos/{self.repo}/check-runs/{existing}", data=body, oauth_token=self.token
            )
        for batch in batches[1:]:
            await self.gh.patch(
                f"/repos/{self.repo}/check-runs/{run['id']}",
                data={"output": {**body["output"], "annotations": batch}},
                oauth_token=self.token,
            )
        key = (self.repo, head_sha)
        known = [r for r in self.caches.check_runs.get(key) or () if r["id"] != run["id"]]
        self.caches.check_runs[key] = sorted([*known, run], key=lambda r: r["id"])
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

    async def claim(self, ref: str, sha: str) -> bool:
        """Create `ref`; False when it exists already (GitHub answers 422): someone else won."""
        try:
            with urgent():  # right behind the merge: the window a crash leaves unclaimed is short
                await self.gh.post(
                    f"/repos/{self.repo}/git/refs",
                    data={"ref": ref, "sha": sha},
                    oauth_token=self.token,
                )
        except BadRequest as exc:
            if exc.status_code == 422:
                return False
            raise
        self._own_claim(ref, sha)
        return True

    def _own_claim(self, ref: str, sha: str) -> None:
        number = int(ref.split("/")[2])  # refs/flagbot/<pr>/<head>/<what>
        if number in self._claims:
            self._claims[number][ref] = sha

    async def add_label(self, number: int, name: str) -> None:
        await self.gh.post(
            f"/repos/{self.repo}/issues/{number}/labels",
            data={"labels": [name]},
            oauth_token=self.token,
        )

    async def close(self, number: int) -> None:
        await self.gh.patch(
            f"/repos/{self.repo}/pulls/{number}", data={"state": "closed"}, oauth_token=self.token
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


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

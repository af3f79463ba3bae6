"""Reconcile one pull request: read its state from GitHub, decide, act. Level-triggered.

Whatever event arrived, the whole state is read again, so redelivered, duplicated, reordered or
lost deliveries do no harm. The only writes are the check run (when its content changes), the
merge (guarded by the evaluated head `sha`, so a push between decision and merge makes GitHub
refuse it and the pull request is decided again) and the announcement after a merge this
process made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache

from bot.flags.filemode import KINDS
from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.gh.pulls import RepoGateway, has_marker
from bot.logs import annotate
from bot.notify.channels import Delivery, notify_all
from bot.notify.notice import change_applied
from bot.policy.assess import (
    PullContext,
    assess,
    old_versions,
    paths_after,
    wanted_contents,
)
from bot.policy.codeowners import CODEOWNERS_LOCATIONS
from bot.policy.config import POLICY_PATH
from bot.policy.decision import (
    Decision,
    DecisionInput,
    PullRequestFacts,
    decide,
    membership_questions,
)
from bot.service.report import (
    COMMENT_MARKER,
    CheckOutput,
    check_output,
    completion_comment,
    merge_message,
    merge_title,
)

log = logging.getLogger(__name__)

GatewayFactory = Callable[[str, int | None], Awaitable[RepoGateway]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconcile saw and did (for logs and tests)."""

    number: int
    decision: Decision | None
    wrote_check: bool = False
    merge_status: int | None = None  # 200 merged, 405/409 refused
    notified: bool = False
    retry: bool = False  # the head moved under us: decide again


@dataclass
class Reconciler:
    gateway_for: GatewayFactory
    bot_login: str
    channel_env: Mapping[str, str] = field(default_factory=dict)
    checks_allowed: bool = True  # False in token mode: GitHub lets only Apps write check runs
    # A merge younger than this is being announced by whoever merged it (maybe another
    # replica); only older unannounced merges are announced here (crash recovery).
    announce_grace: float = 60.0
    # Pull requests this process merged (and announced): final, so later events need no reads.
    merged: LRUCache[tuple[str, int], bool] = field(default_factory=lambda: LRUCache(4096))
    # The teams among each open pull request's code owners, as last decided: who to re-decide
    # when a team's members change (a pull request missing here is re-decided too).
    owner_teams: LRUCache[tuple[str, int], frozenset[str]] = field(
        default_factory=lambda: LRUCache(4096)
    )
    on_notice: Callable[[Delivery], None] = lambda delivery: None  # metrics and logs

    async def reconcile(
        self, repo: str, number: int, installation_id: int | None = None, *, fresh: bool = False
    ) -> Outcome:
        if (repo, number) in self.merged:
            return Outcome(number, None)
        gw = await self.gateway_for(repo, installation_id)
        pull = await gw.pull(number)
        if pull["state"] == "closed" and not pull.get("merged"):
            return Outcome(number, None)  # closed pull requests are left alone
        merged_by = (pull.get("merged_by") or {}).get("login", "")
        if (
            pull.get("merged")
            and merged_by.lower() == self.bot_login.lower()
            and _since_merge(pull) < self.announce_grace
        ):
            return Outcome(number, None)  # just merged by flagbot: whoever merged announces
        inp = await self._read(gw, pull)
        decision = decide(inp)
        if decision.should_merge:
            inp = await self._recheck_members(gw, inp)
            decision = decide(inp)
        annotate(step=decision.step)  # the lines logged from here on name the step
        head = inp.pr.head_sha
        if decision.step == "done" and pull.get("merged"):
            if inp.pr.merged_by_bot:
                return Outcome(number, decision)
            # A person merged it around flagbot: say so where reviewers look.
            output = check_output(decision, inp.changes, ())
            return Outcome(number, decision, wrote_check=await self._report(gw, head, output))
        if decision.step == "notify":
            notified = await self._announce(gw, inp, decision, pull.get("merge_commit_sha") or "")
            return Outcome(number, decision, notified=notified)
        if decision.should_merge:
            return await self._merge(gw, inp, decision)
        output = check_output(decision, inp.changes, inp.problems)
        wrote = await self._report(gw, head, output, new_run=fresh)
        return Outcome(number, decision, wrote_check=wrote)

    # Reading -----------------------------------------------------------------------------------

    async def _read(self, gw: RepoGateway, pull: Mapping[str, Any]) -> DecisionInput:
        number = pull["number"]
        base_sha, head_sha = pull["base"]["sha"], pull["head"]["sha"]
        facts = PullRequestFacts(
            number=number,
            author=(pull.get("user") or {}).get("login", ""),
            head_sha=head_sha,
            base_sha=base_sha,
            base_ref=pull["base"]["ref"],
            title=pull.get("title") or "",
            body=pull.get("body") or "",
            state=pull["state"],
            merged=bool(pull.get("merged")),
            draft=bool(pull.get("draft")),
            mergeable=pull.get("mergeable"),
            merged_by_bot=(
                (pull.get("merged_by") or {}).get("login", "").lower() == self.bot_login.lower()
            ),
            url=pull.get("html_url") or "",
        )
        (files, truncated), modes = await asyncio.gather(
            gw.files(number), gw.modes_under(head_sha, FLAGS_DIR)
        )
        # only regular files are read: a submodule has no blob, a symlink is refused anyway
        _, head_paths = wanted_contents(files)
        head_paths = [p for p in head_paths if modes is not None and modes.get(p) not in KINDS]
        head_blobs = {f.path: f.sha for f in files if f.sha}

        async def at_base(paths: list[str]) -> dict[str, bytes]:
            """Files at the base commit (the policy): ids from one tree listing, bytes by blob
            id (cached across commits, since unchanged files keep their id)."""
            tree = await gw.blobs(base_sha)
            if tree is None:  # truncated listing: ask for each file
                found = await asyncio.gather(*(gw.file_at(p, base_sha) for p in paths))
                return {p: c for p, c in zip(paths, found, strict=True) if c is not None}
            present = [p for p in paths if p in tree]
            found = await asyncio.gather(*(gw.blob(tree[p]) for p in present))
            return dict(zip(present, found, strict=True))

        async def at_head(paths: list[str]) -> dict[str, bytes]:
            async def one(path: str) -> bytes | None:
                sha = head_blobs.get(path)
                return await gw.blob(sha) if sha else await gw.file_at(path, head_sha)

            found = await asyncio.gather(*(one(p) for p in paths))
            return {p: c for p, c in zip(paths, found, strict=True) if c is not None}

        async def notified() -> bool:
            if not facts.merged:
                return False
            return has_marker(await gw.comments(number), COMMENT_MARKER, self.bot_login)

        async def at_merge_base(head: dict[str, bytes]) -> dict[str, bytes]:
            """The old side of each flag file: the pull request's patch reversed onto the new
            side; read from the merge base only when GitHub sent no usable patch."""
            old, missing = old_versions(files, head)
            if missing:
                start = await gw.merge_base(base_sha, head_sha)
                found = await asyncio.gather(*(gw.file_at(p, start) for p in missing))
                old.update({p: c for p, c in zip(missing, found, strict=True) if c is not None})
            return old

        policy_paths = [POLICY_PATH, *CODEOWNERS_LOCATIONS]
        reviews, policy_files, head, done, tree = await asyncio.gather(
            gw.reviews(number),
            at_base(policy_paths),
            at_head(head_paths),
            notified(),
            gw.blobs(base_sha),
        )
        base = await at_merge_base(head)
        owners_path = next((p for p in CODEOWNERS_LOCATIONS if p in policy_files), None)
        flag_paths = paths_after(tuple(p for p in tree if is_flag_path(p)), files) if tree else None
        ctx = PullContext(
            pr=replace(facts, notified=done),
            files=files,
            base_files=base,
            head_files=head,
            policy_file=policy_files.get(POLICY_PATH),
            codeowners=(owners_path, policy_files[owners_path]) if owners_path else None,
            reviews=reviews,
            head_flag_paths=flag_paths,
            files_truncated=truncated,
            head_modes=modes,
        )
        inp = assess(ctx)
        self.owner_teams[(gw.repo, number)] = frozenset(
            o.lower() for owners in inp.owners.values() for o in owners or () if "/" in o
        )
        questions = sorted(membership_questions(inp))
        answers = await asyncio.gather(*(gw.is_member(t, u) for t, u in questions))
        return replace(inp, memberships=dict(zip(questions, answers, strict=True)))

    async def _recheck_members(self, gw: RepoGateway, inp: DecisionInput) -> DecisionInput:
        """A merge never rests on a cached "is a member": someone may have left the team and
        the webhook gone to another replica, or been lost. Each membership the approvals use
        is asked again (unchanged, it is a 304 and costs nothing)."""
        held = sorted(k for k, member in inp.memberships.items() if member)
        answers = await asyncio.gather(*(gw.is_member(t, u, fresh=True) for t, u in held))
        return replace(
            inp, memberships={**inp.memberships, **dict(zip(held, answers, strict=True))}
        )

    # Writing -----------------------------------------------------------------------------------

    async def _report(
        self, gw: RepoGateway, head_sha: str, output: CheckOutput, *, new_run: bool = False
    ) -> bool:
        """Write the check run if what it says changed; True when a write happened. A re-run
        someone asked for (`new_run`) gets a new check run, as GitHub expects of an App."""
        if not self.checks_allowed:
            await gw.write_status(head_sha, output)
            return True
        existing = None if new_run else await gw.check_run(head_sha)
        if existing is not None and _same(existing, output):
            return False
        await gw.write_check(head_sha, existing, output)
        return True

    async def _merge(self, gw: RepoGateway, inp: DecisionInput, decision: Decision) -> Outcome:
        pr = inp.pr
        policy = inp.policy
        assert policy is not None
        title = merge_title(inp.changes, pr.number)
        message = merge_message(
            inp.changes, decision.approvers, title=pr.title, requested_by=pr.author
        )
        result = await gw.merge(
            pr.number, sha=pr.head_sha, method=policy.merge_method, title=title, message=message
        )
        if result.status == 409:  # the head moved after we read it: decide again
            return Outcome(pr.number, decision, merge_status=409, retry=True)
        if not result.merged:
            if (await gw.pull(pr.number)).get("merged"):  # another replica merged it first
                return Outcome(pr.number, decision, merge_status=result.status)
            refused = Decision(
                "blocked",
                "Approved, but GitHub refused the merge",
                "action_required",
                (f"GitHub answered {result.status}: {result.message}",),
                decision.roles,
                decision.approvers,
            )
            await self._report(gw, pr.head_sha, check_output(refused, inp.changes, ()))
            return Outcome(pr.number, refused, merge_status=result.status)
        self.merged[(gw.repo, pr.number)] = True
        merged = Decision("notify", "Merged", "success", (), decision.roles, decision.approvers)
        notified = False
        if policy.notify_on_complete:
            notified = await self._announce(gw, inp, merged, result.sha)
        else:
            await self._report(gw, pr.head_sha, check_output(merged, inp.changes, ()))
        return Outcome(pr.number, merged, merge_status=200, notified=notified)

    async def _announce(
        self, gw: RepoGateway, inp: DecisionInput, decision: Decision, merge_sha: str
    ) -> bool:
        """The comment first (it marks the announcement as done, so it is never repeated),
        then the channels; failures are added to the comment and the check run."""
        pr = inp.pr
        approvers = decision.approvers or _approvers_from_reviews(inp)
        comment = await gw.comment(pr.number, completion_comment(inp.changes, approvers, merge_sha))
        notice = change_applied(
            inp.changes,
            repository=gw.repo,
            pull_number=pr.number,
            pull_url=pr.url or None,
            approvers=approvers,
            merge_sha=merge_sha,
            applied_at=datetime.now(UTC),
        )
        channels = inp.policy.channels if inp.policy else ()
        results = await notify_all(channels, notice, self.channel_env)
        for result in results:
            self.on_notice(result)
        failed = [f"{r.channel} ({r.detail})" for r in results if not r.ok]
        reasons: tuple[str, ...] = ()
        if failed:
            await gw.edit_comment(
                comment["id"], completion_comment(inp.changes, approvers, merge_sha, failed)
            )
            reasons = tuple(f"Notification failed: {f}" for f in failed)
        done = Decision("done", "Merged", "success", reasons, decision.roles, approvers)
        await self._report(gw, pr.head_sha, check_output(done, inp.changes, ()))
        return True


def _since_merge(pull: Mapping[str, Any]) -> float:
    """Seconds of GitHub activity since the merge: the pull request's last update minus its
    merge time, both GitHub's timestamps (so a simulated or skewed local clock cannot matter)."""
    merged, updated = pull.get("merged_at"), pull.get("updated_at")
    if not merged or not updated:
        return float("inf")
    return (_parse_time(updated) - _parse_time(merged)).total_seconds()


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _same(run: Mapping[str, Any], output: CheckOutput) -> bool:
    current = run.get("output") or {}
    return (
        run.get("status") == output.status
        and run.get("conclusion") == output.conclusion
        and current.get("title") == output.title[:255]
        and current.get("summary") == output.summary
    )


def _approvers_from_reviews(inp: DecisionInput) -> dict[str, str]:
    """After a restart the merge's approvers are re-derived from the reviews on the head."""
    return decide(replace(inp, pr=replace(inp.pr, merged=False, state="open"))).approvers

"""Reconcile one pull request: read facts, decide, plan, carry the plan out. Level-triggered.

Whatever event arrived, the whole state is read again, so redelivered, duplicated, reordered or
lost deliveries do no harm. What to do is `bot.plan.plan`'s; this module only carries actions
out against GitHub and the channels. After a merge (or a merge refused, or a claim lost) the
pull request is read and planned again, so what follows a merge - the announcement, its
recovery after a lost answer, another replica's race - is one path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache

from bot.gh.pulls import RepoGateway
from bot.logs import annotate
from bot.notify.channels import Delivery, notify_all
from bot.plan.actions import (
    Action,
    Announce,
    Claim,
    Close,
    Comment,
    Label,
    Merge,
    Notify,
    WriteCheck,
)
from bot.plan.facts import ANNOUNCE, ANNOUNCED, Facts, MergeRefusal
from bot.plan.plan import plan
from bot.plan.reads import read_facts
from bot.plan.report import check_output, completion_comment
from bot.plan.timeout import next_deadline
from bot.policy.decision import Decision, DecisionInput, decide

log = logging.getLogger(__name__)

GatewayFactory = Callable[[str, int | None], Awaitable[RepoGateway]]
Clock = Callable[[], datetime]
MAX_ROUNDS = 4  # read-plan-act rounds in one reconcile: merge, then announce, and a retry
BASE_MODIFIED = "base branch was modified"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconcile saw and did (for logs and tests)."""

    number: int
    decision: Decision | None
    wrote_check: bool = False
    merge_status: int | None = None  # 200 merged, 405/409 refused
    notified: bool = False
    retry: bool = False  # the head or base moved under us: decide again
    actions: tuple[str, ...] = ()  # what was carried out, by action type
    wake_at: datetime | None = None  # when the approval clock next wants a reconcile
    merge_sha: str = ""  # the merge commit GitHub just reported (within a reconcile)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Reconciler:
    gateway_for: GatewayFactory
    channel_env: Mapping[str, str] = field(default_factory=dict)
    checks_allowed: bool = True  # False in token mode: GitHub lets only Apps write check runs
    clock: Clock = utcnow  # when GitHub's answers carry no time
    # Pull requests merged and announced: final, so later events need no reads.
    final: LRUCache[tuple[str, int], bool] = field(default_factory=lambda: LRUCache(4096))
    # The teams among each open pull request's code owners, as last decided: who to re-decide
    # when a team's members change (a pull request missing here is re-decided too).
    owner_teams: LRUCache[tuple[str, int], frozenset[str]] = field(
        default_factory=lambda: LRUCache(4096)
    )
    # Where what follows a merge (claim, announcement) runs; None: in the same reconcile.
    hand_off: Callable[[tuple[str, int], Coroutine[Any, Any, Outcome]], None] | None = None
    announcing: Callable[[tuple[str, int]], bool] = lambda key: False  # handed off, in flight
    on_notice: Callable[[Delivery], None] = lambda delivery: None  # metrics and logs
    # Announcement claims this process made and has not finished (the announcement failed):
    # the reconcile the failure is handed back to finishes them.
    claimed: dict[tuple[str, int], str] = field(default_factory=dict)

    async def reconcile(
        self,
        repo: str,
        number: int,
        installation_id: int | None = None,
        *,
        fresh: bool = False,
        recover: bool = False,
    ) -> Outcome:
        if (repo, number) in self.final or self.announcing((repo, number)):
            # Merged: final, or its announcement is in flight here (which, if it fails, is
            # reconciled again), so there is nothing to read.
            return Outcome(number, None)
        gw = await self.gateway_for(repo, installation_id)
        return await self._rounds(gw, number, fresh=fresh, recover=recover)

    async def _rounds(
        self,
        gw: RepoGateway,
        number: int,
        *,
        fresh: bool = False,
        recover: bool = False,
        known: Facts | None = None,  # what this reconcile knows without reading again
        done: list[str] | None = None,
    ) -> Outcome:
        repo = gw.repo
        done = [] if done is None else done
        held: set[str] = set()  # claims this reconcile made
        outcome = Outcome(number, None)
        refused: MergeRefusal | None = None
        for _ in range(MAX_ROUNDS):
            facts = known or await read_facts(
                gw,
                gw,
                number,
                now=gw.now() or self.clock(),  # whether claims are due; refreshed below
                repository=repo,
                checks_allowed=self.checks_allowed,
                rerun=fresh,
                recover=recover,
            )
            if facts.ledger.announced:
                self.claimed.pop((repo, number), None)
            mine = self.claimed.get((repo, number))
            # GitHub's clock where its answers say it (the approval clock is GitHub's too)
            facts = replace(
                facts,
                refused=refused,
                now=gw.now() or self.clock(),
                held=frozenset(held),
                resumable=frozenset({mine} if mine else ()),
            )
            self.owner_teams[(repo, number)] = frozenset(
                o.lower() for owners in facts.inp.owners.values() for o in owners or () if "/" in o
            )
            decision = decide(facts.inp)
            if decision.should_merge:
                facts = replace(facts, inp=await _recheck_members(gw, facts.inp))
                decision = decide(facts.inp)
            annotate(step=decision.step)  # the lines logged from here on name the step
            actions = plan(decision, facts)
            if decision.step == "closed":  # left alone
                return Outcome(number, None)
            outcome = replace(outcome, decision=decision, wake_at=next_deadline(decision, facts))
            if not actions and decision.step in ("done", "closed"):
                if facts.inp.pr.merged:
                    self.final[(repo, number)] = True
                return replace(outcome, actions=tuple(done))
            again, refused, outcome = await self._carry_out(gw, facts, actions, outcome, done, held)
            fresh = False
            # GitHub said it merged, at which commit: announcing needs no new read.
            known = _merged(facts, outcome.merge_sha) if outcome.merge_sha else None
            outcome = replace(outcome, merge_sha="")
            if known is not None and self.hand_off is not None:
                # The claim and the announcement leave this pull request's worker free for
                # other merges; the hand-off drains them on shutdown, sweeps recover a crash.
                self.hand_off((repo, number), self._rounds(gw, number, known=known, done=[]))
                return replace(outcome, actions=tuple(done))
            if not again:
                return replace(outcome, actions=tuple(done))
        return replace(outcome, retry=True, actions=tuple(done))

    async def _carry_out(
        self,
        gw: RepoGateway,
        facts: Facts,
        actions: tuple[Action, ...],
        outcome: Outcome,
        done: list[str],
        held: set[str],
    ) -> tuple[bool, MergeRefusal | None, Outcome]:
        """Carry the actions out in order. Returns (read and plan again?, the merge refusal
        to plan with, outcome)."""
        for action in actions:
            done.append(type(action).__name__)
            match action:
                case WriteCheck():
                    await self._write_check(gw, action)
                    outcome = replace(outcome, wrote_check=True)
                case Claim():
                    if not await gw.claim(action.ref, action.sha):
                        log.info("%s: %s is claimed by another process", gw.repo, action.ref)
                        return False, None, outcome
                    held.add(action.ref)
                    if action.ref.endswith(f"/{ANNOUNCE}"):
                        self.claimed[(gw.repo, facts.inp.pr.number)] = action.ref
                case Merge():
                    result = await gw.merge(
                        action.number,
                        sha=action.sha,
                        method=action.method,
                        title=action.title,
                        message=action.message,
                    )
                    outcome = replace(outcome, merge_status=result.status)
                    if result.merged:  # plan again: announce the merge
                        return True, None, replace(outcome, merge_sha=result.sha)
                    if result.status == 409 or BASE_MODIFIED in result.message.lower():
                        return True, None, outcome  # moved: decide again
                    # Maybe merged after all (a lost answer, another replica): the next read
                    # tells; if not, the plan reports the refusal.
                    return True, MergeRefusal(result.status, result.message), outcome
                case Announce():
                    await self._announce(gw, facts, action)
                    outcome = replace(outcome, notified=True)
                    self.final[(gw.repo, action.number)] = True  # merged and announced
                case Comment():
                    await gw.comment(action.number, action.body)
                case Label():
                    await gw.add_label(action.number, action.name)
                case Close():
                    await gw.close(action.number)
                case Notify():
                    results = await notify_all(
                        facts.inp.policy.channels if facts.inp.policy else (),
                        action.notice,
                        self.channel_env,
                    )
                    for r in results:
                        self.on_notice(r)  # counted, and a failure logged
        return False, None, outcome

    async def _write_check(self, gw: RepoGateway, action: WriteCheck) -> None:
        if not self.checks_allowed:
            await gw.write_status(action.head_sha, action.output)
            return
        await gw.write_check(action.head_sha, action.run_id, action.output, action.external_id)

    async def _announce(self, gw: RepoGateway, facts: Facts, action: Announce) -> None:
        """The comment first, then the channels; failures are added to the comment and the
        check run. The check run's completion marker goes last: a crash before it leaves a
        claim without a marker, which a recovering sweep finishes."""
        body = completion_comment(action.changes, action.approvers, action.merge_sha)
        comment = await gw.comment(action.number, body)
        channels = facts.inp.policy.channels if facts.inp.policy else ()
        results = (
            await notify_all(channels, action.notice, self.channel_env) if action.notice else []
        )
        for r in results:
            self.on_notice(r)
        failed = [f"{r.channel} ({r.detail})" for r in results if not r.ok]
        if failed:
            await gw.edit_comment(
                comment["id"],
                completion_comment(action.changes, action.approvers, action.merge_sha, failed),
            )
        reasons = tuple(f"Notification failed: {f}" for f in failed)
        done = Decision("done", "Merged", "success", reasons, (), dict(action.approvers))
        await self._write_check(
            gw,
            WriteCheck(
                action.head_sha,
                check_output(done, action.changes, ()),
                action.run_id,
                external_id=ANNOUNCED,
            ),
        )
        await gw.finish_claim(action.ref, action.merge_sha or action.head_sha)
        self.claimed.pop((gw.repo, action.number), None)


async def _recheck_members(gw: RepoGateway, inp: DecisionInput) -> DecisionInput:
    """A merge never rests on a cached "is a member": someone may have left the team and the
    webhook gone to another replica, or been lost. Each membership the approvals use is asked
    again (unchanged, it is a 304 and costs nothing)."""
    held = sorted(k for k, member in inp.memberships.items() if member)
    answers = await asyncio.gather(*(gw.is_member(t, u, fresh=True) for t, u in held))
    return replace(inp, memberships={**inp.memberships, **dict(zip(held, answers, strict=True))})


def _merged(facts: Facts, merge_sha: str) -> Facts:
    """The facts after this reconcile's merge succeeded, as GitHub's answer tells them (the
    announcement is not claimed yet: the claim follows the merge)."""
    pr = replace(facts.inp.pr, merged=True, state="closed", merged_by_bot=True)
    return replace(facts, inp=replace(facts.inp, pr=pr), merge_sha=merge_sha)

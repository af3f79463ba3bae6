"""`plan(decision, facts) -> actions`: everything the shell used to decide while acting.

- Closed pull requests are left alone.
- Merged by a person: say so on the check run.
- Merged by flagbot and not yet announced: claim the announcement (a ref GitHub arbitrates:
  whoever creates it announces, so replicas and sweeps announce once), then comment, notify
  and set the completion marker. A claim without a marker belongs to a process that is
  announcing, or that crashed: only a recovering sweep finishes it, once the claim's lease
  has run out by GitHub's clock. No claim at all (a crash between the merge and the claim):
  whoever reads it next claims it, a sweep included.
- Approved: merge at the decided head sha, nothing else on the critical path (GitHub lets one
  merge succeed); the claim and the announcement are planned again from GitHub's answer.
- GitHub refused the merge: report why.
- Waiting for approvals: report, and remind or expire on the approval clock.
- Otherwise: write the check run when what it says changed.
"""

from __future__ import annotations

from dataclasses import replace

from bot.notify.notice import change_applied
from bot.plan.actions import Action, Announce, Claim, Merge, WriteCheck
from bot.plan.facts import (
    ANNOUNCE,
    ANNOUNCED,
    CLAIM_LEASE,
    EXPIRE,
    CheckState,
    Facts,
    claim_ref,
)
from bot.plan.report import CheckOutput, check_output, merge_message, merge_title
from bot.plan.timeout import expired_output, timeout_actions
from bot.policy.decision import Decision, decide


def plan(decision: Decision, facts: Facts) -> tuple[Action, ...]:
    inp, pr, ledger = facts.inp, facts.inp.pr, facts.ledger
    if decision.step == "closed":
        return ()
    if decision.step == "notify":
        return announce(decision, facts)
    if decision.step == "done":
        if pr.merged_by_bot:  # announced, or nothing to announce: the check run says merged
            if ledger.announced:
                return ()
            done = replace(decision, title="Merged", conclusion="success")
            return _check(facts, check_output(done, inp.changes, ()), external_id=ANNOUNCED)
        return _check(facts, check_output(decision, inp.changes, ()))
    if facts.refused is not None:
        refused = Decision(
            "blocked",
            "Approved, but GitHub refused the merge",
            "action_required",
            (f"GitHub answered {facts.refused.status}: {facts.refused.message}",),
            decision.roles,
            decision.approvers,
        )
        return _check(facts, check_output(refused, inp.changes, ()))
    if EXPIRE in ledger.claims and decision.step in ("approval", "apply_change", "blocked"):
        # Expired on this head: only a push restarts it, even if approvals arrive later.
        return _check(facts, expired_output(decision, inp, inp.policy.approval))
    if decision.should_merge:
        title = merge_title(inp.changes, pr.number)
        message = merge_message(
            inp.changes, decision.approvers, title=pr.title, requested_by=pr.author
        )
        return (Merge(pr.number, pr.head_sha, inp.policy.merge_method, title, message),)
    timed = timeout_actions(decision, facts)
    if any(isinstance(a, WriteCheck) for a in timed):  # expiring: its check run says so
        return timed
    return _check(facts, check_output(decision, inp.changes, inp.problems)) + timed


def announce(decision: Decision, facts: Facts) -> tuple[Action, ...]:
    """Announce under the claim (claiming it first if nobody did). A claim this reconcile did
    not make is its claimant's to finish (this process's own, after an announcement failed,
    while the lease runs), unless a recovering sweep finds it unfinished past the claim's
    lease (the claimant crashed)."""
    inp, pr = facts.inp, facts.inp.pr
    ref = claim_ref(pr.number, pr.head_sha, ANNOUNCE)
    claimed = ANNOUNCE in facts.ledger.claims
    ours = ref in facts.held or (ref in facts.resumable and not lease_expired(facts))
    if claimed and not ours and not (facts.recover and lease_expired(facts)):
        return ()
    approvers = dict(decision.approvers) or approvers_from_reviews(facts)
    channels = inp.policy.channels
    notice = (
        change_applied(
            inp.changes,
            repository=facts.repository,
            pull_number=pr.number,
            pull_url=pr.url or None,
            approvers=approvers,
            merge_sha=facts.merge_sha,
            applied_at=facts.now,  # type: ignore[arg-type]
        )
        if channels and facts.now is not None
        else None
    )
    act = Announce(
        ref, pr.number, pr.head_sha, facts.run_id, facts.merge_sha, inp.changes, approvers, notice
    )
    if claimed:
        return (act,)
    return (Claim(ref, pr.head_sha), act)


def lease_expired(facts: Facts) -> bool:
    if facts.now is None or facts.merged_at is None:
        return False
    return facts.now - facts.merged_at >= CLAIM_LEASE


def approvers_from_reviews(facts: Facts) -> dict[str, str]:
    """After a restart the merge's approvers are re-derived from the reviews on the head."""
    inp = facts.inp
    reopened = replace(inp, pr=replace(inp.pr, merged=False, state="open"))
    return dict(decide(reopened).approvers)


def _check(facts: Facts, output: CheckOutput, *, external_id: str = "") -> tuple[Action, ...]:
    """A check-run write, unless the run already says exactly this (a re-requested check
    always gets a new run)."""
    current = facts.ledger.check
    if not facts.rerun and current is not None and same(current, output, external_id):
        return ()
    return (WriteCheck(facts.inp.pr.head_sha, output, facts.run_id, external_id),)


def same(run: CheckState, output: CheckOutput, external_id: str = "") -> bool:
    return (
        run.status == output.status
        and run.conclusion == output.conclusion
        and run.title == output.title[:255]
        and run.summary == output.summary
        and (not external_id or run.external_id == external_id)
    )

"""The approval clock (flagbot.yml `approval:`): remind once, expire once.

The clock is GitHub's: it starts at the `started_at` of flagbot's first check run on the
current head, so a push (a new head) restarts it and no database is needed. Each of the two
events is claimed by a ref, so two replicas still remind once and expire once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.flags.plan import format_duration as _format
from bot.notify.notice import approval_expired
from bot.plan.actions import Action, Claim, Close, Comment, Label, Notify, WriteCheck
from bot.plan.facts import EXPIRE, EXPIRED_LABEL, REMIND, Facts, claim_ref
from bot.plan.report import CheckOutput, check_output
from bot.policy.decision import Decision, DecisionInput, role_label
from bot.policy.model import ApprovalTimeout

REMINDER_MARKER = "<!-- flagbot:reminder -->"
EXPIRY_MARKER = "<!-- flagbot:expired -->"


def timeout_actions(decision: Decision, facts: Facts) -> tuple[Action, ...]:
    """Remind or expire a pull request still waiting for approvals, each once per head."""
    inp, ledger = facts.inp, facts.ledger
    if decision.step != "approval" or inp.policy.is_null or inp.pr.draft:
        return ()
    if facts.now is None or ledger.first_checked is None:
        return ()
    timeout = inp.policy.approval
    waited = facts.now - ledger.first_checked
    pr = inp.pr
    if waited >= timeout.expire_after and EXPIRE not in ledger.claims:
        closing = timeout.on_expire == "close"
        missing = [role_label(r.role) for r in decision.roles if not r.satisfied]
        actions: list[Action] = [
            Claim(claim_ref(pr.number, pr.head_sha, EXPIRE), pr.head_sha),
            WriteCheck(pr.head_sha, expired_output(decision, inp, timeout), facts.run_id),
            Label(pr.number, EXPIRED_LABEL),
            Comment(pr.number, expiry_comment(decision, timeout, closing)),
        ]
        if closing:
            actions.append(Close(pr.number))
        if inp.policy.channels:
            notice = approval_expired(
                inp.changes,
                repository=facts.repository,
                pull_number=pr.number,
                pull_url=pr.url or None,
                waited=format_duration(timeout.expire_after),
                missing=missing,
                closed=closing,
                expired_at=facts.now,
            )
            actions.append(Notify(notice))
        return tuple(actions)
    if waited >= timeout.remind_after and not {REMIND, EXPIRE} & ledger.claims:
        return (
            Claim(claim_ref(pr.number, pr.head_sha, REMIND), pr.head_sha),
            Comment(pr.number, reminder_comment(decision, timeout)),
        )
    return ()


# GitHub's time as this process last saw it may lag a little: claims are read this early.
CLAIMS_MARGIN = timedelta(hours=1)


def claims_possible(
    merged: bool, timeout: ApprovalTimeout, first_checked: datetime | None, now: datetime | None
) -> bool:
    """Whether a pull request's head may carry claims, so they must be read: the
    announcement's once it merged; the approval clock's (remind, expire) only once the clock
    could have run out, and it starts at flagbot's first check run on the head. Until then a
    reconcile skips the read, so a pull request approved within the day never pays for it.
    (A claim is created, never assumed absent: a skipped read cannot make one twice.)"""
    if merged:
        return True
    if first_checked is None:
        return False
    if now is None:
        return True
    due = min(timeout.remind_after, timeout.expire_after) - CLAIMS_MARGIN
    return now - first_checked >= due


def next_deadline(decision: Decision, facts: Facts) -> datetime | None:
    """When the approval clock next asks for something (a reminder, then expiry), if ever:
    until then, with nothing changed on GitHub, reconciling again would do nothing."""
    inp, ledger = facts.inp, facts.ledger
    if decision.step != "approval" or inp.policy.is_null or inp.pr.draft:
        return None
    if ledger.first_checked is None:
        return None
    timeout = inp.policy.approval
    if not {REMIND, EXPIRE} & ledger.claims:
        return ledger.first_checked + timeout.remind_after
    if EXPIRE not in ledger.claims:
        return ledger.first_checked + timeout.expire_after
    return None


def expired_output(decision: Decision, inp: DecisionInput, timeout: ApprovalTimeout) -> CheckOutput:
    expired = replace(
        decision,
        step="rejected",
        title=f"Expired after {format_duration(timeout.expire_after)}",
        conclusion="failure",
        roles=(),  # what it says stays put while late approvals arrive
        reasons=(
            f"No complete approval within {format_duration(timeout.expire_after)} of flagbot "
            "first checking this commit. Push a new commit to start again.",
        ),
    )
    return check_output(expired, inp.changes, ())


def format_duration(delta: timedelta) -> str:
    """Whole hours as hours (`72h`, as the setting is usually written), else `1d2h30m`."""
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600}h" if seconds and seconds % 3600 == 0 else _format(delta)


def _waiting_on(decision: Decision) -> str:
    parts = []
    for role in decision.roles:
        if not role.satisfied:
            who = " ".join(role.eligible) or "nobody"
            parts.append(f"{role_label(role.role)}: {who}")
    return "; ".join(parts)


def reminder_comment(decision: Decision, timeout: ApprovalTimeout) -> str:
    return (
        f"{REMINDER_MARKER}\n⏰ This flag change has waited "
        f"{format_duration(timeout.remind_after)} for approval. Still needed — "
        f"{_waiting_on(decision)}. It expires {format_duration(timeout.expire_after)} after "
        "flagbot first checked this commit."
    )


def expiry_comment(decision: Decision, timeout: ApprovalTimeout, closing: bool) -> str:
    then = "closed it" if closing else "failed its check"
    return (
        f"{EXPIRY_MARKER}\n⌛ No complete approval within "
        f"{format_duration(timeout.expire_after)} (still needed — {_waiting_on(decision)}), so "
        f"flagbot {then}. Push a new commit to start the approval again."
    )

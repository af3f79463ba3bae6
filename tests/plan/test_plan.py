"""`plan` against the in-memory fake: every action, in milliseconds."""

from dataclasses import replace
from datetime import timedelta

from bot.plan.actions import Announce, Claim, Close, Comment, Label, Merge, Notify, WriteCheck
from bot.plan.facts import (
    ANNOUNCE,
    ANNOUNCED,
    CLAIM_LEASE,
    EXPIRE,
    EXPIRED_LABEL,
    REMIND,
    CheckState,
    Ledger,
    MergeRefusal,
    claim_ref,
)
from bot.plan.plan import plan
from bot.plan.timeout import EXPIRY_MARKER, REMINDER_MARKER, claims_possible
from bot.policy.decision import decide
from bot.policy.model import ApprovalTimeout
from tests.plan.fake import HEAD, MERGE, NOW, FakeGitHub


def kinds(actions):
    return [type(a).__name__ for a in actions]


def check_of(action: WriteCheck, *, external_id: str = "") -> CheckState:
    o = action.output
    return CheckState(1, o.status, o.conclusion, o.title, o.summary, external_id)


async def planned(gh: FakeGitHub, **options):
    decision, facts = await gh.facts(**options)
    return decision, plan(decision, facts)


async def test_a_new_pull_request_gets_a_check_run_and_an_unchanged_one_nothing():
    gh = FakeGitHub()
    _, actions = await planned(gh)
    [write] = actions
    assert isinstance(write, WriteCheck) and write.run_id is None
    assert write.output.title == "Waiting for manager approval"
    gh.marks = Ledger(check=check_of(write), first_checked=NOW)
    assert (await planned(gh))[1] == ()


async def test_a_changed_decision_updates_the_run_in_place_and_a_rerun_gets_a_new_one():
    gh = FakeGitHub()
    _, [write] = await planned(gh)
    gh.marks = Ledger(check=check_of(write), first_checked=NOW)
    gh.approve("mgr")
    _, [update] = await planned(gh)
    assert update.run_id == 1 and update.output.title == "Waiting for QA validation"
    _, [rerun] = await planned(gh, rerun=True)
    assert rerun.run_id is None


async def test_approved_merges_at_the_decided_sha():
    gh = FakeGitHub()
    gh.approve("mgr")
    gh.approve("qa")
    _, [merge] = await planned(gh)
    # Nothing but the merge on the critical path: the claim follows GitHub's answer.
    assert merge == Merge(7, HEAD, "squash", merge.title, merge.message)
    assert "Manager-approved-by: mgr" in merge.message
    # Claimed already (a reconcile of an earlier head's lost answer, say): still the merge only.
    gh.marks = Ledger(claims=frozenset({ANNOUNCE}))
    assert (await planned(gh))[1] == (merge,)


async def test_a_refused_merge_is_reported():
    gh = FakeGitHub()
    gh.approve("mgr")
    gh.approve("qa")
    decision, facts = await gh.facts()
    [write] = plan(decision, replace(facts, refused=MergeRefusal(405, "Not mergeable")))
    assert write.output.title == "Approved, but GitHub refused the merge"
    assert "405: Not mergeable" in write.output.summary


async def test_merged_by_flagbot_is_claimed_then_announced_once():
    gh = FakeGitHub()
    gh.approve("mgr")
    gh.approve("qa")
    gh.merged()
    decision, actions = await planned(gh)
    assert decision.step == "notify"
    claim, announce = actions  # merged, not yet claimed: the claim goes first, whoever reads it
    assert claim == Claim(claim_ref(7, HEAD, ANNOUNCE), HEAD)
    assert isinstance(announce, Announce) and announce.merge_sha == MERGE
    assert announce.approvers == {"manager": "mgr", "qa": "qa"}
    assert announce.notice is not None and announce.notice.extra["merge_commit"] == MERGE
    # The reconcile that claimed (and merged) announces ...
    gh.marks = Ledger(claims=frozenset({ANNOUNCE}))
    _, [mine] = await planned(gh, held=frozenset({claim.ref}))
    assert isinstance(mine, Announce)
    # ... anyone else leaves it to the claimant, even a recovering sweep while the lease runs
    assert (await planned(gh))[1] == ()
    assert (await planned(gh, recover=True, now=NOW + CLAIM_LEASE - timedelta(seconds=1)))[1] == ()
    # ... but past it, a recovering sweep finishes the claim (its claimant crashed).
    _, [recovered] = await planned(gh, recover=True, now=NOW + CLAIM_LEASE)
    assert isinstance(recovered, Announce)
    assert (await planned(gh, now=NOW + CLAIM_LEASE))[1] == ()  # an event is not a sweep
    # The claimant's own later reconcile (its announcement failed) finishes it while the lease
    # runs; past the lease it is a recovering sweep's, like any claim.
    _, [resumed] = await planned(gh, resumable=frozenset({claim.ref}))
    assert isinstance(resumed, Announce)
    assert (await planned(gh, resumable=frozenset({claim.ref}), now=NOW + CLAIM_LEASE))[1] == ()
    # Announced (the completion marker): nothing more, ever.
    gh.marks = Ledger(claims=frozenset({ANNOUNCE}), announced=True)
    assert (await planned(gh, recover=True, now=NOW + CLAIM_LEASE))[1] == ()


async def test_merged_without_announcements_wanted_marks_the_run_done():
    gh = FakeGitHub()
    gh.merged()
    decision, facts = await gh.facts()
    policy = replace(facts.inp.policy, notify_on_complete=False)
    facts = replace(facts, inp=replace(facts.inp, policy=policy))
    decision = decide(facts.inp)
    [write] = plan(decision, facts)
    assert write.output.title == "Merged" and write.external_id == ANNOUNCED


async def test_merged_by_a_person_says_so_and_closed_is_left_alone():
    gh = FakeGitHub()
    gh.merged(by_bot=False)
    _, [write] = await planned(gh)
    assert write.output.title == "Merged outside flagbot"
    gh = FakeGitHub()
    gh.pr = replace(gh.pr, state="closed")
    assert (await planned(gh))[1] == ()
    # the first round only (what needs just the number): nothing more for a closed one
    assert gh.calls == ["pull", "files", "reviews"]


async def test_claims_are_read_only_where_the_head_may_carry_some():
    """Merged: the announcement's claim. Open: the approval clock's, once it may have run
    out; before that (no check run yet, or waiting less than a day) the read is skipped."""
    gh = FakeGitHub()
    await planned(gh)
    assert "claims" not in gh.calls  # no check run on the head: no clock, no claims
    gh = FakeGitHub()
    gh.calls.clear()
    await waiting(gh, timedelta(hours=2))
    assert "claims" not in gh.calls
    gh.calls.clear()
    await waiting(gh, timedelta(hours=23, minutes=30))  # within the margin of the reminder
    assert "claims" in gh.calls
    gh = FakeGitHub()
    gh.merged(by_bot=True)
    await planned(gh)
    assert "claims" in gh.calls


def test_claims_possible_follows_the_clock_and_the_merge():
    timeout = ApprovalTimeout(timedelta(hours=24), timedelta(hours=72))
    start = NOW - timedelta(hours=30)
    assert claims_possible(True, timeout, None, NOW)
    assert not claims_possible(False, timeout, None, NOW)  # no check run: the clock never ran
    assert claims_possible(False, timeout, start, NOW)
    assert not claims_possible(False, timeout, NOW - timedelta(hours=22), NOW)
    assert claims_possible(False, timeout, NOW - timedelta(hours=23, minutes=1), NOW)
    assert claims_possible(False, timeout, start, None)  # time unknown: read them
    quick = ApprovalTimeout(timedelta(hours=48), timedelta(minutes=30))
    assert claims_possible(False, quick, NOW - timedelta(minutes=1), NOW)


async def waiting(gh: FakeGitHub, waited: timedelta):
    """Planned with flagbot's first check run on the head `waited` ago."""
    if gh.marks.check is None:
        _, [write] = await planned(gh)
        gh.marks = replace(gh.marks, check=check_of(write))
    gh.marks = replace(gh.marks, first_checked=NOW - waited)
    return await planned(gh)


async def test_a_pull_request_waiting_a_day_is_reminded_once():
    gh = FakeGitHub()
    gh.approve("mgr")
    assert (await waiting(gh, timedelta(hours=23)))[1] == ()
    _, (claim, comment) = await waiting(gh, timedelta(hours=24))
    assert claim == Claim(claim_ref(7, HEAD, REMIND), HEAD)
    assert isinstance(comment, Comment) and REMINDER_MARKER in comment.body
    assert "QA validation: @acme/qa" in comment.body and "manager" not in comment.body
    gh.marks = replace(gh.marks, claims=frozenset({REMIND}))
    assert (await planned(gh))[1] == ()


async def test_expiry_fails_the_check_labels_comments_and_notifies_once():
    gh = FakeGitHub()
    _, actions = await waiting(gh, timedelta(hours=72))
    assert kinds(actions) == ["Claim", "WriteCheck", "Label", "Comment", "Notify"]
    claim, write, label, comment, notify = actions
    assert claim.ref == claim_ref(7, HEAD, EXPIRE)
    assert write.output.title == "Expired after 72h" and write.output.conclusion == "failure"
    assert label == Label(7, EXPIRED_LABEL)
    assert EXPIRY_MARKER in comment.body
    assert isinstance(notify, Notify) and notify.notice.event == "flag_change_expired"
    # Expired on this head: approvals arriving later do not merge it; the check stays failed.
    gh.marks = replace(gh.marks, claims=frozenset({EXPIRE}), check=check_of(write))
    gh.approve("mgr")
    gh.approve("qa")
    assert (await planned(gh))[1] == ()


async def test_expiry_closes_when_configured():
    gh = FakeGitHub(on_expire="close")
    _, actions = await waiting(gh, timedelta(hours=80))
    assert Close(7) in actions
    assert kinds(actions)[-2:] == ["Close", "Notify"]


async def test_drafts_do_not_expire():
    gh = FakeGitHub()
    gh.pr = replace(gh.pr, draft=True)
    assert (await waiting(gh, timedelta(hours=100)))[1] == ()

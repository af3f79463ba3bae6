"""The approval decision over plain data: each SPEC §4 rule has a test that fails if it breaks."""

from dataclasses import replace as _replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.diagnostics import Diagnostic
from bot.policy.changes import ChangeRequest
from bot.policy.decision import (
    DecisionInput,
    PullRequestFacts,
    decide,
    membership_questions,
)
from bot.policy.model import NULL_POLICY, Policy, RequirementRule, Requirements, RuleCondition
from bot.policy.reviews import Review

HEAD = "a" * 40
OLD = "b" * 40
MANAGERS = "@acme/eng-managers"
QA = "@acme/qa"
ONCALL = "@acme/oncall"

POLICY = Policy(
    roles={"manager": (MANAGERS,), "qa": (QA,), "oncall": (ONCALL,)},
    requirements=Requirements(
        environments={"staging": ("manager",)},
        rules=(
            RequirementRule(
                "emergency disable",
                RuleCondition(change_type="toggle", enabled=False),
                ("oncall",),
            ),
        ),
    ),
)
TEAMS = {MANAGERS: {"mgr", "mgr2"}, QA: {"qa", "qa2"}, ONCALL: {"oncall"}}
FLAG_OWNERS = (MANAGERS, QA, ONCALL)
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def change(path="flags/new_checkout_flow.yaml", env="production", kind="update", enabled=True):
    key = path.rsplit("/", 1)[-1].split(".")[0]
    return ChangeRequest(key, env, kind, path, (), "dev", "title", enabled)


def review(user, state="APPROVED", commit=HEAD, minutes=0, rid=None, body=""):
    return Review(
        id=rid if rid is not None else minutes * 100 + len(user),
        user=user,
        state=state,
        commit_id=commit,
        body=body,
        submitted_at=T0 + timedelta(minutes=minutes),
    )


def make(reviews=(), changes=None, owners=None, author="dev", policy=POLICY, **pr_kw):
    changes = tuple(changes or [change()])
    owners = owners if owners is not None else {c.path: FLAG_OWNERS for c in changes}
    pr = PullRequestFacts(
        number=1,
        author=author,
        head_sha=HEAD,
        base_sha="c" * 40,
        base_ref="main",
        **pr_kw,
    )
    inp = DecisionInput(
        pr=pr,
        changed_paths=tuple(c.path for c in changes),
        changes=changes,
        problems=(),
        policy=policy,
        policy_problems=(),
        owners=owners,
        codeowners_path=".github/CODEOWNERS",
        reviews=tuple(reviews),
    )
    return with_memberships(inp)


def with_memberships(inp):
    """Answer the decision's membership questions from TEAMS, as the service asks GitHub."""
    answers = {(t, u): u in TEAMS.get(t, set()) for t, u in membership_questions(inp)}
    return _replace(inp, memberships=answers)


def test_no_reviews_waits_for_manager():
    d = decide(make())
    assert (d.step, d.title, d.conclusion) == ("approval", "Waiting for manager approval", None)
    assert [r.role for r in d.roles] == ["manager", "qa"]


def test_manager_then_qa_then_merge_with_approvers_recorded():
    d = decide(make([review("mgr")]))
    assert d.title == "Waiting for QA validation"
    d = decide(make([review("mgr"), review("qa", minutes=1)]))
    assert d.should_merge and d.step == "apply_change"
    assert d.approvers == {"manager": "mgr", "qa": "qa"}


def test_self_approval_never_counts():
    # dev is in the managers team here, yet authored the pull request.
    TEAMS[MANAGERS].add("dev")
    try:
        d = decide(make([review("dev"), review("qa")]))
    finally:
        TEAMS[MANAGERS].discard("dev")
    assert not d.should_merge and d.title == "Waiting for manager approval"


def test_approval_on_older_commit_does_not_count():
    d = decide(make([review("mgr", commit=OLD), review("qa")]))
    assert not d.should_merge and d.waiting_for == "manager"
    assert any("earlier commit" in r for r in d.reasons)


def test_approval_by_non_owner_does_not_count():
    d = decide(make([review("stranger"), review("qa")]))
    assert not d.should_merge and d.waiting_for == "manager"


def test_owner_of_another_file_does_not_count():
    owners = {
        "flags/a.yaml": (MANAGERS, QA),
        "flags/b.yaml": ("@someone", QA),  # managers own a.yaml only
    }
    POL = Policy(roles={"manager": (MANAGERS, "@someone"), "qa": (QA,)})
    changes = [change("flags/a.yaml"), change("flags/b.yaml")]
    d = decide(make([review("mgr"), review("qa")], changes, owners, policy=POL))
    assert not d.should_merge and d.waiting_for == "manager"
    [mgr_status] = [r for r in d.roles if r.role == "manager"]
    assert mgr_status.approved_by == ("mgr",) and not mgr_status.satisfied
    d = decide(make([review("mgr"), review("qa"), review("someone")], changes, owners, policy=POL))
    assert d.should_merge


def test_owner_in_another_role_does_not_count():
    # Two QA people approve: the manager role is still missing.
    d = decide(make([review("qa"), review("qa2")]))
    assert not d.should_merge and d.waiting_for == "manager"


def test_one_person_cannot_hold_both_roles():
    TEAMS[QA].add("mgr")
    try:
        d = decide(make([review("mgr")]))
        assert not d.should_merge and d.waiting_for == "qa"
        d = decide(make([review("mgr"), review("qa2")]))
        assert d.should_merge and d.approvers == {"manager": "mgr", "qa": "qa2"}
        # The dual-role person takes whichever role is left.
        d = decide(make([review("mgr"), review("mgr2")]))
        assert d.should_merge and d.approvers == {"manager": "mgr2", "qa": "mgr"}
    finally:
        TEAMS[QA].discard("mgr")


def test_dismissed_approval_does_not_count_and_earlier_approval_does_not_revive():
    reviews = [review("mgr", minutes=0), review("mgr", "DISMISSED", minutes=1), review("qa")]
    d = decide(make(reviews))
    assert not d.should_merge and d.waiting_for == "manager"


def test_change_request_rejects_until_lifted():
    reviews = [review("mgr"), review("qa", "CHANGES_REQUESTED", minutes=1, body="Not on Friday")]
    d = decide(make(reviews))
    assert d.step == "rejected" and d.title == "Rejected by @qa"
    assert d.rejected_by == ("qa", "Not on Friday")
    assert "Not on Friday" in d.reasons[0]
    lifted = [*reviews, review("qa", minutes=2)]
    assert decide(make(lifted)).should_merge
    dismissed = [*reviews, review("qa", "DISMISSED", minutes=2), review("qa2", minutes=3)]
    assert decide(make(dismissed)).should_merge


def test_commented_review_neither_grants_nor_lifts():
    reviews = [
        review("qa", "CHANGES_REQUESTED", minutes=1),
        review("qa", "COMMENTED", minutes=2),
        review("mgr"),
    ]
    assert decide(make(reviews)).step == "rejected"


def test_change_request_by_outsider_is_ignored():
    reviews = [review("mgr"), review("qa"), review("stranger", "CHANGES_REQUESTED")]
    assert decide(make(reviews)).should_merge


def test_staging_needs_only_manager():
    c = change("flags/staging/beta.yaml", env="staging")
    d = decide(make([review("mgr")], [c]))
    assert d.should_merge and [r.role for r in d.roles] == ["manager"]


def test_emergency_disable_needs_one_oncall():
    c = change(kind="toggle", enabled=False)
    assert decide(make([], [c])).title == "Waiting for oncall approval"
    d = decide(make([review("oncall")], [c]))
    assert d.should_merge and d.approvers == {"oncall": "oncall"}
    # Turning a flag back on is not an emergency: manager and QA again.
    on = change(kind="toggle", enabled=True)
    assert decide(make([review("oncall")], [on])).waiting_for == "manager"


def test_file_without_code_owner_fails_closed():
    d = decide(make([review("mgr"), review("qa")], owners={"flags/new_checkout_flow.yaml": None}))
    assert d.step == "rejected" and "has no code owner" in d.reasons[0]
    d = decide(make([review("mgr"), review("qa")], owners={"flags/new_checkout_flow.yaml": ()}))
    assert d.step == "rejected"


def test_required_role_without_owner_of_that_file_fails_closed():
    d = decide(make([review("mgr")], owners={"flags/new_checkout_flow.yaml": (MANAGERS,)}))
    assert d.step == "rejected" and "QA validation" in d.reasons[0]


def test_missing_or_invalid_policy_fails_closed():
    d = decide(make([review("mgr"), review("qa")], policy=NULL_POLICY))
    assert d.step == "rejected" and "flagbot.yml" in d.reasons[0]
    bad = Diagnostic(".github/flagbot.yml", 3, 5, "unknown role 'qaa'")
    inp = _replace(make([review("mgr"), review("qa")]), policy_problems=(bad,))
    assert decide(inp).step == "rejected"


def test_files_outside_flags_are_never_merged():
    inp = make([review("mgr"), review("qa")])
    mixed = _replace(inp, changed_paths=(*inp.changed_paths, ".github/CODEOWNERS"))
    d = decide(mixed)
    assert d.step == "rejected" and not d.should_merge and ".github/CODEOWNERS" in d.reasons[0]
    only_other = _replace(inp, changed_paths=("src/app.py",), changes=())
    d = decide(only_other)
    assert d.step == "not_a_flag_change" and d.conclusion == "neutral"


def test_non_yaml_file_in_flags_is_not_a_flag_change():
    inp = make([review("mgr"), review("qa")])
    d = decide(_replace(inp, changed_paths=(*inp.changed_paths, "flags/README.md")))
    assert d.step == "rejected"


def test_validation_errors_reject():
    err = Diagnostic("flags/new_checkout_flow.yaml", 7, 15, "rollout.percentage must be …")
    d = decide(_replace(make([review("mgr"), review("qa")]), problems=(err,)))
    assert (d.step, d.conclusion) == ("rejected", "failure")
    assert d.title == "Rejected: 1 validation error"


def test_draft_is_never_merged():
    d = decide(make([review("mgr"), review("qa")], draft=True))
    assert d.step == "blocked" and not d.should_merge


def test_conflicting_pull_request_is_not_merged():
    d = decide(make([review("mgr"), review("qa")], mergeable=False))
    assert d.step == "blocked" and not d.should_merge


def test_closed_and_merged_pull_requests():
    assert decide(make(state="closed")).step == "closed"
    assert decide(make(merged=True, merged_by_bot=True)).step == "notify"
    assert decide(make(merged=True, merged_by_bot=True, notified=True)).step == "done"
    assert decide(make(merged=True)).title == "Merged outside flagbot"


def test_too_many_files_fails_closed():
    inp = _replace(make([review("mgr"), review("qa")]), files_truncated=True)
    assert decide(inp).step == "rejected"


def test_membership_questions_cover_reviewers_and_role_teams_only():
    inp = make([review("mgr"), review("dev"), review("qa", "COMMENTED")])
    qs = membership_questions(inp)
    assert ("@acme/eng-managers", "mgr") in qs
    assert all(u != "dev" for _, u in qs)  # the author never needs asking
    assert all(u != "qa" for _, u in qs)  # a comment counts for nothing


def test_pending_or_unknown_membership_is_not_membership():
    inp = _replace(make([review("mgr"), review("qa")]), memberships={})
    assert decide(inp).waiting_for == "manager"


@pytest.mark.parametrize("state", ["approved", "APPROVED"])
def test_review_state_case_from_webhook_or_rest(state):
    r = Review.from_github(
        {
            "id": 1,
            "user": {"login": "mgr"},
            "state": state,
            "commit_id": HEAD,
            "submitted_at": "2026-11-27T09:00:00Z",
        }
    )
    assert r.state == "APPROVED" and r.submitted_at == T0


def test_user_owner_entries_and_case_insensitive_logins():
    POL = Policy(roles={"manager": ("@Boss",), "qa": (QA,)})
    owners = {"flags/new_checkout_flow.yaml": ("@Boss", QA)}
    d = decide(make([review("boss"), review("QA")], owners=owners, policy=POL))
    assert d.should_merge


def test_a_role_only_e_mail_owners_hold_is_rejected_with_the_fix_not_left_waiting():
    """CODEOWNERS and flagbot.yml accept e-mail owners, but a review names a GitHub login:
    a role that only e-mail addresses hold could never be satisfied. Say so, instead of
    waiting for an approval that cannot come."""
    policy = _replace(POLICY, roles={**POLICY.roles, "manager": ("mgr@acme.example",)})
    owners = {"flags/new_checkout_flow.yaml": ("mgr@acme.example", QA)}
    d = decide(make([review("mgr"), review("qa")], owners=owners, policy=policy))
    assert d.step == "rejected" and not d.should_merge
    assert any("mgr@acme.example" in r and "@login" in r for r in d.reasons), d.reasons
    # An e-mail beside a login or team that holds the role is harmless.
    policy = _replace(POLICY, roles={**POLICY.roles, "manager": ("mgr@acme.example", MANAGERS)})
    owners = {"flags/new_checkout_flow.yaml": ("mgr@acme.example", MANAGERS, QA)}
    d = decide(make([review("mgr"), review("qa")], owners=owners, policy=policy))
    assert d.should_merge

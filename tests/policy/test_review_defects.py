"""Defects found in review of the fail-closed decision path, each proved by a test that failed
before its fix."""

from dataclasses import replace

from bot.policy.assess import ChangedFile, assess
from bot.policy.decision import decide, membership_questions
from tests.policy.test_assess import FLAG, POLICY, ctx
from tests.policy.test_assess import approve as approved_by

TEAMS = {
    "@acme/eng-managers": {"mgr"},
    "@acme/qa": {"qa"},
    "@acme/prod-managers": {"pmgr"},
    "@acme/prod-qa": {"pqa"},
}


def decided(context):
    inp = assess(context)
    answers = {(t, u): u in TEAMS.get(t, ()) for t, u in membership_questions(inp)}
    inp = replace(inp, memberships=answers)
    return inp, decide(inp)


def test_a_rename_that_keeps_the_key_needs_the_old_paths_owners_too():
    """flags/production/x.yaml and flags/x.yaml are the same production flag; moving it out of
    the folder its stricter owners guard must not need only the new path's owners."""
    codeowners = (
        ".github/CODEOWNERS",
        b"/flags/ @acme/eng-managers @acme/qa\n"
        b"/flags/production/ @acme/prod-managers @acme/prod-qa\n",
    )
    policy = POLICY.replace(
        b'manager: ["@acme/eng-managers"]',
        b'manager: ["@acme/eng-managers", "@acme/prod-managers"]',
    ).replace(b'qa: ["@acme/qa"]', b'qa: ["@acme/qa", "@acme/prod-qa"]')
    policy = policy.replace(b"environments: [production, staging]", b"")
    old, new = "flags/production/new_checkout_flow.yaml", "flags/new_checkout_flow.yaml"
    ramped = FLAG.replace(b"percentage: 5 ", b"percentage: 25")
    files = [ChangedFile(new, "renamed", old)]
    reviews = [approved_by("mgr"), approved_by("qa")]
    inp, d = decided(
        ctx(
            files,
            base={old: FLAG},
            head={new: ramped},
            reviews=reviews,
            policy=policy,
            codeowners=codeowners,
        )
    )
    [change] = inp.changes
    assert change.paths == (new, old)
    assert not d.should_merge, "merged without the old path's owners"
    both = [*reviews, approved_by("pmgr"), approved_by("pqa")]
    _, d = decided(
        ctx(
            files,
            base={old: FLAG},
            head={new: ramped},
            reviews=both,
            policy=policy,
            codeowners=codeowners,
        )
    )
    assert d.should_merge


def test_a_flag_in_an_undeclared_environment_is_not_merged():
    """flagbot.yml lists `environments: [production, staging]`; `flagbot validate` and the
    exports refuse `flags/qa/...`, so the pull request check must refuse to merge it too."""
    from bot.validation import validate_snapshot
    from tests.policy.test_assess import CODEOWNERS

    path = "flags/qa/new_checkout_flow.yaml"
    merged = {".github/flagbot.yml": POLICY, CODEOWNERS[0]: CODEOWNERS[1], path: FLAG}
    assert not validate_snapshot(merged).ok  # what main would hold
    inp, d = decided(
        ctx(
            [ChangedFile(path, "added")],
            head={path: FLAG},
            reviews=[approved_by("mgr"), approved_by("qa")],
        )
    )
    assert not d.should_merge
    assert any("environment 'qa' is not listed" in p.message for p in inp.problems)
    # removing such a file (a clean-up) is still put to approvers
    inp, d = decided(
        ctx(
            [ChangedFile(path, "removed")],
            base={path: FLAG},
            reviews=[approved_by("mgr"), approved_by("qa")],
        )
    )
    assert d.should_merge


def test_a_flag_an_export_cannot_express_is_not_merged():
    """With `exports: [flagd, unleash]` `flagbot validate` refuses a flag flagd cannot hold
    ("so a merge never breaks the published files"); the pull request check merged it."""
    from bot.validation import validate_snapshot
    from tests.policy.test_assess import CODEOWNERS

    path = "flags/new_checkout_flow.yaml"
    listed = b"name: Limits\ntype: json\ndefault: [1, 2]\nvalue: [3]\n"
    merged = {".github/flagbot.yml": POLICY, CODEOWNERS[0]: CODEOWNERS[1], path: listed}
    assert [d.code for d in validate_snapshot(merged).diagnostics if d.is_error] == [
        "export-flagd",
        "export-flagd",
    ]
    reviews = [approved_by("mgr"), approved_by("qa")]
    inp, d = decided(ctx([ChangedFile(path, "added")], head={path: listed}, reviews=reviews))
    assert not d.should_merge
    assert {p.code for p in inp.problems} == {"export-flagd"}

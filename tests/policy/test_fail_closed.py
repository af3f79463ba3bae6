"""Every path under flags/ a pull request touches needs approval or rejects it (issue #9).

Each case is a way a change once slipped through with no review at all, or could."""

import pytest

from bot.policy.assess import ChangedFile, assess
from bot.policy.decision import decide
from tests.policy.test_assess import FLAG, ctx
from tests.policy.test_assess import approve as approved_by

BOTH = [approved_by("mgr"), approved_by("qa")]
VALID = "flags/new_checkout_flow.yaml"


def decision(files, base=None, head=None, **kw):
    inp = assess(ctx(files, base=base, head=head, reviews=BOTH, **kw))
    return inp, decide(inp)


def messages(inp):
    return " ".join(d.message for d in inp.problems)


@pytest.mark.parametrize("path", ["flags/_template.yaml", "flags/archive/2024/old_flag.yaml"])
def test_removing_an_invalid_location_alone_is_rejected(path):
    inp, d = decision([ChangedFile(path, "removed")], base={path: b"name: x\n"})
    assert d.step == "rejected" and not d.should_merge
    text = messages(inp)
    assert f"removes {path}, which is not a valid flag location" in text
    assert "no role can approve" in text and "ask a repository admin" in text


def test_removing_an_invalid_location_beside_a_valid_change_is_rejected():
    files = [ChangedFile("flags/_template.yaml", "removed"), ChangedFile(VALID, "added")]
    inp, d = decision(files, base={"flags/_template.yaml": b"x: 1\n"}, head={VALID: FLAG})
    assert len(inp.changes) == 1
    assert d.step == "rejected" and "flags/_template.yaml" in d.reasons[0]


def test_renaming_an_invalid_location_to_a_valid_one_is_rejected():
    old = "flags/archive/2024/new_checkout_flow.yaml"
    inp, d = decision([ChangedFile(VALID, "renamed", old)], base={old: FLAG}, head={VALID: FLAG})
    assert d.step == "rejected" and f"renames {old}" in messages(inp)


def test_a_removal_whose_old_side_could_not_be_read_is_rejected():
    inp, d = decision([ChangedFile(VALID, "removed")], base={})
    assert d.step == "rejected" and "could not read" in messages(inp)


def test_other_files_in_flags_are_rejected_not_left_alone():
    inp, d = decision([ChangedFile("flags/README.md", "modified")])
    assert d.step == "rejected" and "is not a flag file" in messages(inp)


@pytest.mark.parametrize(("mode", "kind"), [("120000", "symlink"), ("160000", "submodule")])
def test_symlinks_and_submodules_under_flags_are_rejected(mode, kind):
    path = "flags/sneaky_link.yaml"
    inp, d = decision(
        [ChangedFile(path, "added")],
        head={path: FLAG},
        head_modes={path: mode, VALID: "100644"},
    )
    assert d.step == "rejected" and not inp.changes
    assert f"{path} is a {kind} (mode {mode}): flags must be regular files" in d.reasons[0]


def test_a_symlink_elsewhere_in_flags_rejects_any_change():
    _, d = decision(
        [ChangedFile(VALID, "added")],
        head={VALID: FLAG},
        head_modes={VALID: "100644", "flags/staging": "120000"},
    )
    assert d.step == "rejected" and "flags/staging is a symlink" in d.reasons[0]


def test_an_unlisted_head_tree_fails_closed():
    _, d = decision([ChangedFile(VALID, "added")], head={VALID: FLAG}, head_modes=None)
    assert d.step == "rejected"


def test_a_rename_that_keeps_the_key_needs_approval_for_both_paths():
    old = "flags/new_checkout_flow.yml"
    inp, d = decision([ChangedFile(VALID, "renamed", old)], base={old: FLAG}, head={VALID: FLAG})
    [change] = inp.changes
    assert change.paths == (VALID, old)
    assert d.step == "approval"  # put to approvers, not rejected as unaccounted for


def test_no_change_request_is_never_merged_even_if_nothing_else_objects():
    from dataclasses import replace

    inp, _ = decision([ChangedFile(VALID, "added")], head={VALID: FLAG})
    d = decide(replace(inp, changes=()))
    assert d.step == "rejected" and VALID in d.reasons[0]

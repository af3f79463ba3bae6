"""One person, one role: the assignment behind the decision, tested directly."""

from bot.policy.assignment import assign_roles

ORDER = ["manager", "qa"]


def can_act(login, eligible):
    return login in eligible


def test_dual_role_person_takes_the_role_nobody_else_can():
    needs = [("f", "manager", ("ann", "bob")), ("f", "qa", ("ann",))]
    assert assign_roles(ORDER, needs, ["ann", "bob"], can_act) == {"ann": "qa", "bob": "manager"}


def test_two_files_owned_by_different_managers_need_both():
    needs = [("a", "manager", ("ann",)), ("b", "manager", ("bob",)), ("a", "qa", ("cat",))]
    got = assign_roles(ORDER, needs, ["ann", "bob", "cat"], can_act)
    assert got == {"ann": "manager", "bob": "manager", "cat": "qa"}


def test_leading_roles_win_when_not_everything_can_be_satisfied():
    needs = [("f", "manager", ("ann",)), ("f", "qa", ("ann",))]
    assert assign_roles(ORDER, needs, ["ann"], can_act) == {"ann": "manager"}


def test_many_reviewers_fall_back_to_a_greedy_pass_that_still_respects_one_role_each():
    people = [f"p{i}" for i in range(12)]
    needs = [("f", "manager", tuple(people)), ("f", "qa", tuple(people))]
    got = assign_roles(ORDER, needs, people, can_act)
    assert sorted(got.values()) == ["manager", "qa"] and len(set(got)) == 2

"""The assignment with many eligible approvers (found in review; failed before its fix)."""

from bot.policy.assignment import MAX_EXHAUSTIVE, assign_roles

ORDER = ["manager", "qa"]


def can_act(login, eligible):
    return login in eligible


def test_many_approvers_still_find_an_assignment_that_satisfies_every_role():
    """Nine managers approved, and the only QA is also a manager: the greedy pass gave `ann`
    (first by name) the manager role and left QA waiting forever, though `bob` could manage."""
    managers = ["ann", *(f"m{i}" for i in range(MAX_EXHAUSTIVE))]
    needs = [("f", "manager", tuple(managers)), ("f", "qa", ("ann",))]
    got = assign_roles(ORDER, needs, managers, can_act)
    assert got.get("ann") == "qa" and "manager" in got.values()


def test_many_approvers_cover_files_owned_by_different_managers():
    """Every manager may approve file a, only p2 file b: one greedy manager left b waiting."""
    people = [f"p{i}" for i in range(MAX_EXHAUSTIVE + 4)]
    needs = [("a", "manager", tuple(people)), ("b", "manager", ("p2",)), ("a", "qa", ("p3",))]
    got = assign_roles(ORDER, needs, people, can_act)
    assert got.get("p2") == "manager" and got.get("p3") == "qa"


def test_many_pairs_and_approvers_fall_back_to_a_pass_that_covers_each_pair():
    """Beyond the exhaustive search: each (change, role) pair gets a holder, the approver
    with the fewest other options first."""
    people = [f"p{i:02}" for i in range(30)]
    needs = [(f"f{i}", "manager", tuple(people)) for i in range(5)]
    needs += [("f0", "manager", ("p29",)), ("f0", "qa", ("p00", "p01"))]
    got = assign_roles(ORDER, needs, people, can_act)
    assert got.get("p29") == "manager"
    assert "qa" in (got.get("p00"), got.get("p01"))

"""Classification that hid a change (found in review; failed before its fix)."""

import pytest

from bot.policy.changes import diff_fields
from tests.policy.test_changes import flag, one


@pytest.mark.parametrize(
    ("before", "after"),
    [([1], [True]), ([0, 1], [False, True]), ([{"a": 1}], [{"a": True}]), ([[0]], [[False]])],
)
def test_a_boolean_for_a_number_inside_a_list_is_a_change(before, after):
    """`_same` kept True apart from 1 only at the top of a value: inside a list Python's
    `[1] == [True]` held, so a JSON flag's served value changed with no field shown."""
    assert [c.field for c in diff_fields({"default": before}, {"default": after})] == ["default"]


def test_a_served_value_changed_beside_the_kill_switch_is_not_a_toggle():
    """Turning a flag off needs only on-call (the emergency-off rule); changing what everyone
    then gets (`default`) alongside must not ride on it."""
    before = flag(type="json", default=[1], value=[2])
    after = flag(type="json", default=[True], value=[2], enabled=False)
    assert one(before, after).change_type == "update"

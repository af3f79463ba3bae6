from bot.flags.model import Flag, Rollout
from bot.policy.changes import MISSING, FieldChange, FileVersions, classify, diff_fields


def flag(key="new_checkout_flow", env="production", **raw):
    base = {"name": "New checkout flow", "enabled": True, "default": False, "value": True}
    base.update(raw)
    path = f"flags/{key}.yaml" if env == "production" else f"flags/{env}/{key}.yaml"
    rollout = raw.get("rollout")
    return Flag(
        key=key,
        environment=env,
        path=path,
        name=base["name"],
        enabled=base["enabled"],
        rollout=Rollout(percentage=rollout["percentage"]) if rollout else None,
        raw=base,
    )


def one(before, after):
    [cr] = classify(
        [FileVersions(before and before.path, before, after and after.path, after)],
        requested_by="dev",
        reason="Ship it",
    )
    return cr


def test_added_file_is_create_with_every_field_as_after():
    cr = one(None, flag())
    assert cr.change_type == "create"
    assert FieldChange("name", MISSING, "New checkout flow") in cr.changes
    assert cr.requested_by == "dev" and cr.reason == "Ship it"


def test_removed_file_is_delete_and_has_no_enabled_after():
    cr = one(flag(), None)
    assert cr.change_type == "delete"
    assert cr.enabled_after is None
    assert cr.path == "flags/new_checkout_flow.yaml"


def test_only_enabled_changed_is_toggle():
    cr = one(flag(), flag(enabled=False))
    assert cr.change_type == "toggle"
    assert cr.changes == (FieldChange("enabled", True, False),)
    assert cr.enabled_after is False


def test_only_rollout_fields_changed_is_rollout():
    before = flag(rollout={"percentage": 5, "stages": [5, 25]})
    after = flag(rollout={"percentage": 25, "stages": [5, 25]})
    cr = one(before, after)
    assert cr.change_type == "rollout"
    assert cr.changes == (FieldChange("rollout.percentage", 5, 25),)


def test_adding_a_rollout_block_is_rollout():
    assert one(flag(), flag(rollout={"percentage": 5})).change_type == "rollout"


def test_enabled_and_rollout_together_is_update():
    before = flag(rollout={"percentage": 5})
    after = flag(enabled=False, rollout={"percentage": 25})
    assert one(before, after).change_type == "update"


def test_description_change_is_update():
    cr = one(flag(), flag(description="now with tests"))
    assert cr.change_type == "update"
    assert cr.changes == (FieldChange("description", MISSING, "now with tests"),)


def test_formatting_only_change_is_update_without_field_changes():
    cr = one(flag(), flag())
    assert cr.change_type == "update" and cr.changes == ()


def test_rename_is_delete_plus_create():
    crs = classify(
        [FileVersions("flags/a.yaml", flag("a"), "flags/b.yaml", flag("b"))],
        requested_by="dev",
        reason="",
    )
    assert [(c.change_type, c.key) for c in crs] == [("delete", "a"), ("create", "b")]


def test_moving_between_environments_is_delete_plus_create():
    crs = classify(
        [FileVersions("flags/a.yaml", flag("a"), "flags/staging/a.yaml", flag("a", "staging"))],
        requested_by="dev",
        reason="",
    )
    assert [(c.change_type, c.environment) for c in crs] == [
        ("delete", "production"),
        ("create", "staging"),
    ]


def test_int_and_float_percentages_are_equal_but_bools_are_not_ints():
    assert diff_fields({"p": 50}, {"p": 50.0}) == ()
    assert diff_fields({"v": True}, {"v": 1}) == (FieldChange("v", True, 1),)

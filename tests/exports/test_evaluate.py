"""The reference semantics: kill switch, status, rules in order, the bucket, the default."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.flags.evaluate import bucket, evaluate, rule_matches
from bot.flags.load import load_flag
from bot.flags.model import Flag, TargetingRule


def flag(**fields: Any) -> Flag:
    body = {"name": "x", **fields}
    loaded, problems = load_flag(yaml.safe_dump(body).encode(), "flags/f.yaml")
    assert loaded is not None, problems
    return loaded


def test_kill_switch_beats_rules_and_rollout():
    f = flag(enabled=False, rollout={"percentage": 100},
             rules=[{"name": "r", "attribute": "a", "operator": "in", "values": ["x"],
                     "serve": True}])  # fmt: skip
    result = evaluate(f, "user-1", {"a": "x"})
    assert (result.value, result.reason) == (False, "disabled")
    assert "kill switch" in result.explain()


@pytest.mark.parametrize("status", ["inactive", "archived"])
def test_inactive_and_archived_serve_default(status):
    result = evaluate(flag(status=status, rollout={"percentage": 100}), "u")
    assert (result.value, result.reason) == (False, status)


def test_first_matching_rule_wins():
    f = flag(type="string", default="d", value="v",
             rules=[{"name": "one", "attribute": "a", "operator": "in", "values": ["x"],
                     "serve": "first"},
                    {"name": "two", "attribute": "a", "operator": "starts_with",
                     "values": ["x"], "serve": "second"}])  # fmt: skip
    assert evaluate(f, None, {"a": "x"}).value == "first"
    assert evaluate(f, None, {"a": "xy"}).value == "second"
    second = evaluate(f, None, {"a": "xy"})
    assert (second.rule, second.rule_name) == (2, "two")
    assert evaluate(f, None, {"a": "y"}).value == "v"  # no rollout: everyone else gets value


def test_bucket_decides_partial_rollouts_exactly():
    f = flag(rollout={"percentage": 25})
    for i in range(500):
        key = f"user-{i}"
        result = evaluate(f, key)
        assert result.bucket == bucket("f", key)
        assert result.value is (bucket("f", key) <= 25)
        assert result.reason == ("rollout" if result.value else "default")


def test_no_targeting_key_stays_outside_a_partial_rollout_but_not_at_100():
    assert evaluate(flag(rollout={"percentage": 99}), None).value is False
    assert evaluate(flag(rollout={"percentage": 100}), None).value is True
    assert evaluate(flag(rollout={"percentage": 0}), "u").value is False


def rule(op: str, values: list[Any]) -> TargetingRule:
    return TargetingRule("r", "a", op, tuple(values), True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("op", "values", "attr", "expected"),
    [
        ("in", ["NL", 7, True], "7", True),
        ("in", ["NL", 7, True], "true", True),
        ("in", ["NL"], "nl", False),
        ("in", ["NL"], None, False),
        ("not_in", ["NL"], None, True),  # a missing attribute is in none of the values
        ("not_in", ["NL"], "NL", False),
        ("equals", [1.0], "1", True),
        ("starts_with", ["a", "b"], "bcd", True),
        ("ends_with", ["@x.io"], "me@x.io", True),
        ("contains", ["vip"], "a-vip-b", True),
        ("contains", ["vip"], None, False),
        ("matches", ["^u-[0-9]+$"], "u-12", True),
        ("matches", ["^u-[0-9]+$"], "u-x", False),
        ("gt", [10], "10.5", True),
        ("gt", [10], "10", False),
        ("gte", [10], "10", True),
        ("lt", [3], "abc", False),  # not a number never matches
        ("lt", [3], None, False),
        ("lte", [3], 3, True),
    ],
)
def test_operators(op, values, attr, expected):
    context = {} if attr is None else {"a": attr}
    assert rule_matches(rule(op, values), context) is expected

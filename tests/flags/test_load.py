"""Flag files -> Flag: what a good file becomes, and each rule's refusal in isolation.

The corpus (tests/corpus/flags) covers the messages and positions of bad files; these tests
pin down what the model holds and the edges of each rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.flags.load import load_flag
from bot.flags.model import Flag, Rollout, StageStart, TargetingRule

CHECKOUT = b"""\
name: New checkout flow
description: One page.
tags: [checkout, web]
enabled: true
default: false
value: true
rollout:
  percentage: 25
  stages: [5, 25, 50, 75, 100]
  every: 60m
  stage_started:
    percentage: 25
    at: 2024-05-01T12:00:00+02:00
"""


def load(text: str | bytes, path: str = "flags/f.yaml", **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return load_flag(data, path, **kwargs)


def good(text: str | bytes, path: str = "flags/f.yaml", **kwargs) -> Flag:
    flag, problems = load(text, path, **kwargs)
    assert problems == [], [str(p) for p in problems]
    assert flag is not None
    return flag


def messages(text: str | bytes, path: str = "flags/f.yaml", **kwargs) -> list[str]:
    flag, problems = load(text, path, **kwargs)
    assert flag is None and problems
    return [p.message for p in problems]


def test_a_full_flag_becomes_the_model():
    flag = good(CHECKOUT, "flags/new_checkout_flow.yaml")
    assert flag.key == "new_checkout_flow"
    assert flag.environment == "production"
    assert flag.path == "flags/new_checkout_flow.yaml"
    assert (flag.name, flag.description, flag.tags) == (
        "New checkout flow",
        "One page.",
        ("checkout", "web"),
    )
    assert (flag.type, flag.status, flag.enabled, flag.default, flag.value) == (
        "boolean", "active", True, False, True,
    )  # fmt: skip
    assert flag.rollout == Rollout(
        percentage=25,
        stages=(5, 25, 50, 75, 100),
        every=timedelta(hours=1),
        paused=False,
        stage_started=StageStart(25, datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    )
    assert flag.raw["rollout"]["percentage"] == 25


def test_only_a_name_is_required_for_a_boolean_flag():
    flag = good("name: Minimal\n")
    assert (flag.type, flag.status, flag.enabled, flag.default, flag.value) == (
        "boolean", "active", True, False, True,
    )  # fmt: skip
    assert flag.rollout is None and flag.rules == () and flag.tags == ()


def test_the_folder_is_the_environment_and_the_default_comes_from_the_policy():
    assert good("name: x\n", "flags/staging/a-b_1.yml").environment == "staging"
    assert good("name: x\n", "flags/a.yaml", default_environment="prod").environment == "prod"
    assert good("name: x\n", "flags/staging/a.yaml").key == "a"


def test_every_defaults_from_the_policy_and_parses_units():
    assert good("name: x\nrollout: {percentage: 5}\n").rollout.every == timedelta(minutes=60)
    flag = good("name: x\nrollout: {percentage: 5}\n", default_every=timedelta(minutes=30))
    assert flag.rollout.every == timedelta(minutes=30)
    for text, delta in [("5m", timedelta(minutes=5)), ("2d", timedelta(days=2)),
                        ("1h30m", timedelta(minutes=90))]:  # fmt: skip
        assert good(f"name: x\nrollout: {{percentage: 5, every: {text}}}\n").rollout.every == delta
    assert "at least 5m" in messages("name: x\nrollout: {percentage: 5, every: 4m}\n")[0]


def test_stage_names_become_percentages():
    flag = good(
        "name: x\nrollout:\n  percentage: 50\n  stages: [initial, early, half, majority, full]\n"
    )
    assert flag.rollout.stages == (5, 25, 50, 75, 100)
    mixed = good("name: x\nrollout:\n  percentage: 10\n  stages: [initial, 10, half, 100]\n")
    assert mixed.rollout.stages == (5, 10, 50, 100)


def test_fractional_percentages_are_allowed():
    flag = good("name: x\nrollout:\n  percentage: 0.5\n  stages: [0.5, 2.5, 100]\n")
    assert flag.rollout.percentage == 0.5 and flag.rollout.stages == (0.5, 2.5, 100)
    assert good("name: x\nrollout: {percentage: 0}\n").rollout.percentage == 0


@pytest.mark.parametrize(
    ("stages", "problem"),
    [
        ("[5, 5, 100]", "must rise strictly: 5 comes after 5"),
        ("[full, half]", "must rise strictly: 50 comes after 100"),
        ("[]", "rollout.stages must not be empty"),
        ("[5, true]", "rollout.stages[1] must be a number, got the boolean true"),
        ("5", "rollout.stages must be a list"),
    ],
)
def test_bad_stages(stages, problem):
    found = messages(f"name: x\nrollout:\n  percentage: 5\n  stages: {stages}\n")
    assert any(problem in m for m in found), found


def test_a_paused_plan():
    flag = good("name: x\nrollout: {percentage: 25, stages: [5, 25], paused: true}\n")
    assert flag.rollout.paused is True


@pytest.mark.parametrize(
    "at",
    ["2024-05-01T10:00:00Z", "'2024-05-01T10:00:00Z'", "'2024-05-01T12:00:00+02:00'",
     "2024-05-01 10:00:00.000000+00:00", "'2024-05-01t10:00:00z'"],
)  # fmt: skip
def test_stage_started_accepts_quoted_and_unquoted_times_and_stores_utc(at):
    flag = good(
        f"name: x\nrollout:\n  percentage: 5\n  stage_started: {{percentage: 5, at: {at}}}\n"
    )
    started = flag.rollout.stage_started
    assert started.at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert started.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        ("2024-05-01", "needs a time and a timezone"),
        ("'2024-05-01T10:00:00'", "must say its timezone"),
        ("'2024-13-01T10:00:00Z'", "must be an ISO-8601 time"),
        ("1714557600", "must be an ISO-8601 time"),
    ],
)
def test_stage_started_refuses_times_without_a_zone(at, problem):
    found = messages(
        f"name: x\nrollout:\n  percentage: 5\n  stage_started: {{percentage: 5, at: {at}}}\n"
    )
    assert any(problem in m for m in found), found


@pytest.mark.parametrize(
    ("flag_type", "default", "value"),
    [
        ("string", "'a'", "''"),
        ("number", "0", "-1.5"),
        ("json", "null", "{a: [1, 'x', true, {b: null}]}"),
        ("json", "[]", "'text'"),
        ("boolean", "true", "false"),
    ],
)
def test_values_of_each_type(flag_type, default, value):
    flag = good(f"name: x\ntype: {flag_type}\ndefault: {default}\nvalue: {value}\n")
    assert flag.type == flag_type


@pytest.mark.parametrize(
    ("flag_type", "default", "value", "problem"),
    [
        (
            "boolean",
            "0",
            "true",
            "default must be true or false because the flag's type is boolean",
        ),
        ("number", "true", "1", "default must be a number because the flag's type is number"),
        ("number", "1", ".inf", "value must be a finite number"),
        (
            "string",
            "'a'",
            "[a]",
            "value must be a string because the flag's type is string, got a list",
        ),
        ("string", "'a'", "off", 'quote it: "off"'),
        ("string", "'a'", "null", "got nothing (null)"),
        ("json", "{1: a}", "1", "keys in default must be strings for JSON; quote '1'"),
        ("json", "[.nan]", "1", "default[0] is the number nan, which JSON cannot hold"),
    ],
)
def test_values_must_match_the_type(flag_type, default, value, problem):
    found = messages(f"name: x\ntype: {flag_type}\ndefault: {default}\nvalue: {value}\n")
    assert any(problem in m for m in found), found


def test_non_boolean_flags_need_default_and_value():
    found = messages("name: x\ntype: number\n")
    assert any("a number flag needs `default:`" in m for m in found)
    assert any("a number flag needs `value:`" in m for m in found)


def test_targeting_rules_become_the_model():
    flag = good(
        "name: x\ntype: string\ndefault: a\nvalue: b\nrules:\n"
        "  - {name: staff, attribute: email, operator: ends_with, values: ['@acme.example'],\n"
        "     serve: c}\n"
        "  - {name: big, attribute: total, operator: gte, values: [100], serve: d}\n"
        "  - {name: eu, attribute: country, operator: in, values: [de, fr, 31, true], serve: e}\n"
        "  - {name: re, attribute: email, operator: matches, values: ['^a.*@x$'], serve: f}\n"
    )
    assert flag.rules[0] == TargetingRule("staff", "email", "ends_with", ("@acme.example",), "c")
    assert [r.operator for r in flag.rules] == ["ends_with", "gte", "in", "matches"]
    assert flag.rules[2].values == ("de", "fr", 31, True)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("{name: a, attribute: x, operator: gt, values: [ten], serve: true}",
         "rules[0].values[0] must be a number"),
        ("{name: a, attribute: x, operator: contains, values: [1], serve: true}",
         "rules[0].values[0] must be a string, got the number 1"),
        ("{name: a, attribute: x, operator: in, values: [no], serve: true}",
         "YAML 1.1 reads unquoted no as a boolean"),
        ("{name: a, attribute: x, operator: in, values: [[1]], serve: true}",
         "must be a string, number or boolean, got a list"),
        ("{name: a, attribute: x, operator: in, values: [], serve: true}",
         "rules[0].values must not be empty"),
        ("{name: a, attribute: x, operator: equals, values: [1, 2], serve: true}",
         "exactly one value for operator equals"),
        ("{name: a, attribute: x, operator: in, values: [a], serve: true, weight: 1}",
         "unknown field 'rules[0].weight'"),
        ("{name: '', attribute: x, operator: in, values: [a], serve: true}",
         "rules[0].name must not be empty"),
        ("just-a-string", "rules[0] must be a mapping"),
    ],
)  # fmt: skip
def test_bad_rules(rule, problem):
    found = messages(f"name: x\nrules:\n  - {rule}\n")
    assert any(problem in m for m in found), found


def test_rule_names_are_unique():
    rule = "{name: a, attribute: x, operator: in, values: [v], serve: true}"
    found = messages(f"name: x\nrules:\n  - {rule}\n  - {rule}\n")
    assert found == ["two rules are named 'a'; give each rule its own name"]


def test_every_problem_is_reported_not_just_the_first():
    found = messages("name: 1\ntype: boolean\nstatus: gone\nrollout: {percentage: 101}\nextra: 1\n")
    assert len(found) == 4


def test_a_bad_path_is_reported_along_with_the_content():
    flag, problems = load("name: x\nrollout: {percentage: 101}\n", "flags/a/b/c.yaml")
    assert flag is None
    assert {p.code for p in problems} == {"flag-path-depth", "out-of-range"}


def test_problems_carry_the_repository_path():
    _, problems = load("name: 1\n", "flags/staging/k.yaml")
    assert [str(p) for p in problems] == [
        "flags/staging/k.yaml:1:7: name must be a string, got the number 1; quote it if you "
        'mean the text: "1"'
    ]

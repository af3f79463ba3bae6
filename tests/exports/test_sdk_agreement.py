"""flagbot's evaluator, the flagd provider and the Unleash SDK agree on the exports.

Rules, kill switches, statuses and 0/100 % agree for every subject of a generated corpus in
all three. Partial rollouts: Unleash is bit-exact with flagbot; flagd assigns its own buckets,
so only its share and its nesting (5 ⊂ 25 ⊂ 50 ⊂ 75 ⊂ 100) are checked.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.exports import encode, export, flagd
from bot.exports.flagset import FlagSet
from bot.flags.evaluate import bucket, evaluate
from tests.exports.corpus import contexts, corpus_flagset
from tests.exports.sdks import flagd_reading, unleash_reading

ENV = "production"


@pytest.fixture(scope="module")
def flagset() -> FlagSet:
    return corpus_flagset()


def write(tmp: Path, document: dict) -> Path:
    path = tmp / "production.flagd.json"
    path.write_bytes(encode(document, indent=2))  # as `flagbot export` writes it
    return path


def same(a, b) -> bool:
    """Equal values of the same kind (2 and 2.0 alike; True is not 1)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def test_flagd_agrees_on_every_rule_switch_status_and_static_rollout(flagset, tmp_path):
    result = export(flagset, "flagd", ENV)
    assert result.document is not None, result.problems
    compared = 0
    with flagd_reading(write(tmp_path, result.document)) as flagd:
        for flag in flagset.flags:
            for key, attrs in contexts():
                expected = evaluate(flag, key, attrs)
                if expected.bucket is not None:
                    continue  # a partial rollout decided: flagd has its own buckets
                got = flagd.value(flag.type, flag.key, key, attrs)
                assert same(got, expected.value), (flag.key, key, attrs, got, expected)
                compared += 1
    assert compared > 3000


def test_unleash_agrees_on_every_subject_of_the_corpus(flagset, tmp_path):
    result = export(flagset, "unleash", ENV)
    assert result.document is not None, result.problems
    with unleash_reading(result.document, tmp_path) as sdk:
        for flag in flagset.flags:
            for key, attrs in contexts():
                expected = evaluate(flag, key, attrs)
                got = sdk.value(flag.type, flag.key, key, attrs)
                assert same(got, expected.value), (flag.key, key, attrs, got, expected)


def rollout_flagset(percentage: float) -> FlagSet:
    body = (
        "name: New checkout flow\nstatus: active\ndefault: false\nvalue: true\n"
        f"rollout:\n  percentage: {percentage}\n"
    )
    return FlagSet.from_snapshot({"flags/new_checkout_flow.yaml": body.encode()})


def test_unleash_is_bit_exact_with_flagbot_over_100000_keys(tmp_path):
    flagset = rollout_flagset(25)
    document = export(flagset, "unleash", ENV).document
    keys = [f"user-{i}" for i in range(100_000)]
    with unleash_reading(document, tmp_path) as sdk:
        inside = [sdk.client.is_enabled("new_checkout_flow", {"userId": k}) for k in keys]
    expected = [bucket("new_checkout_flow", k) <= 25 for k in keys]
    mismatches = sum(a != b for a, b in zip(inside, expected, strict=True))
    assert mismatches == 0
    assert 24_000 < sum(inside) < 26_000


def test_flagd_reaches_the_share_and_only_adds_subjects_as_the_rollout_grows(tmp_path):
    keys = [f"user-{i}" for i in range(20_000)]
    cohorts: dict[int, set[str]] = {}
    for pct in (5, 25, 50, 75, 100):
        document = export(rollout_flagset(pct), "flagd", ENV).document
        with flagd_reading(write(tmp_path, document)) as flagd:
            cohorts[pct] = {
                k for k in keys if flagd.value("boolean", "new_checkout_flow", k, {}) is True
            }
        share = 100 * len(cohorts[pct]) / len(keys)
        assert abs(share - pct) <= 1, (pct, share)
    stages = sorted(cohorts)
    for small, large in itertools.pairwise(stages):
        assert cohorts[small] <= cohorts[large], (small, large)
    # flagd's buckets are its own: the 25 % cohorts overlap no more than chance would make them
    flagbot_25 = {k for k in keys if bucket("new_checkout_flow", k) <= 25}
    overlap = len(flagbot_25 & cohorts[25]) / len(cohorts[25])
    assert overlap < 0.5


@pytest.mark.parametrize("percentage", [0.5, 12.5, 33.333, 99.9])
def test_unleash_is_exact_for_fractional_percentages_too(percentage, tmp_path):
    flag = rollout_flagset(percentage).flags[0]
    document = export(rollout_flagset(percentage), "unleash", ENV).document
    keys = [f"user-{i}" for i in range(10_000)]
    with unleash_reading(document, tmp_path) as sdk:
        got = [sdk.client.is_enabled("new_checkout_flow", {"userId": k}) for k in keys]
    assert got == [evaluate(flag, k).value for k in keys]


DOTTED = b"""\
name: Staff preview
default: false
value: true
rules:
  - name: staff
    attribute: user.email
    operator: ends_with
    values: ["@acme.example"]
    serve: true
rollout:
  percentage: 0
"""


def test_flagd_refuses_a_dotted_attribute_it_would_read_as_a_path(tmp_path):
    """JSONLogic's `var` splits `user.email` into a path: flagd looks for {"user": {"email"}}
    and never sees the attribute flagbot and Unleash test, so a staff member would be left
    out. The flagd export refuses the rule at its line; Unleash reads the name as it is."""
    flagset = FlagSet.from_snapshot({"flags/staff_preview.yaml": DOTTED})
    flag = flagset.flags[0]
    staff = {"user.email": "bo@acme.example"}
    assert evaluate(flag, "u-1", staff).value is True
    # What the export used to write: flagd reads the nested path, not the attribute.
    document = {
        "flags": {"staff_preview": flagd.flag_definition(flag)},
        "$schema": flagd.SCHEMA,
    }
    with flagd_reading(write(tmp_path, document)) as reader:
        assert reader.value("boolean", "staff_preview", "u-1", staff) is False
        nested = {"user": {"email": "bo@acme.example"}}
        assert reader.value("boolean", "staff_preview", "u-1", nested) is True
    result = export(flagset, "flagd", ENV)
    assert result.document is None
    (problem,) = result.problems
    assert (problem.path, problem.line, problem.code) == (
        "flags/staff_preview.yaml",
        6,
        "export-flagd",
    )
    assert "user.email" in problem.message
    unleash_doc = export(flagset, "unleash", ENV).document
    with unleash_reading(unleash_doc, tmp_path) as sdk:
        assert sdk.value("boolean", "staff_preview", "u-1", staff) is True

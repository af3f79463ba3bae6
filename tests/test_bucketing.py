"""The meaning of a percentage, checked against published vectors and two properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flags.evaluate import bucket, in_rollout, murmur3_32

# Unleash: src/test/strategy/util.test.ts normalizedValue(id, groupId), hashed as "groupId:id";
# client-specification 10-flexible-rollout-strategy.json, groupId = the feature name.
# (flag-systems.md §2.3)
UNLEASH = [
    ("gr1", "123", 73),
    ("groupX", "999", 25),
    ("Feature.flexibleRollout.10", "174", 10),
    ("Feature.flexibleRollout.10", "499", 32),
    ("Feature.flexibleRollout.userId.55", "25", 55),
    ("Feature.flexibleRollout.sessionId.42", "147", 42),
]
# Cross-check table, litestar/Unleash column (flag-systems.md §2.7).
CROSS_CHECK = [
    ("new-checkout", "user-1", 32),
    ("new-checkout", "user-2", 90),
    ("new-checkout", "user-42", 75),
    ("my-flag", "user-123", 95),
]


@pytest.mark.parametrize(("flag", "key", "expected"), UNLEASH + CROSS_CHECK)
def test_published_buckets(flag: str, key: str, expected: int) -> None:
    assert bucket(flag, key) == expected
    assert in_rollout(flag, key, expected)
    assert not in_rollout(flag, key, expected - 1)


def test_unleash_specification_outcomes() -> None:
    # The specification's flags roll out at 10, 55 and 42 %: 174 is in, 499 (bucket 32) out.
    assert in_rollout("Feature.flexibleRollout.10", "174", 10)
    assert not in_rollout("Feature.flexibleRollout.10", "499", 10)
    assert in_rollout("Feature.flexibleRollout.userId.55", "25", 55)
    assert in_rollout("Feature.flexibleRollout.sessionId.42", "147", 42)


@pytest.mark.parametrize(
    ("key", "expected"),
    # flagd-testbed fractional-hash-edge-flag keys with known raw hashes (§2.2).
    [
        ("ejOoVL", 0),
        ("bY9fO-", 1),
        ("SI7p-", 0x7FFFFFFF),
        ("6LvT0", 0x80000000),
        ("ceQdGm", 0xFFFFFFFF),
    ],
)
def test_hash_is_unsigned_32_bit(key: str, expected: int) -> None:
    assert murmur3_32(key) == expected


def test_edges_of_the_scale() -> None:
    keys = [f"user-{i}" for i in range(500)]
    assert not any(in_rollout("f", k, 0) for k in keys)
    assert all(in_rollout("f", k, 100) for k in keys)
    assert in_rollout("f", "user-1", 99.5) == (bucket("f", "user-1") <= 99)


def test_non_ascii_keys_hash_their_utf8_bytes() -> None:
    assert bucket("flag", "zoë") == murmur3_32("flag:zoë") % 100 + 1
    assert murmur3_32("zoë") != murmur3_32("zoe")


def test_a_subject_without_a_targeting_key_stays_outside() -> None:
    assert not in_rollout("f", None, 100)


@pytest.mark.parametrize("bad", [-1, 100.5, math.nan, math.inf])
def test_percentage_outside_0_100_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        in_rollout("f", "k", bad)


percentages = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=300, derandomize=True)
@given(flag=st.text(max_size=20), key=st.text(max_size=20), low=percentages, high=percentages)
def test_raising_the_percentage_never_removes_a_subject(
    flag: str, key: str, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    assert 1 <= bucket(flag, key) <= 100
    if in_rollout(flag, key, low):
        assert in_rollout(flag, key, high)


@pytest.mark.parametrize("percentage", [5, 25, 50, 75])
def test_the_share_inside_is_close_to_the_percentage(percentage: int) -> None:
    # Deterministic keys, so this cannot flake; 20,000 subjects put the binomial standard
    # deviation at most 0.35 points, and the bound allows more than 4 of them.
    keys = [f"user-{i}" for i in range(20_000)]
    share = sum(in_rollout("new_checkout_flow", k, percentage) for k in keys) / len(keys)
    assert abs(share * 100 - percentage) < 1.5

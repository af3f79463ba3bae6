"""Flag and policy files that crashed the loader instead of getting an error at their line
(found in review; each test failed before its fix)."""

from __future__ import annotations

import pytest

from bot.flags.load import load_flag
from bot.policy.config import load_policy
from tests.flags.test_load import CHECKOUT

HUGE = "1" + "0" * 400  # an int Python holds but a float cannot


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("percentage: 25", f"percentage: {HUGE}", 8),  # decimal, under the digit limit
        ("percentage: 25", "percentage: 0x" + "f" * 300, 8),  # hex has no digit limit
        ("percentage: 25", "percentage: " + "59:" * 200 + "0", 8),  # sexagesimal
        ("every: 60m", "every: 99999999999999999999999d", 10),
        ("percentage: 25", "percentage: !!bool maybe", 8),
        ("percentage: 25", "percentage: !!timestamp someday", 8),
    ],
)
def test_absurd_values_are_errors_at_their_line_not_crashes(old, new, line):
    flag, problems = load_flag(CHECKOUT.replace(old.encode(), new.encode(), 1), "flags/f.yaml")
    assert flag is None
    assert [(p.path, p.line) for p in problems] == [("flags/f.yaml", line)]


def test_a_number_flag_with_a_huge_value_is_an_error_not_a_crash():
    text = f"name: N\ntype: number\ndefault: 1\nvalue: {HUGE}\n".encode()
    flag, problems = load_flag(text, "flags/f.yaml")
    assert flag is None and [p.line for p in problems] == [4]


def test_a_policy_with_a_huge_duration_is_an_error_not_a_crash():
    text = (
        b'roles: {manager: ["@acme/m"], qa: ["@acme/q"]}\n'
        b"approval: {remind_after: 99999999999999999999999d}\n"
    )
    _, problems = load_policy(text)
    assert [(p.line, p.is_error) for p in problems] == [(2, True)]


def test_a_valid_flag_never_breaks_the_rollout_schedule():
    """`every: 1000000d` loaded cleanly, then the rollout job (which plans every flag in one
    run) and `flagbot plan` died on `date value out of range`: one file halted all rollouts."""
    from datetime import UTC, datetime

    from bot.rollout.schedule import status

    text = CHECKOUT.replace(b"every: 60m", b"every: 1000000d")
    flag, problems = load_flag(text, "flags/f.yaml")
    if flag is not None:
        status(flag, None, datetime(2026, 1, 1, tzinfo=UTC))  # must not raise
    else:
        assert [p.line for p in problems] == [10]
        assert "at most" in problems[0].message


def test_an_approval_clock_the_bot_cannot_compute_is_refused():
    """`remind_after: 3000000d` was accepted, then every reconcile of a waiting pull request
    raised in `next_deadline` (first check + remind_after is past year 9999)."""
    text = (
        b'roles: {manager: ["@acme/m"], qa: ["@acme/q"]}\n'
        b"approval: {remind_after: 3000000d, expire_after: 3000001d}\n"
    )
    _, problems = load_policy(text)
    assert problems and all(p.line == 2 for p in problems)


BIG_HEX = "0x" + "f" * 4000  # more than Python's 4300-digit limit for int <-> str


@pytest.mark.parametrize(
    "text",
    [
        f"name: {BIG_HEX}\n",
        f"name: x\ntags: [{BIG_HEX}]\n",
        f"name: x\ntype: json\ndefault: {BIG_HEX}\nvalue: 1\n",  # was accepted
    ],
)
def test_an_integer_too_large_to_print_is_an_error_not_a_crash(text):
    """Hex and binary integers have no digit limit in PyYAML; messages (and check-run
    summaries, exports) then failed on `str()` of the number."""
    flag, problems = load_flag(text.encode(), "flags/f.yaml")
    assert flag is None and problems and all(p.is_error for p in problems)


def test_a_policy_with_an_integer_too_large_to_print_is_an_error_not_a_crash():
    _, problems = load_policy(f"roles: {BIG_HEX}\n".encode())
    assert [p.line for p in problems] == [1]


def test_a_plan_the_rollout_job_cannot_date_is_refused():
    """9,000 stages of 0.001 % a year apart loaded cleanly; the plan's end (`completes`) is
    past year 9999, so `status` raised and the rollout job stopped for every flag."""
    from datetime import UTC, datetime

    from bot.rollout.schedule import status

    stages = ", ".join(f"{i / 1000:.3f}" for i in range(1, 9001))
    text = (
        "name: x\nrollout:\n  percentage: 0.001\n"
        f"  stages: [{stages}]\n  every: 365d\n"
        "  stage_started: {percentage: 0.001, at: 2026-01-01T00:00:00Z}\n"
    ).encode()
    flag, problems = load_flag(text, "flags/f.yaml")
    if flag is not None:
        status(flag, None, datetime(2026, 6, 1, tzinfo=UTC))  # must not raise
    else:
        assert [(p.line, p.code) for p in problems] == [(4, "too-many-stages")]


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:00:00Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"]
)
def test_a_stage_start_the_rollout_job_cannot_date_is_refused(at):
    """The first loaded, then `status` raised (its next stage is past year 9999); the others
    raised in `load_flag` itself (converting them to UTC)."""
    from datetime import UTC, datetime

    from bot.rollout.schedule import status

    text = CHECKOUT.replace(b"2024-05-01T12:00:00+02:00", at.encode())
    flag, problems = load_flag(text, "flags/f.yaml")
    if flag is not None:
        status(flag, None, datetime(2026, 6, 1, tzinfo=UTC))  # must not raise
    else:
        assert [(p.line, p.code) for p in problems] == [(13, "bad-timestamp")]


@pytest.mark.parametrize("pattern", ["a{99999999999}", "(" * 2000 + ")" * 2000])
def test_a_regular_expression_python_cannot_compile_is_an_error_not_a_crash(pattern):
    """`re.compile` raises OverflowError for a huge repetition (and RecursionError for deep
    nesting), not `re.error`, and load_flag let it out."""
    text = (
        "name: x\nrules:\n  - {name: r, attribute: email, operator: matches, "
        f'values: ["{pattern}"], serve: true}}\n'
    ).encode()
    flag, problems = load_flag(text, "flags/f.yaml")
    assert flag is None and [(p.line, p.code) for p in problems] == [(3, "bad-regex")]

"""One run's decision per flag: fail → pause or roll back; inconclusive → hold; pass → bump
if due. No guard outcome can raise a percentage except a bump with every guard passing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.flags.guard import CheckGuard, Guard
from bot.flags.model import Flag, Rollout, StageStart
from bot.rollout.decide import GuardReport, Hold, Pause, decide, in_progress, previous_stage
from bot.rollout.schedule import Bump
from bot.rollout.verdict import Outcome

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
CHECK = CheckGuard("smoke")
STAGES = (5, 25, 50, 75, 100)


def flag(pct=25, *, since=NOW - timedelta(hours=2), on_failure="pause", **rollout) -> Flag:
    guard = Guard(on_failure, (CHECK,))
    r = Rollout(pct, STAGES, stage_started=StageStart(pct, since), guard=guard, **rollout)
    return Flag(key="f", environment="production", path="flags/f.yaml", name="F", rollout=r)


def report(f: Flag, verdict: str, value: str = "x") -> dict[str, GuardReport]:
    return {f.path: GuardReport(f.rollout.guard, (Outcome(CHECK, verdict, value, "success"),))}


def test_pass_and_due_bumps():
    f = flag()
    [action] = decide([f], {}, report(f, "pass"), NOW)
    assert isinstance(action, Bump) and (action.from_percentage, action.to_percentage) == (25, 50)


def test_pass_and_not_due_does_nothing():
    f = flag(since=NOW - timedelta(minutes=10))
    assert decide([f], {}, report(f, "pass"), NOW) == []


@pytest.mark.parametrize("since", [timedelta(hours=2), timedelta(minutes=10)])
def test_fail_pauses_whether_due_or_not(since):
    f = flag(since=NOW - since)
    [action] = decide([f], {}, report(f, "fail", "failure"), NOW)
    assert isinstance(action, Pause) and not action.rollback
    assert action.reason == "guard check 'smoke': failure, needs success"
    assert action.message() == (
        "rollout: f paused at 25% (guard check 'smoke': failure, needs success)"
    )


def test_fail_with_rollback_goes_back_one_stage():
    f = flag(50, on_failure="rollback")
    [action] = decide([f], {}, report(f, "fail"), NOW)
    assert isinstance(action, Pause) and action.rollback
    assert (action.from_percentage, action.to_percentage) == (50, 25)
    assert previous_stage(STAGES, 5) == 0


def test_inconclusive_holds_and_says_whether_a_bump_waits():
    due, waiting = flag(), flag(since=NOW - timedelta(minutes=10))
    [a] = decide([due], {}, report(due, "inconclusive", "pending"), NOW)
    [b] = decide([waiting], {}, report(waiting, "inconclusive", "pending"), NOW)
    assert isinstance(a, Hold) and a.due and isinstance(b, Hold) and not b.due
    assert "guard check 'smoke': pending" in a.reason


@pytest.mark.parametrize(
    "change",
    [
        {"paused": True},
        {"percentage": 100},
    ],
)
def test_paused_or_complete_flags_are_not_in_progress(change):
    f = flag()
    f = replace(f, rollout=replace(f.rollout, **change))
    assert not in_progress(f)
    assert decide([f], {}, report(f, "fail"), NOW) == []


def test_disabled_flags_are_not_in_progress():
    assert not in_progress(replace(flag(), enabled=False))


@given(
    pct=st.sampled_from(STAGES[:-1]),
    verdict=st.sampled_from(["inconclusive", "fail"]),
    on_failure=st.sampled_from(["pause", "rollback"]),
    minutes=st.integers(0, 600),
)
def test_trouble_never_increases_exposure(pct, verdict, on_failure, minutes):
    f = flag(pct, since=NOW - timedelta(minutes=minutes), on_failure=on_failure)
    for action in decide([f], {}, report(f, verdict), NOW):
        assert not isinstance(action, Bump)
        if isinstance(action, Pause):
            assert action.to_percentage <= pct

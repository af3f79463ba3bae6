"""The rollout schedule as a pure function: flags, when stages began, now → bumps."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.flags.model import Flag, Rollout, StageStart
from bot.rollout.schedule import Bump, due_bumps, needs_start_time, status

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PLAN = (5.0, 25.0, 50.0, 75.0, 100.0)


def flag(
    pct=5,
    *,
    stages=PLAN,
    every=HOUR,
    started=None,
    paused=False,
    enabled=True,
    status="active",
    key="new_checkout_flow",
    env="production",
):
    rollout = Rollout(
        percentage=pct,
        stages=stages,
        every=every,
        paused=paused,
        stage_started=StageStart(started[0], started[1]) if started else None,
    )
    path = f"flags/{key}.yaml" if env == "production" else f"flags/{env}/{key}.yaml"
    return Flag(
        key=key,
        environment=env,
        path=path,
        name=key,
        enabled=enabled,
        status=status,
        rollout=rollout,
    )


def bumps(f, now, merged_at=None):
    started = {f.path: merged_at} if merged_at else {}
    return due_bumps([f], started, now)


def test_nothing_moves_before_every_has_passed_since_the_merge():
    f = flag(5)
    assert needs_start_time(f)
    assert bumps(f, T0 + HOUR - timedelta(seconds=1), merged_at=T0) == []
    [b] = bumps(f, T0 + HOUR, merged_at=T0)
    assert b == Bump(
        "new_checkout_flow", "production", "flags/new_checkout_flow.yaml", 5, 25, "early", False
    )
    assert b.message() == "rollout: new_checkout_flow 5% → 25% (early)"


def test_recorded_stage_start_is_used_without_asking():
    f = flag(25, started=(25, T0))
    assert not needs_start_time(f)
    assert bumps(f, T0 + HOUR - timedelta(minutes=1)) == []
    [b] = bumps(f, T0 + HOUR)
    assert (b.to_percentage, b.stage) == (50, "half")
    assert b.message() == "rollout: new_checkout_flow 25% → 50% (half)"


def test_late_job_bumps_exactly_one_stage():
    f = flag(25, started=(25, T0))
    [b] = bumps(f, T0 + 3 * HOUR + timedelta(minutes=7))
    assert (b.from_percentage, b.to_percentage) == (25, 50)


def test_person_changed_percentage_restarts_clock_from_their_merge():
    # The job recorded 75 %, then a person rolled back to 25 % (merged at T0 + 5h).
    f = flag(25, started=(75, T0))
    assert needs_start_time(f)
    rollback_merge = T0 + 5 * HOUR
    assert bumps(f, rollback_merge + HOUR / 2, merged_at=rollback_merge) == []
    [b] = bumps(f, rollback_merge + HOUR, merged_at=rollback_merge)
    assert (b.from_percentage, b.to_percentage) == (25, 50)


def test_unknown_start_never_moves():
    assert bumps(flag(5), T0 + 100 * HOUR) == []
    assert status(flag(5), None, T0).state == "unknown-start"


@pytest.mark.parametrize(
    ("kw", "state"),
    [
        ({"paused": True}, "paused"),
        ({"enabled": False}, "disabled"),
        ({"status": "archived"}, "inactive"),
        ({"status": "inactive"}, "inactive"),
    ],
)
def test_paused_disabled_archived_do_not_move(kw, state):
    f = flag(25, started=(25, T0), **kw)
    assert bumps(f, T0 + 10 * HOUR) == []
    assert status(f, None, T0 + 10 * HOUR).state == state
    assert not needs_start_time(f)


def test_complete_rollout_does_not_move():
    f = flag(100, started=(100, T0))
    assert bumps(f, T0 + 10 * HOUR) == []
    assert status(f, None, T0).state == "complete"
    assert not needs_start_time(flag(100))


def test_final_bump_is_marked_final():
    [b] = bumps(flag(75, started=(75, T0)), T0 + HOUR)
    assert b.final and b.stage == "full"


def test_custom_stages_and_labels():
    stages = (1.0, 10.0, 33.0, 100.0)
    [b] = bumps(flag(10, stages=stages, started=(10, T0)), T0 + HOUR)
    assert (b.to_percentage, b.stage) == (33, "stage 3 of 4")
    [b] = bumps(flag(33, stages=stages, started=(33, T0)), T0 + HOUR)
    assert b.stage == "full" and b.final


def test_fractional_percentages_format_cleanly():
    stages = (0.5, 2.5, 100.0)
    [b] = bumps(flag(0.5, stages=stages, started=(0.5, T0)), T0 + HOUR)
    assert b.message() == "rollout: new_checkout_flow 0.5% → 2.5% (stage 2 of 3)"


def test_environment_appears_in_message_outside_default():
    [b] = bumps(flag(5, env="staging", key="beta", started=(5, T0)), T0 + HOUR)
    assert b.message() == "rollout: staging/beta 5% → 25% (early)"


def test_status_reports_next_due_and_completion():
    st = status(flag(25, started=(25, T0)), None, T0 + HOUR / 4)
    assert st.state == "waiting"
    assert st.next_percentage == 50 and st.next_due == T0 + HOUR
    # 50 at T0+1h, 75 at +2h, 100 at +3h.
    assert st.completes_at == T0 + 3 * HOUR


def test_status_when_overdue_counts_from_now():
    now = T0 + 10 * HOUR
    st = status(flag(25, started=(25, T0)), None, now)
    assert st.state == "due" and st.completes_at == now + 2 * HOUR


def test_walk_whole_plan_one_stage_per_run():
    f = flag(5)
    now = T0
    start = T0
    seen = []
    for _ in range(20):
        now += timedelta(minutes=15)
        bs = due_bumps([f], {f.path: start}, now)
        if bs:
            [b] = bs
            seen.append(b.to_percentage)
            f = flag(b.to_percentage, started=(b.to_percentage, now))
            start = now
    assert seen == [25, 50, 75, 100]

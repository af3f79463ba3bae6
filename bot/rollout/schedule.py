"""Which rollout stage is due: a pure function of the flags, when each stage began, and now.

A stage lasts at least `every` from when it took effect on the default branch: the bump commit
the job wrote (recorded in the file as `rollout.stage_started`), or the merge of the pull request
that set the percentage. When the file's percentage differs from what the job recorded, a person
changed it (a rollback, say) and the clock restarts from that merge, which only GitHub knows:
`needs_start_time` says for which flags the shell must ask (and `due_by_record` for which it
confirms a record, which a revert can bring back). A late job bumps one stage, never
skips; paused, disabled, inactive and archived flags do not move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.flags.model import STAGE_NAMES, Flag

State = Literal["due", "waiting", "complete", "paused", "disabled", "inactive", "unknown-start"]


@dataclass(frozen=True, slots=True)
class Bump:
    key: str
    environment: str
    path: str
    from_percentage: float
    to_percentage: float
    stage: str  # "half", or "stage 3 of 7" for custom plans
    final: bool

    def message(self, default_environment: str = "production") -> str:
        name = (
            self.key
            if self.environment == default_environment
            else (f"{self.environment}/{self.key}")
        )
        return (
            f"rollout: {name} {fmt_pct(self.from_percentage)}% → "
            f"{fmt_pct(self.to_percentage)}% ({self.stage})"
        )


@dataclass(frozen=True, slots=True)
class PlanStatus:
    flag: Flag
    state: State
    percentage: float
    stage_index: int  # index of the current percentage in the plan
    started_at: datetime | None
    next_percentage: float | None
    next_due: datetime | None
    completes_at: datetime | None


def fmt_pct(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else f"{p:g}"


def stage_label(stages: tuple[float, ...], index: int) -> str:
    if index < 0:
        return "not started"
    pct = stages[index]
    if float(pct).is_integer() and int(pct) in STAGE_NAMES:
        return STAGE_NAMES[int(pct)]
    return f"stage {index + 1} of {len(stages)}"


def has_plan(flag: Flag) -> bool:
    return flag.rollout is not None and bool(flag.rollout.stages)


def recorded_start(flag: Flag) -> datetime | None:
    """When the current stage began, if the job's own record still describes it."""
    r = flag.rollout
    if r is None or r.stage_started is None:
        return None
    return r.stage_started.at if r.stage_started.percentage == r.percentage else None


def needs_start_time(flag: Flag) -> bool:
    """Whether the shell must ask GitHub when the current percentage took effect."""
    return _movable(flag) is None and not _complete(flag) and recorded_start(flag) is None


def due_by_record(flag: Flag, now: datetime) -> bool:
    """The job's record says a bump is due. The shell asks the file's history first: a person
    may have changed it since (a revert of the job's bump restores the old record, and is a
    rollback all the same), and then the clock restarts from that change."""
    r, start = flag.rollout, recorded_start(flag)
    return (
        r is not None
        and start is not None
        and _movable(flag) is None
        and not _complete(flag)
        and now >= start + r.every
    )


def _complete(flag: Flag) -> bool:
    r = flag.rollout
    assert r is not None
    return r.percentage >= r.stages[-1]


def _movable(flag: Flag) -> State | None:
    """Why a flag with a plan cannot move, or None if it can."""
    r = flag.rollout
    assert r is not None
    if flag.status == "archived" or flag.status == "inactive":
        return "inactive"
    if not flag.enabled:
        return "disabled"
    if r.paused:
        return "paused"
    return None


def status(flag: Flag, started_at: datetime | None, now: datetime) -> PlanStatus:
    """Where a planned rollout stands. `started_at` is when the current stage took effect."""
    r = flag.rollout
    assert r is not None and r.stages, "status() is for flags with a staged plan"
    stages = r.stages
    index = _index(stages, r.percentage)
    # The later of the job's record and the file's last change on the branch, when both known.
    started_at = max(filter(None, (recorded_start(flag), started_at)), default=None)
    if _complete(flag):
        return PlanStatus(flag, "complete", r.percentage, index, started_at, None, None, started_at)
    nxt = next(p for p in stages if p > r.percentage)
    blocked = _movable(flag)
    if blocked is not None:
        return PlanStatus(flag, blocked, r.percentage, index, started_at, nxt, None, None)
    if started_at is None:
        return PlanStatus(flag, "unknown-start", r.percentage, index, None, nxt, None, None)
    due_at = started_at + r.every
    remaining = sum(1 for p in stages if p > r.percentage)
    # Each later stage waits `every` after the one before, counted from when it would begin.
    completes = max(due_at, now) + r.every * (remaining - 1)
    state: State = "due" if now >= due_at else "waiting"
    return PlanStatus(flag, state, r.percentage, index, started_at, nxt, due_at, completes)


def _index(stages: tuple[float, ...], pct: float) -> int:
    """Index of the stage the percentage is at (the last stage not above it)."""
    below = [i for i, p in enumerate(stages) if p <= pct]
    return below[-1] if below else -1


def due_bumps(flags: Iterable[Flag], started: Mapping[str, datetime], now: datetime) -> list[Bump]:
    """One bump per flag whose current stage has lasted `every`; never more than one stage."""
    bumps: list[Bump] = []
    for flag in flags:
        if not has_plan(flag):
            continue
        st = status(flag, started.get(flag.path), now)
        if st.state != "due" or st.next_percentage is None:
            continue
        r = flag.rollout
        assert r is not None
        to_index = r.stages.index(st.next_percentage)
        bumps.append(
            Bump(
                key=flag.key,
                environment=flag.environment,
                path=flag.path,
                from_percentage=r.percentage,
                to_percentage=st.next_percentage,
                stage=stage_label(r.stages, to_index),
                final=to_index == len(r.stages) - 1,
            )
        )
    return bumps

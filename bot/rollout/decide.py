"""What one run does to each flag in progress: a pure function of the flags, when their stages
began, their guards' outcomes, and now.

- a guard failed: pause there (`on_failure: pause`) or go back one stage and pause
  (`rollback`), whether or not a bump was due;
- a guard was inconclusive: hold; no bump even when one is due;
- every guard passed (or there are none): bump if due.
A guard's trouble never increases exposure: the only action that raises a percentage is a bump,
and it needs every guard to pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.flags.guard import Guard
from bot.flags.model import Flag
from bot.rollout.schedule import Bump, due_bumps, fmt_pct
from bot.rollout.verdict import Outcome, Verdict, overall


@dataclass(frozen=True, slots=True)
class GuardReport:
    guard: Guard
    outcomes: tuple[Outcome, ...]

    @property
    def verdict(self) -> Verdict:
        return overall(self.outcomes)

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == "fail"]

    def unsure(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == "inconclusive"]


@dataclass(frozen=True, slots=True)
class Pause:
    """A failed guard: pause at the current stage, or (rollback) at the previous one."""

    key: str
    environment: str
    path: str
    from_percentage: float
    to_percentage: float  # the same as from_percentage unless rolling back
    reason: str  # the failed guards with value and threshold

    @property
    def rollback(self) -> bool:
        return self.to_percentage != self.from_percentage

    def message(self, default_environment: str = "production") -> str:
        name = _name(self.key, self.environment, default_environment)
        if self.rollback:
            what = (
                f"rolled back {fmt_pct(self.from_percentage)}% → "
                f"{fmt_pct(self.to_percentage)}% and paused"
            )
        else:
            what = f"paused at {fmt_pct(self.from_percentage)}%"
        return f"rollout: {name} {what} ({self.reason})"


@dataclass(frozen=True, slots=True)
class Hold:
    """An inconclusive guard: nothing is written; `due` says whether a bump waits on it."""

    key: str
    environment: str
    path: str
    percentage: float
    due: bool
    reason: str

    def message(self, default_environment: str = "production") -> str:
        name = _name(self.key, self.environment, default_environment)
        waits = "bump held" if self.due else "held"
        return f"rollout: {name} {waits} at {fmt_pct(self.percentage)}% ({self.reason})"


Action = Bump | Pause | Hold


def _name(key: str, environment: str, default_environment: str) -> str:
    return key if environment == default_environment else f"{environment}/{key}"


def in_progress(flag: Flag) -> bool:
    """A plan that can still move: started or not, not complete, not paused or switched off."""
    r = flag.rollout
    if r is None or not r.stages or r.paused or not flag.enabled:
        return False
    return flag.status == "active" and r.percentage < r.stages[-1]


def guarded(flag: Flag) -> bool:
    return in_progress(flag) and bool(flag.rollout and flag.rollout.guard.checks)


def reason(outcomes: Iterable[Outcome]) -> str:
    return "; ".join(
        f"guard {o.title}: {o.value}, needs {o.threshold}"
        + (f" ({o.detail})" if o.detail and o.verdict == "inconclusive" else "")
        for o in outcomes
    )


def previous_stage(stages: tuple[float, ...], percentage: float) -> float:
    """One stage back; before the first stage is 0."""
    below = [p for p in stages if p < percentage]
    return below[-1] if below else 0


def decide(
    flags: Iterable[Flag],
    started: Mapping[str, datetime],
    guards: Mapping[str, GuardReport],
    now: datetime,
) -> list[Action]:
    """One action per flag that needs one, in the flags' order."""
    actions: list[Action] = []
    for flag in flags:
        if not in_progress(flag):
            continue
        r = flag.rollout
        assert r is not None
        report = guards.get(flag.path)
        verdict = report.verdict if report is not None else "pass"
        if verdict == "fail":
            assert report is not None
            to = r.percentage
            if report.guard.on_failure == "rollback":
                to = previous_stage(r.stages, r.percentage)
            actions.append(
                Pause(
                    flag.key, flag.environment, flag.path, r.percentage, to, reason(report.failed())
                )
            )
            continue
        bumps = due_bumps([flag], started, now)
        if verdict == "inconclusive":
            assert report is not None
            actions.append(
                Hold(
                    flag.key,
                    flag.environment,
                    flag.path,
                    r.percentage,
                    bool(bumps),
                    reason(report.unsure()),
                )
            )
        elif bumps:
            actions.append(bumps[0])
    return actions

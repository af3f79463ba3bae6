"""The flag as flagbot understands it, after loading and validation.

These are plain, immutable values: the policy, the rollout schedule and the bot all decide over
them. `raw` keeps the loaded mapping so change classification can diff field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from bot.flags.guard import NO_GUARD, Guard

FlagType = Literal["boolean", "string", "number", "json"]
FlagStatus = Literal["active", "inactive", "archived"]
Operator = Literal[
    "in", "not_in", "equals", "starts_with", "ends_with", "contains", "matches",
    "gt", "gte", "lt", "lte",
]  # fmt: skip
FLAG_TYPES: tuple[FlagType, ...] = get_args(FlagType)
FLAG_STATUSES: tuple[FlagStatus, ...] = get_args(FlagStatus)
OPERATORS: tuple[Operator, ...] = get_args(Operator)

# The seed's stage vocabulary (litestar-flags RolloutStage): name -> percentage.
STAGE_PERCENTAGES: dict[str, int] = {
    "initial": 5,
    "early": 25,
    "half": 50,
    "majority": 75,
    "full": 100,
}
STAGE_NAMES: dict[int, str] = {pct: name for name, pct in STAGE_PERCENTAGES.items()}
DEFAULT_STAGES: tuple[int, ...] = (5, 25, 50, 75, 100)
DEFAULT_EVERY = timedelta(minutes=60)
MIN_EVERY = timedelta(minutes=5)
# Longer waits are typos, and dates computed from them (the next stage, the end of a plan, the
# approval clock) would run past year 9999 and stop the rollout job for every flag.
MAX_EVERY = timedelta(days=365)
MAX_STAGES = 100  # so is a plan's end: at most 100 waits of MAX_EVERY
DEFAULT_ENVIRONMENT = "production"


@dataclass(frozen=True, slots=True)
class StageStart:
    """What the rollout job writes: the percentage it set and when that stage began."""

    percentage: float
    at: datetime


@dataclass(frozen=True, slots=True)
class Rollout:
    percentage: float
    stages: tuple[float, ...] = ()
    every: timedelta = DEFAULT_EVERY
    paused: bool = False
    stage_started: StageStart | None = None
    guard: Guard = NO_GUARD  # the file's, else flagbot.yml's default
    paused_reason: str | None = None  # why the job paused it (a guard), for people to read

    @property
    def has_plan(self) -> bool:
        return bool(self.stages)


@dataclass(frozen=True, slots=True)
class TargetingRule:
    """Subjects whose `attribute` passes `operator` against `values` get `serve`.

    `in`: the attribute is one of `values`; `not_in`: none of them; `equals`, `gt`, `gte`,
    `lt`, `lte`: compared with the single value; `starts_with`, `ends_with`, `contains`,
    `matches` (a regular expression, searched): any of `values`. Rules are tried in order and
    the first match wins; subjects no rule matches fall to the rollout percentage.
    """

    name: str
    attribute: str
    operator: Operator
    values: tuple[Any, ...]
    serve: Any


@dataclass(frozen=True, slots=True)
class Flag:
    key: str
    environment: str
    path: str
    name: str
    type: FlagType = "boolean"
    status: FlagStatus = "active"
    enabled: bool = True
    default: Any = False
    value: Any = True
    description: str = ""
    tags: tuple[str, ...] = ()
    rules: tuple[TargetingRule, ...] = ()
    rollout: Rollout | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

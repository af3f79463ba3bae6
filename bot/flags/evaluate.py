"""What one subject gets from one flag, and why: the reference semantics of a flag file.

Every reader of flagbot's flags (`flagbot eval`, the flagd and Unleash exports, the demo's
application) is held to this module. The order is fixed:

1. `enabled: false` (the kill switch), `status: inactive` or `archived`: everyone gets
   `default`.
2. Targeting rules, in file order; the first that matches serves its `serve`.
3. The rollout: a subject whose bucket is at most `percentage` gets `value` (SPEC §2).
4. Everyone else gets `default`. A flag without `rollout` serves `value` to everyone.

Attributes are compared as text for `in`, `not_in`, `equals` and the string operators (a number
or boolean in `values` matches its text form: 1 matches "1", true matches "true"), and as
numbers for `gt`, `gte`, `lt` and `lte` (an attribute that is not a number never matches). A
subject without the attribute matches no rule except `not_in` (it is in none of the values),
which is also what Unleash and flagd's JSONLogic do.

The percentage (SPEC §2): a subject with targeting key `k` is inside the rollout of flag `key`
when `murmur3_x86_32(f"{key}:{k}", seed=0) % 100 + 1 <= percentage`, the hash unsigned over the
UTF-8 bytes: litestar-flags' rule bucketing and Unleash's gradual rollout with the flag key as
group id. Each subject has one fixed bucket per flag, so raising the percentage only adds
subjects and lowering it removes the most recently added first. A subject without a targeting
key cannot be placed stably and stays outside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import mmh3

from bot.flags.model import Flag, Operator, TargetingRule

Reason = Literal["disabled", "inactive", "archived", "rule", "rollout", "default", "static"]


def murmur3_32(text: str) -> int:
    """MurmurHash3 x86 32-bit of the UTF-8 bytes, seed 0, as an unsigned integer."""
    return mmh3.hash(text.encode("utf-8"), 0, signed=False)


def bucket(flag_key: str, targeting_key: str) -> int:
    """The subject's bucket for this flag, 1..100."""
    return murmur3_32(f"{flag_key}:{targeting_key}") % 100 + 1


def in_rollout(flag_key: str, targeting_key: str | None, percentage: float) -> bool:
    """Whether the subject gets the flag's `value`. 0 % is nobody, 100 % everybody."""
    if math.isnan(percentage) or not 0 <= percentage <= 100:
        raise ValueError(f"percentage must be between 0 and 100, got {percentage}")
    if targeting_key is None:
        return False
    return bucket(flag_key, targeting_key) <= percentage


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The value served and why. `rule` is the 1-based number of the matching rule; `bucket`
    is the subject's bucket whenever a partial rollout decided."""

    key: str
    value: Any
    reason: Reason
    rule: int | None = None
    rule_name: str | None = None
    bucket: int | None = None
    percentage: float | None = None

    def explain(self) -> str:
        """One line for people, e.g. `bucket 17 <= 25 %: value`."""
        if self.reason == "disabled":
            return "kill switch (enabled: false): everyone gets default"
        if self.reason in ("inactive", "archived"):
            return f"status {self.reason}: everyone gets default"
        if self.reason == "rule":
            return f"rule {self.rule} ({self.rule_name}) matched"
        if self.reason == "static":
            return "no rollout: everyone gets value"
        pct = _pct(self.percentage)
        if self.bucket is None:
            if self.percentage in (0, 100):
                served = "value" if self.percentage else "default"
                return f"rollout at {pct} %: everyone gets {served}"
            return f"no targeting key: outside the {pct} % rollout"
        sign = "<=" if self.reason == "rollout" else ">"
        return f"bucket {self.bucket} {sign} {pct} %"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "reason": self.reason,
            "rule": self.rule,
            "rule_name": self.rule_name,
            "bucket": self.bucket,
            "percentage": self.percentage,
        }


def _pct(p: float | None) -> str:
    return "-" if p is None else (str(int(p)) if float(p).is_integer() else str(p))


def evaluate(
    flag: Flag, targeting_key: str | None = None, context: Mapping[str, Any] | None = None
) -> Evaluation:
    """The value `flag` serves to the subject with this targeting key and attributes."""
    key = flag.key
    if not flag.enabled:
        return Evaluation(key, flag.default, "disabled")
    if flag.status != "active":
        return Evaluation(key, flag.default, flag.status)
    attrs = context or {}
    for number, rule in enumerate(flag.rules, 1):
        if rule_matches(rule, attrs):
            return Evaluation(key, rule.serve, "rule", number, rule.name)
    rollout = flag.rollout
    if rollout is None:
        return Evaluation(key, flag.value, "static")
    p = rollout.percentage
    if p >= 100:
        return Evaluation(key, flag.value, "rollout", percentage=p)
    if p <= 0 or targeting_key is None:
        return Evaluation(key, flag.default, "default", percentage=p)
    b = bucket(key, targeting_key)
    inside = b <= p
    return Evaluation(
        key, flag.value if inside else flag.default, "rollout" if inside else "default",
        bucket=b, percentage=p,
    )  # fmt: skip


def text(value: Any) -> str:
    """An attribute or rule value as the text rules compare: true/false, 1 for 1.0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    return str(value)


def number(value: Any) -> float | None:
    """An attribute as a number, or None when it is not one (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        parsed = float(str(value).strip())
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _texts(values: tuple[Any, ...]) -> list[str]:
    return [text(v) for v in values]


_TEXT_TESTS: dict[str, Callable[[str, tuple[Any, ...]], bool]] = {
    "in": lambda a, vs: a in _texts(vs),
    "equals": lambda a, vs: a == text(vs[0]),
    "starts_with": lambda a, vs: any(a.startswith(text(v)) for v in vs),
    "ends_with": lambda a, vs: any(a.endswith(text(v)) for v in vs),
    "contains": lambda a, vs: any(text(v) in a for v in vs),
    "matches": lambda a, vs: any(_regex(text(v)).search(a) for v in vs),
}
_NUMBER_TESTS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, v: a > v,
    "gte": lambda a, v: a >= v,
    "lt": lambda a, v: a < v,
    "lte": lambda a, v: a <= v,
}


def rule_matches(rule: TargetingRule, context: Mapping[str, Any]) -> bool:
    """Whether the subject's attributes pass the rule (see the module docstring)."""
    op: Operator = rule.operator
    raw = context.get(rule.attribute)
    if op == "not_in":
        return raw is None or text(raw) not in _texts(rule.values)
    if raw is None:
        return False
    if op in _NUMBER_TESTS:
        got, want = number(raw), number(rule.values[0])
        return got is not None and want is not None and _NUMBER_TESTS[op](got, want)
    return _TEXT_TESTS[op](text(raw), rule.values)

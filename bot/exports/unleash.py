"""flagbot flags -> Unleash client-features (format version 2), exact to the bucket.

Unleash's gradual rollout (`flexibleRollout`, `groupId` = the flag key) buckets subjects with
the same murmur3 `"<key>:<subject>" % 100 + 1` as flagbot, so an Unleash SDK gives every
subject exactly what `flagbot eval` gives. The subject's targeting key is Unleash's `userId`
(stickiness `userId`, not `default`: without a user id, `default` would fall back to a session
id or a random bucket, while flagbot keeps a subject without a targeting key outside); rule
attributes are context properties of the same name, as strings.

- Boolean flags are read with `is_enabled`: strategies cover exactly the subjects that get
  `true`. A rule's strategy carries the earlier rules' constraints inverted, because Unleash
  enables a flag when any strategy does.
- Other types are read with `get_variant`: one strategy per rule, then the rollout, then a
  catch-all, each with one variant whose payload is the value; Unleash takes the variant of
  the first strategy that matches, which is flagbot's first-match order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from bot.flags.evaluate import text
from bot.flags.model import Flag, TargetingRule
from bot.yamlsafe import Path

TARGET = "unleash"
SUFFIX = ".unleash.json"
STICKINESS = "userId"

_OPERATORS = {
    "in": "IN",
    "equals": "IN",
    "not_in": "NOT_IN",
    "starts_with": "STR_STARTS_WITH",
    "ends_with": "STR_ENDS_WITH",
    "contains": "STR_CONTAINS",
    "gt": "NUM_GT",
    "gte": "NUM_GTE",
    "lt": "NUM_LT",
    "lte": "NUM_LTE",
}
_PAYLOAD_TYPES = {"string": "string", "number": "number", "json": "json"}
# Context fields Unleash fills itself (SDK settings, the clock, the stickiness id): a rule on
# an attribute of that name would not see the subject's property.
RESERVED_FIELDS = ("userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime")


def unsupported(flag: Flag) -> list[tuple[Path, str]]:
    """What Unleash cannot express in this flag: (field, why) pairs."""
    problems: list[tuple[Path, str]] = []
    for i, rule in enumerate(flag.rules):
        if rule.attribute in RESERVED_FIELDS:
            problems.append(
                (
                    ("rules", i, "attribute"),
                    f"rule {rule.name!r}: Unleash fills `{rule.attribute}` itself, so the "
                    "subject's attribute would not be tested; use another attribute name",
                )
            )
        if rule.operator not in _OPERATORS:
            problems.append(
                (
                    ("rules", i, "operator"),
                    f"rule {rule.name!r}: Unleash has no regular expressions (operator "
                    "matches); use starts_with, ends_with, contains or in, or drop unleash "
                    "from exports",
                )
            )
    rollout = flag.rollout
    if (
        flag.type == "boolean"
        and flag.enabled
        and flag.status == "active"
        and rollout is not None
        and 0 < rollout.percentage < 100
        and flag.default is True
        and flag.value is False
    ):
        problems.append(
            (
                ("rollout", "percentage"),
                "Unleash cannot turn a boolean flag off for part of its users: with default "
                "true and value false, swap them (default false, value true) and use "
                f"{100 - rollout.percentage:g} %",
            )
        )
    return problems


def constraint(rule: TargetingRule, *, inverted: bool = False) -> dict[str, Any]:
    op = _OPERATORS[rule.operator]
    c: dict[str, Any] = {
        "contextName": rule.attribute,
        "operator": op,
        "caseInsensitive": False,
        "inverted": inverted,
    }
    if op.startswith("NUM_"):
        c["value"] = text(rule.values[0])
        c["values"] = []
    else:
        c["values"] = [text(v) for v in rule.values]
    return c


def _strategy(
    constraints: list[dict[str, Any]], percentage: float | None, key: str
) -> dict[str, Any]:
    """`default` (everyone the constraints let through) or a `flexibleRollout`.

    Unleash reads `rollout` as a whole number (12.5 would serve nobody); buckets are whole
    numbers too, so bucket <= 12.5 is bucket <= 12: the floor is exact."""
    if percentage is None:
        return {"name": "default", "parameters": {}, "constraints": constraints}
    return {
        "name": "flexibleRollout",
        "parameters": {
            "rollout": str(math.floor(percentage)),
            "stickiness": STICKINESS,
            "groupId": key,
        },
        "constraints": constraints,
    }


def _payload(flag: Flag, value: Any) -> dict[str, Any]:
    kind = _PAYLOAD_TYPES[flag.type]
    if kind == "number":  # int or finite float (the loader refuses NaN): JSON's spelling
        return {"type": kind, "value": str(value) if isinstance(value, int) else repr(value)}
    return {"type": kind, "value": value if kind == "string" else json.dumps(value)}


def _with_variant(strategy: dict[str, Any], flag: Flag, name: str, value: Any) -> dict[str, Any]:
    variant = {
        "name": name,
        "weight": 1000,
        "weightType": "fix",
        "stickiness": "default",  # one variant: every subject gets it, with a user id or not
        "payload": _payload(flag, value),
    }
    return {**strategy, "variants": [variant]}


def _partial(flag: Flag) -> float | None:
    """The rollout percentage when it is strictly between 0 and 100, else None."""
    rollout = flag.rollout
    if rollout is not None and 0 < rollout.percentage < 100:
        return rollout.percentage
    return None


def _unruled(flag: Flag) -> bool:
    """What a subject no rule matches gets when the rollout is static (0 %, 100 %, none)."""
    rollout = flag.rollout
    return flag.default if rollout is not None and rollout.percentage <= 0 else flag.value


def _boolean_strategies(flag: Flag) -> list[dict[str, Any]]:
    """Strategies enabling exactly the subjects that get true."""
    key = flag.key
    if not flag.enabled or flag.status != "active":
        return [_strategy([], None, key)] if flag.default is True else []
    out = []
    before: list[dict[str, Any]] = []
    for rule in flag.rules:
        if rule.serve is True:
            out.append(_strategy([*before, constraint(rule)], None, key))
        before.append(constraint(rule, inverted=True))
    partial = _partial(flag)
    if partial is None:
        if _unruled(flag) is True:
            out.append(_strategy(before, None, key))
    elif flag.default is True:  # both true (false/true-with-partial is refused)
        out.append(_strategy(before, None, key))
    elif flag.value is True:
        out.append(_strategy(before, partial, key))
    return out


def _variant_strategies(flag: Flag) -> list[dict[str, Any]]:
    """One strategy per outcome in flagbot's order, each with the value as its variant."""
    key = flag.key
    if not flag.enabled or flag.status != "active":
        return [_with_variant(_strategy([], None, key), flag, "default", flag.default)]
    out = [
        _with_variant(_strategy([constraint(rule)], None, key), flag, f"rule-{n}", rule.serve)
        for n, rule in enumerate(flag.rules, 1)
    ]
    partial = _partial(flag)
    if partial is not None:
        out.append(_with_variant(_strategy([], partial, key), flag, "value", flag.value))
        out.append(_with_variant(_strategy([], None, key), flag, "default", flag.default))
    elif flag.rollout is not None and flag.rollout.percentage <= 0:
        out.append(_with_variant(_strategy([], None, key), flag, "default", flag.default))
    else:
        out.append(_with_variant(_strategy([], None, key), flag, "value", flag.value))
    return out


def feature(flag: Flag) -> dict[str, Any]:
    strategies = _boolean_strategies(flag) if flag.type == "boolean" else _variant_strategies(flag)
    return {
        "name": flag.key,
        "description": flag.name,
        "type": "release",
        "enabled": bool(strategies),
        "stale": flag.status == "archived",
        "impressionData": False,
        "strategies": strategies,
        "variants": [],
    }


def document(flags: Iterable[Flag], *, flag_set_id: str, version: str | None) -> dict[str, Any]:
    """Client-features for one environment's flags (checked with `unsupported` first)."""
    meta = {"flagSetId": flag_set_id, **({"version": version} if version else {})}
    return {
        "version": 2,
        "features": [feature(f) for f in sorted(flags, key=lambda f: f.key)],
        "query": {"environment": flag_set_id.rpartition(":")[2]},
        "meta": meta,
    }


def served(flag_type: str, variant: Mapping[str, Any], enabled: bool) -> Any:
    """What an application reading this export gets: `is_enabled` for booleans, else the
    variant's payload decoded (string as is, number and json parsed)."""
    if flag_type == "boolean":
        return enabled
    payload = variant.get("payload") or {}
    if payload.get("type") == "string":
        return payload.get("value")
    return json.loads(payload["value"])

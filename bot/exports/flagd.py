"""flagbot flags -> a flagd flag-definition file (OpenFeature's flagd and in-process providers).

One file per environment, valid against flagd's `flags.json` schema:

- Every flag is `ENABLED`: flagd's `DISABLED` makes applications fall back to the default in
  their code, so a kill-switched, inactive or archived flag is a static `default` instead.
- Variants are `default`, `value` and `rule-N` for a rule serving anything else;
  `defaultVariant` is what no rule and no rollout decides.
- Rules become one JSONLogic `if` chain in file order. Attributes are compared as text (the
  application passes them as strings); numeric operators guard against a missing attribute,
  which JSONLogic would read as 0.
- A partial rollout is `fractional` with `value` first at a fixed scale (100,000), so raising
  the percentage only adds subjects; 0 % and 100 % are static. flagd hashes with its own
  algorithm (`murmur3(flagKey + targetingKey)` in the flagd daemon, a CBOR encoding in the
  Python provider 0.6): the share is right, the subjects are not flagbot's. Use the Unleash export
  where the same subjects matter.

flagd has no regular expressions (`matches`), its object flags hold JSON objects only, and
JSONLogic reads an attribute name with dots as a path into nested attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.flags.evaluate import text
from bot.flags.model import Flag, TargetingRule
from bot.yamlsafe import Path

TARGET = "flagd"
SUFFIX = ".flagd.json"
SCHEMA = "https://flagd.dev/schema/v0/flags.json"
SCALE = 100_000  # fractional weights per 100 %: 0.001 % steps, integers as flagd requires


def unsupported(flag: Flag) -> list[tuple[Path, str]]:
    """What flagd cannot express in this flag: (field, why) pairs."""
    problems: list[tuple[Path, str]] = []
    for i, rule in enumerate(flag.rules):
        if rule.attribute == "targetingKey" or rule.attribute.startswith("$flagd"):
            problems.append(
                (
                    ("rules", i, "attribute"),
                    f"rule {rule.name!r}: flagd fills `{rule.attribute}` itself, so the "
                    "subject's attribute would not be tested; use another attribute name",
                )
            )
        elif "." in rule.attribute:
            problems.append(
                (
                    ("rules", i, "attribute"),
                    f"rule {rule.name!r}: flagd reads `{rule.attribute}` as a path into nested "
                    "attributes (JSONLogic's var), not as one attribute; use a name without dots",
                )
            )
        if rule.operator == "matches":
            problems.append(
                (
                    ("rules", i, "operator"),
                    f"rule {rule.name!r}: flagd has no regular expressions (operator matches); "
                    "use starts_with, ends_with, contains or in, or drop flagd from exports",
                )
            )
    if flag.type == "json":
        served = [("default", flag.default), ("value", flag.value)]
        served += [(("rules", i, "serve"), r.serve) for i, r in enumerate(flag.rules)]
        for where, value in served:
            if not isinstance(value, dict):
                at: Path = (where,) if isinstance(where, str) else where
                problems.append(
                    (at, "flagd's object flags hold JSON objects only; make it a mapping")
                )
    return problems


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: True is not 1, and 1 is not 1.0 (flagd would serve either)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _var(rule: TargetingRule) -> dict[str, Any]:
    return {"var": rule.attribute}


def _any(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"or": tests}


_NUMERIC = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def condition(rule: TargetingRule) -> dict[str, Any]:
    """The rule as a JSONLogic condition (the operators `unsupported` lets through)."""
    op, var = rule.operator, _var(rule)
    values = [text(v) for v in rule.values]
    if op in ("in", "equals"):
        return {"in": [var, values]}
    if op == "not_in":
        return {"!": {"in": [var, values]}}
    if op in ("starts_with", "ends_with"):
        return _any([{op: [var, v]} for v in values])
    if op == "contains":
        return _any([{"in": [v, var]} for v in values])
    if op in _NUMERIC:
        number = rule.values[0]
        return {"and": [{"!=": [var, None]}, {_NUMERIC[op]: [var, number]}]}
    raise ValueError(f"flagd cannot express operator {op}")


def flag_definition(flag: Flag) -> dict[str, Any]:
    """One flag's flagd definition."""
    metadata = {"name": flag.name, "type": flag.type}
    if not flag.enabled or flag.status != "active":
        return {
            "state": "ENABLED",
            "variants": {"default": flag.default},
            "defaultVariant": "default",
            "metadata": metadata,
        }
    variants: dict[str, Any] = {"default": flag.default, "value": flag.value}
    rollout = flag.rollout
    percentage = 100.0 if rollout is None else rollout.percentage
    weight = round(percentage * SCALE / 100)
    last: Any
    if weight >= SCALE:
        last = "value"
    elif weight <= 0:
        last = "default"
    else:
        last = {"fractional": [["value", weight], ["default", SCALE - weight]]}
    chain: list[Any] = []
    for number, rule in enumerate(flag.rules, 1):
        name = next((n for n, v in variants.items() if _same(v, rule.serve)), None)
        if name is None:
            name = f"rule-{number}"
            variants[name] = rule.serve
        chain += [condition(rule), name]
    definition: dict[str, Any] = {"state": "ENABLED", "variants": variants}
    if isinstance(last, str) and not chain:
        definition["defaultVariant"] = last
    else:
        definition["defaultVariant"] = "default"
        definition["targeting"] = {"if": [*chain, last]} if chain else last
    definition["metadata"] = metadata
    return definition


def document(flags: Iterable[Flag], *, flag_set_id: str, version: str | None) -> dict[str, Any]:
    """The flagd file for one environment's flags (checked with `unsupported` first)."""
    metadata = {"flagSetId": flag_set_id}
    if version:
        metadata["version"] = version
    return {
        "$schema": SCHEMA,
        "metadata": metadata,
        "flags": {f.key: flag_definition(f) for f in sorted(flags, key=lambda f: f.key)},
    }

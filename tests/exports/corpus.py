"""A generated corpus of flags for checking the exports against the real flagd and Unleash
evaluators: every type, every operator a target supports, kill switches, inactive and
archived flags, and rollouts at 0 %, partial and 100 %; plus subjects that hit every rule,
miss them, or lack the attribute."""

from __future__ import annotations

import itertools
import json
from typing import Any

import yaml

from bot.exports.flagset import FlagSet

# operator -> (values, an attribute value matching, one not matching)
OPERATOR_CASES: dict[str, tuple[list[Any], str, str]] = {
    "in": (["NL", "BE", 7], "BE", "DE"),
    "not_in": (["NL", "BE"], "DE", "NL"),
    "equals": (["gold"], "gold", "silver"),
    "starts_with": (["beta-", "alpha-"], "alpha-7", "gamma-7"),
    "ends_with": (["@acme.example"], "ann@acme.example", "ann@example.org"),
    "contains": (["vip"], "a-vip-user", "regular"),
    "gt": ([10], "11", "10"),
    "gte": ([10], "10", "9.5"),
    "lt": ([3], "2", "3"),
    "lte": ([3], "3", "4"),
}
# type -> (default, value, a third value rules serve)
TYPE_VALUES: dict[str, tuple[Any, Any, Any]] = {
    "boolean": (False, True, True),
    "string": ("old", "new", "staff"),
    "number": (0, 2.5, 7),
    "json": ({"layout": "old"}, {"layout": "new", "cols": 2}, {"layout": "staff"}),
}
PARTIAL = (5, 25, 50, 75, 0.5, 12.5, 99.9)


def _flag(type_: str, **fields: Any) -> dict[str, Any]:
    default, value, _ = TYPE_VALUES[type_]
    return {"name": "generated", "type": type_, "default": default, "value": value, **fields}


def corpus_files() -> dict[str, dict[str, Any]]:
    """Flag key -> flag file content, all in the default environment."""
    files: dict[str, dict[str, Any]] = {}
    for type_ in TYPE_VALUES:
        default, _value, third = TYPE_VALUES[type_]
        t = type_[:4]
        files[f"{t}-static"] = _flag(type_)
        files[f"{t}-killed"] = _flag(type_, enabled=False, rollout={"percentage": 50})
        files[f"{t}-inactive"] = _flag(type_, status="inactive", rollout={"percentage": 100})
        files[f"{t}-archived"] = _flag(type_, status="archived")
        for pct in (0, *PARTIAL, 100):
            name = str(pct).replace(".", "_")
            files[f"{t}-pct{name}"] = _flag(type_, rollout={"percentage": pct})
        for op, (values, _, _) in OPERATOR_CASES.items():
            serve = third if type_ != "boolean" else True
            rules = [{"name": op, "attribute": "attr", "operator": op, "values": values,
                      "serve": serve}]  # fmt: skip
            files[f"{t}-rule-{op}"] = _flag(type_, rules=rules, rollout={"percentage": 0})
        # two rules in order, the first serving default: first match wins over the second
        chain = [
            {"name": "blocked", "attribute": "country", "operator": "in", "values": ["XX"],
             "serve": default},
            {"name": "staff", "attribute": "email", "operator": "ends_with",
             "values": ["@acme.example"], "serve": third},
        ]  # fmt: skip
        for pct in (0, 25, 100):
            files[f"{t}-chain{pct}"] = _flag(type_, rules=chain, rollout={"percentage": pct})
    # a boolean whose default is true: rules serving false, everyone else true
    files["bool-inverse"] = {
        "name": "generated", "default": True, "value": True,
        "rules": [{"name": "off-for-xx", "attribute": "country", "operator": "in",
                   "values": ["XX"], "serve": False}],
    }  # fmt: skip
    return files


def corpus_snapshot() -> dict[str, bytes]:
    return {
        f"flags/{key}.yaml": yaml.safe_dump(body, sort_keys=False).encode()
        for key, body in corpus_files().items()
    }


def corpus_flagset() -> FlagSet:
    flagset = FlagSet.from_snapshot(corpus_snapshot(), repo="acme/flags", commit="c0ffee")
    assert not flagset.diagnostics, flagset.diagnostics
    return flagset


def contexts() -> list[tuple[str | None, dict[str, str]]]:
    """(targeting key, attributes): every rule's match and miss, missing attributes, no key."""
    attrs: list[dict[str, str]] = [{}]
    for _, (_, hit, miss) in OPERATOR_CASES.items():
        attrs += [{"attr": hit}, {"attr": miss}]
    attrs += [{"attr": "7"}, {"attr": "not-a-number"}, {"attr": ""}]
    attrs += [
        {"country": "XX", "email": "bo@acme.example"},
        {"country": "NL", "email": "bo@acme.example"},
        {"country": "XX"},
        {"email": "eve@example.org"},
    ]
    keys: list[str | None] = [None, "user-1", "user-2", "user-17", "user-42"]
    return list(itertools.product(keys, attrs))


def key_of(context: tuple[str | None, dict[str, str]]) -> str:
    return json.dumps(context, sort_keys=True)

"""A flag file's bytes and repository path -> `Flag`, or the problems, each at its line.

The rules are SPEC §2. Field names and choices are the constants below; the JSON Schema beside
this module spells the same ones, and a test keeps the two in step.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, timedelta
from typing import Any

from bot.diagnostics import Diagnostic
from bot.flags.guard import NO_GUARD, Guard, read_guard
from bot.flags.location import FlagLocation, locate
from bot.flags.model import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_EVERY,
    FLAG_STATUSES,
    FLAG_TYPES,
    OPERATORS,
    Flag,
    Rollout,
    StageStart,
    TargetingRule,
)
from bot.flags.plan import read_every, read_stages
from bot.yamlfields import MISSING, Fields, label
from bot.yamlsafe import Path, describe, load_mapping

FLAG_FIELDS = (
    "name", "description", "type", "status", "enabled", "default", "value", "tags", "rules",
    "rollout",
)  # fmt: skip
ROLLOUT_FIELDS = (
    "percentage", "stages", "every", "paused", "paused_reason", "guard", "stage_started",
)  # fmt: skip
STAGE_STARTED_FIELDS = ("percentage", "at")
RULE_FIELDS = ("name", "attribute", "operator", "values", "serve")
SINGLE_VALUE_OPERATORS = ("equals", "gt", "gte", "lt", "lte")
NUMBER_OPERATORS = ("gt", "gte", "lt", "lte")
TEXT_OPERATORS = ("starts_with", "ends_with", "contains", "matches")
BOOLEAN_DEFAULTS = {"default": False, "value": True}
MAX_FLAG_BYTES = 256 * 1024

_ROLE_OF = {
    "default": "what users outside the rollout, and everyone while the flag is disabled, get",
    "value": "what users inside the rollout get",
}


def load_flag(
    data: bytes,
    path: str,
    *,
    default_environment: str = DEFAULT_ENVIRONMENT,
    default_every: timedelta = DEFAULT_EVERY,
    default_guard: Guard = NO_GUARD,
) -> tuple[Flag | None, list[Diagnostic]]:
    """Read one flag file. The Flag is None whenever there is an error.

    `default_environment` places files directly in `flags/`; `default_every` is the wait
    between stages and `default_guard` the rollout guard when the file does not say (all
    come from `flagbot.yml`).
    """
    location, problems = locate(path, default_environment)
    doc, load_problems = load_mapping(data, path, kind="flag file", max_bytes=MAX_FLAG_BYTES)
    if doc is None:
        return None, problems + load_problems
    fields = Fields(doc)
    flag = _FlagReader(fields, default_every, default_guard).read(doc.data, location)
    problems += fields.diagnostics
    return (None if problems else flag), problems


class _FlagReader:
    __slots__ = ("default_every", "default_guard", "f")

    def __init__(self, fields: Fields, default_every: timedelta, default_guard: Guard) -> None:
        self.f = fields
        self.default_every = default_every
        self.default_guard = default_guard

    def read(self, m: dict[Any, Any], location: FlagLocation | None) -> Flag | None:
        f = self.f
        f.known_keys(m, (), FLAG_FIELDS)
        name = m.get("name", MISSING)
        if name is MISSING:
            f.error(
                (),
                "a flag needs a name: add `name: <what people call it>`",
                "missing-field",
                key=True,
            )
        else:
            name = f.string(name, ("name",))
        description = m.get("description", "")
        if description is not None:
            description = f.string(description, ("description",), nonempty=False)
        flag_type = f.choice(m.get("type", "boolean"), ("type",), FLAG_TYPES)
        status = f.choice(m.get("status", "active"), ("status",), FLAG_STATUSES)
        enabled = f.boolean(m.get("enabled", True), ("enabled",))
        values = {part: self.served(m, part, flag_type) for part in ("default", "value")}
        tags = self.tags(m.get("tags", []))
        rules = self.rules(m.get("rules", []), flag_type)
        rollout = self.rollout(m["rollout"]) if "rollout" in m else None
        if location is None or not f.ok:
            return None
        return Flag(
            key=location.key,
            environment=location.environment,
            path=location.path,
            name=name,  # type: ignore[arg-type]
            type=flag_type,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            enabled=enabled,  # type: ignore[arg-type]
            default=values["default"],
            value=values["value"],
            description=description or "",
            tags=tags or (),
            rules=rules or (),
            rollout=rollout,
            raw=m,
        )

    # -- what users get ---------------------------------------------------------------------

    def served(self, m: dict[Any, Any], part: str, flag_type: str | None) -> Any:
        if part not in m:
            if flag_type == "boolean":
                return BOOLEAN_DEFAULTS[part]
            if flag_type is not None:
                self.f.error(
                    (),
                    f"a {flag_type} flag needs `{part}:` ({_ROLE_OF[part]})",
                    "missing-field",
                    key=True,
                )
            return None
        if flag_type is None:
            return None
        return self.typed(m[part], (part,), flag_type)

    def typed(self, value: Any, where: Path, flag_type: str) -> Any:
        """`value` if it is of the flag's type; otherwise report and return None."""
        f = self.f
        if flag_type == "boolean":
            return (
                f.boolean(value, where)
                if isinstance(value, bool)
                else self.mismatch(value, where, "true or false", flag_type)
            )
        if flag_type == "string":
            return (
                value
                if isinstance(value, str)
                else self.mismatch(value, where, "a string", flag_type)
            )
        if flag_type == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return f.number(value, where)
            return self.mismatch(value, where, "a number", flag_type)
        bad = _non_json(value, where)
        if bad is None:
            return value
        at, found, is_key = bad
        if is_key:
            f.error(
                at,
                f"keys in {label(at[:-1])} must be strings for JSON; quote "
                f"{f.doc.key_source(at)!r}",
                "wrong-type",
                key=True,
            )
        else:
            f.error(
                at,
                f"{label(at)} is {describe(found)}, which JSON cannot hold "
                f"(the flag's type is json){f.quote_hint(at, found)}",
                "wrong-type",
            )
        return None

    def mismatch(self, value: Any, where: Path, wanted: str, flag_type: str) -> None:
        hint = self.f.quote_hint(where, value) if flag_type == "string" else ""
        if flag_type == "boolean" and isinstance(value, str) and value in ("true", "false"):
            hint = f"; remove the quotes: {value}"
        self.f.error(
            where,
            f"{label(where)} must be {wanted} because the flag's type is {flag_type}, "
            f"got {describe(value)}{hint}",
            "type-mismatch",
        )
        return None

    def tags(self, value: Any) -> tuple[str, ...] | None:
        tags = self.f.strings(value, ("tags",))
        if tags is None:
            return None
        seen: set[str] = set()
        for i, tag in enumerate(tags):
            if tag in seen:
                self.f.error(
                    ("tags", i), f"tags[{i}] {tag!r} is listed twice; keep one", "duplicate"
                )
            seen.add(tag)
        return tags

    # -- targeting rules --------------------------------------------------------------------

    def rules(self, value: Any, flag_type: str | None) -> tuple[TargetingRule, ...] | None:
        items = self.f.sequence(value, ("rules",))
        if items is None:
            return None
        out: list[TargetingRule] = []
        names: set[str] = set()
        for i, item in enumerate(items):
            rule = self.rule(item, ("rules", i), flag_type)
            if rule is None:
                continue
            if rule.name in names:
                self.f.error(
                    ("rules", i, "name"),
                    f"two rules are named {rule.name!r}; give each rule its own name",
                    "duplicate",
                )
            names.add(rule.name)
            out.append(rule)
        return tuple(out)

    def rule(self, item: Any, where: Path, flag_type: str | None) -> TargetingRule | None:
        f = self.f
        m = f.mapping(item, where)
        if m is None:
            return None
        before = len(f.diagnostics)
        f.known_keys(m, where, RULE_FIELDS)
        for part in RULE_FIELDS:
            if part not in m:
                f.error(
                    where,
                    f"{label(where)} needs `{part}:` (a rule has name, attribute, operator, "
                    "values and serve)",
                    "missing-field",
                    key=True,
                )
        name = f.string(m["name"], (*where, "name")) if "name" in m else None
        attribute = f.string(m["attribute"], (*where, "attribute")) if "attribute" in m else None
        operator = (
            f.choice(m["operator"], (*where, "operator"), OPERATORS) if "operator" in m else None
        )
        values = (
            self.rule_values(m["values"], (*where, "values"), operator) if "values" in m else None
        )
        serve = None
        if "serve" in m and flag_type is not None:
            serve = self.typed(m["serve"], (*where, "serve"), flag_type)
        if len(f.diagnostics) > before:
            return None
        return TargetingRule(name, attribute, operator, values, serve)  # type: ignore[arg-type]

    def rule_values(self, value: Any, where: Path, operator: str | None) -> tuple[Any, ...] | None:
        f = self.f
        items = f.sequence(value, where, nonempty=True)
        if items is None or operator is None:
            return None
        if operator in SINGLE_VALUE_OPERATORS and len(items) != 1:
            f.error(
                where,
                f"{label(where)} must hold exactly one value for operator "
                f"{operator}, got {len(items)}",
                "rule-values",
            )
            return None
        ok = True
        for i, item in enumerate(items):
            at = (*where, i)
            if operator in NUMBER_OPERATORS:
                ok = f.number(item, at) is not None and ok
            elif operator in TEXT_OPERATORS:
                text = f.string(item, at, nonempty=False)
                ok = text is not None and ok
                if text is not None and operator == "matches":
                    try:
                        re.compile(text)
                    except (re.error, OverflowError, RecursionError) as exc:  # a{99999999999}
                        f.error(
                            at, f"{label(at)} is not a valid regular expression: {exc}", "bad-regex"
                        )
                        ok = False
            elif isinstance(item, bool):
                word = f.doc.yaml11_word(at)
                if word:
                    f.error(
                        at,
                        f"{label(at)}: YAML 1.1 reads unquoted {word} as a boolean; "
                        f'quote it ("{word}") or write {str(item).lower()}',
                        "yaml11-boolean",
                    )
                    ok = False
            elif not isinstance(item, str | int | float):
                f.error(
                    at,
                    f"{label(at)} must be a string, number or boolean, got "
                    f"{describe(item)}{f.quote_hint(at, item)}",
                    "wrong-type",
                )
                ok = False
        return tuple(items) if ok else None

    # -- rollout ----------------------------------------------------------------------------

    def rollout(self, value: Any) -> Rollout | None:
        f = self.f
        where: Path = ("rollout",)
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, ROLLOUT_FIELDS)
        if "percentage" in m:
            percentage = f.percentage(m["percentage"], (*where, "percentage"))
        else:
            percentage = None
            f.error(
                where,
                "rollout needs `percentage:` (the share of users, 0 to 100, who get value)",
                "missing-field",
                key=True,
            )
        stages = read_stages(f, m["stages"], (*where, "stages")) if "stages" in m else ()
        # 0 is "before the first stage": where a rollback from the first stage lands.
        if stages and percentage is not None and percentage not in (0, *stages):
            shown = ", ".join(str(s) for s in stages)
            f.error(
                (*where, "percentage"),
                f"rollout.percentage {percentage} is not one of the stages ({shown}); "
                "set it to the stage the rollout is at",
                "percentage-not-a-stage",
            )
        every = read_every(f, m["every"], (*where, "every")) if "every" in m else self.default_every
        paused = f.boolean(m["paused"], (*where, "paused")) if "paused" in m else False
        reason = None
        if m.get("paused_reason") is not None:
            reason = f.string(m["paused_reason"], (*where, "paused_reason"), nonempty=False)
        guard: Guard | None = self.default_guard
        if "guard" in m:
            guard = read_guard(f, m["guard"], (*where, "guard"), self.default_guard)
            if guard is not None and guard.checks and not stages:
                f.error(
                    (*where, "guard"),
                    "rollout.guard watches a staged plan: add rollout.stages, or remove the guard",
                    "guard-without-plan",
                    key=True,
                )
        started = self.stage_started(m["stage_started"]) if "stage_started" in m else None
        if percentage is None or stages is None or every is None or paused is None:
            return None
        if guard is None:
            return None
        return Rollout(percentage, stages, every, paused, started, guard, reason)

    def stage_started(self, value: Any) -> StageStart | None:
        f = self.f
        where: Path = ("rollout", "stage_started")
        m = f.mapping(value, where)
        if m is None:
            return None
        f.known_keys(m, where, STAGE_STARTED_FIELDS)
        for part in STAGE_STARTED_FIELDS:
            if part not in m:
                f.error(
                    where,
                    f"rollout.stage_started needs `{part}:` (flagbot's rollout job "
                    "writes percentage and at together)",
                    "missing-field",
                    key=True,
                )
        percentage = (
            f.percentage(m["percentage"], (*where, "percentage")) if "percentage" in m else None
        )
        at = f.timestamp(m["at"], (*where, "at")) if "at" in m else None
        if percentage is None or at is None:
            return None
        return StageStart(percentage, at.astimezone(UTC))


def _non_json(value: Any, where: Path) -> tuple[Path, Any, bool] | None:
    """The first place in `value` JSON cannot hold (dates, NaN, non-string keys: is_key)."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value, False)
    if isinstance(value, list):
        for i, item in enumerate(value):
            bad = _non_json(item, (*where, i))
            if bad:
                return bad
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return (*where, key), key, True
            bad = _non_json(item, (*where, key))
            if bad:
                return bad
        return None
    return where, value, False

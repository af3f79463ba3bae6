"""The two parts of a staged rollout plan that flag files and `flagbot.yml` both write:
`stages` (percentages or the seed's stage names) and `every` (the wait between stages).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.flags.model import MAX_EVERY, MAX_STAGES, MIN_EVERY, STAGE_PERCENTAGES
from bot.yamlfields import Fields, label, suggest
from bot.yamlsafe import Path, describe

DURATION_PATTERN = r"^(?=[0-9])(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?$"
"""Days, hours, minutes in that order, each optional: `30m`, `1h`, `2d`, `1h30m`."""
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `1h`, `2d`, `1h30m` -> timedelta; None if it is not such a duration (or one
    longer than a timedelta holds)."""
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes)
    except OverflowError:
        return None


def format_duration(delta: timedelta) -> str:
    """The shortest `2d`, `1h30m`, `45m` spelling of a whole number of minutes."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    return text + (f"{minutes}m" if minutes or not text else "")


def read_every(fields: Fields, value: Any, where: Path) -> timedelta | None:
    if not isinstance(value, str):
        hint = f"; write it with a unit, e.g. {value}m" if isinstance(value, int) else ""
        fields.error(
            where,
            f"{label(where)} must be a duration such as 30m, 1h or 2d, got {describe(value)}{hint}",
            "bad-duration",
        )
        return None
    delta = parse_duration(value)
    if delta is None:
        fields.error(
            where,
            f"{label(where)} {value!r} is not a duration; write minutes, hours or days "
            "such as 30m, 1h, 2d or 1h30m",
            "bad-duration",
        )
        return None
    if delta < MIN_EVERY:
        fields.error(
            where,
            f"{label(where)} must be at least {format_duration(MIN_EVERY)}, got {value}",
            "out-of-range",
        )
        return None
    if delta > MAX_EVERY:
        fields.error(
            where,
            f"{label(where)} must be at most {format_duration(MAX_EVERY)}, got {value}",
            "out-of-range",
        )
        return None
    return delta


def read_stages(fields: Fields, value: Any, where: Path) -> tuple[int | float, ...] | None:
    """Stage names become their percentages; the result must rise strictly within (0, 100]."""
    items = fields.sequence(value, where, nonempty=True)
    if items is None:
        return None
    if len(items) > MAX_STAGES:
        fields.error(
            where,
            f"{label(where)} has {len(items)} stages, more than the {MAX_STAGES} allowed "
            "(one a percent); use fewer, larger steps",
            "too-many-stages",
        )
        return None
    stages: list[int | float] = []
    ok = True
    for i, item in enumerate(items):
        at = (*where, i)
        number = _stage(fields, item, at)
        if number is None:
            ok = False
            continue
        if stages and number <= stages[-1]:
            fields.error(
                at,
                f"{label(where)} must rise strictly: {number} comes after {stages[-1]}; "
                "list each percentage once, smallest first",
                "stages-order",
            )
            ok = False
        stages.append(number)
    return tuple(stages) if ok else None


def _stage(fields: Fields, item: Any, at: Path) -> int | float | None:
    if isinstance(item, str):
        if item in STAGE_PERCENTAGES:
            return STAGE_PERCENTAGES[item]
        names = ", ".join(f"{n} ({p})" for n, p in STAGE_PERCENTAGES.items())
        close = suggest(item, STAGE_PERCENTAGES)
        hint = close if "did you mean" in close else f"; use a percentage or one of {names}"
        fields.error(at, f"{label(at)}: unknown stage name {item!r}{hint}", "unknown-stage")
        return None
    number = fields.number(item, at)
    if number is not None and not 0 < number <= 100:
        fields.error(
            at, f"{label(at)} must be more than 0 and at most 100, got {number}", "out-of-range"
        )
        return None
    return number

"""The rollout part of the demo as data: when the scheduled job runs (the workflow's own cron),
what each run committed and announced, and the timeline a person reads. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml

from bot.demo.render import columns
from bot.demo.style import Style
from bot.rollout.schedule import fmt_pct

DEFAULT_MINUTES = (7, 22, 37, 52)  # .github/workflows/rollout.yml's schedule


def cron_minutes(expression: str) -> tuple[int, ...] | None:
    """The minutes of an hourly cron schedule (`M * * * *`); None for any other shape."""
    fields = expression.split()
    if len(fields) != 5 or any(f != "*" for f in fields[1:]):
        return None
    minute = fields[0]
    try:
        if minute == "*":
            return tuple(range(60))
        if minute.startswith("*/"):
            step = int(minute[2:])
            return tuple(range(0, 60, step)) if step > 0 else None
        found = sorted({int(m) for m in minute.split(",")})
    except ValueError:
        return None
    return tuple(found) if all(0 <= m < 60 for m in found) else None


def workflow_minutes(workflow: str | None) -> tuple[int, ...]:
    """When the rollout workflow runs each hour, read from its `on.schedule` cron; the
    shipped schedule when the file is absent or runs on another rhythm."""
    try:
        data: Any = yaml.safe_load(workflow) if workflow else None
    except yaml.YAMLError:
        return DEFAULT_MINUTES
    if not isinstance(data, dict):
        return DEFAULT_MINUTES
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    schedule = triggers.get("schedule") if isinstance(triggers, dict) else None
    if isinstance(schedule, list) and schedule and isinstance(schedule[0], dict):
        minutes = cron_minutes(str(schedule[0].get("cron", "")))
        if minutes:
            return minutes
    return DEFAULT_MINUTES


def runs_after(start: datetime, minutes: Sequence[int]) -> Iterator[datetime]:
    """Every scheduled run strictly after `start`."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    while True:
        for m in minutes:
            at = hour + timedelta(minutes=m)
            if at > start:
                yield at
        hour += timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Bumped:
    """A bump commit a run of the job wrote."""

    path: str
    from_percentage: float
    to_percentage: float
    stage: str
    sha: str
    title: str


@dataclass(frozen=True, slots=True)
class Run:
    """One run of the job: what it committed, and the notices that arrived meanwhile
    (channel, subject)."""

    at: datetime
    bumps: tuple[Bumped, ...] = ()
    notices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Start:
    """Where the featured flag's rollout began: the merge that created it."""

    at: datetime
    percentage: float
    stage: str
    sha: str
    note: str


def timeline(
    featured: str, start: Start, runs: Sequence[Run], every: timedelta, style: Style
) -> list[str]:
    """One row per commit (the featured flag's with a progress bar), one line per stretch of
    runs that had nothing to do, and the announcements under the run they came from."""
    rows: list[list[str]] = []
    kinds: list[str] = []  # "row" rows are aligned together; "line" rows are printed as is
    pct, since = start.percentage, start.at
    rows.append(_bar_row(start.at, pct, start.stage, start.sha, start.note, style))
    kinds.append("row")
    quiet: list[datetime] = []

    def flush() -> None:
        if not quiet:
            return
        times = " ".join(t.strftime("%H:%M") for t in quiet)
        if pct >= 100:
            why = "nothing due: the rollout is complete, and nobody is told twice"
        else:
            lasted = _minutes(quiet[-1] - since)
            why = f"nothing due: {fmt_pct(pct)}% for {lasted} of {_minutes(every)}"
        rows.append([f"{style.glyph('dot')} {style.dim(times)}  {style.dim(why)}"])
        kinds.append("line")
        quiet.clear()

    for run in runs:
        if not run.bumps:
            quiet.append(run.at)
            continue
        flush()
        for bump in run.bumps:
            if bump.path == featured:
                pct, since = bump.to_percentage, run.at
                rows.append(_bar_row(run.at, pct, bump.stage, bump.sha, bump.title, style))
            else:
                rows.append([run.at.strftime("%H:%M"), "", "", "", bump.sha[:7], bump.title])
            kinds.append("row")
        for subject, channels in _by_subject(run.notices):
            rows.append(["", style.paint(f"{style.glyph('bell')} {subject}", "cyan")])
            rows.append(["", style.dim(f"  received by {', '.join(channels)}")])
            kinds += ["line", "line"]
    flush()
    aligned = iter(columns([r for r, k in zip(rows, kinds, strict=True) if k == "row"]))
    out = []
    for row, kind in zip(rows, kinds, strict=True):
        if kind == "row":
            out.append("  " + next(aligned))
        else:
            out.append("  " + ("       " if row[0] == "" else "") + row[-1])
    return out


def _bar_row(at: datetime, pct: float, stage: str, sha: str, note: str, style: Style) -> list[str]:
    return [
        at.strftime("%H:%M"),
        style.bar(pct),
        style.bold(f"{fmt_pct(pct):>3}%"),
        stage,
        sha[:7],
        note,
    ]


def _by_subject(notices: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for channel, subject in notices:
        grouped.setdefault(subject, []).append(channel)
    return list(grouped.items())


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)}m"

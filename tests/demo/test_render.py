"""The demo's pure parts: the simulated schedule, styles, tables and the rollout timeline."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from bot.demo.page import Page
from bot.demo.render import columns, excerpt, markdown_table
from bot.demo.seed import WORKFLOW
from bot.demo.style import Style
from bot.demo.timeline import (
    DEFAULT_MINUTES,
    Bumped,
    Run,
    Start,
    cron_minutes,
    runs_after,
    timeline,
    workflow_minutes,
)
from tests.conftest import ROOT

PLAIN = Style(color=False)


@pytest.mark.parametrize(
    ("cron", "minutes"),
    [
        ("7,22,37,52 * * * *", (7, 22, 37, 52)),
        ("52,7 * * * *", (7, 52)),
        ("*/15 * * * *", (0, 15, 30, 45)),
        ("0 9 * * *", None),  # not hourly
        ("61 * * * *", None),
        ("x * * * *", None),
        ("*/0 * * * *", None),
        ("* * * *", None),
    ],
)
def test_cron_minutes(cron: str, minutes: tuple[int, ...] | None) -> None:
    assert cron_minutes(cron) == minutes


def test_the_simulated_schedule_is_the_workflows_own() -> None:
    assert workflow_minutes((ROOT / WORKFLOW).read_text()) == (7, 22, 37, 52)
    assert workflow_minutes('on:\n  schedule:\n    - cron: "*/30 * * * *"\n') == (0, 30)
    assert workflow_minutes(None) == DEFAULT_MINUTES
    assert workflow_minutes("on: push\n") == DEFAULT_MINUTES
    assert workflow_minutes("on: [") == DEFAULT_MINUTES


def test_runs_come_strictly_after_the_start_across_hours() -> None:
    start = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)
    got = [t.strftime("%H:%M") for t in islice(runs_after(start, (7, 22, 37, 52)), 5)]
    assert got == ["10:22", "10:37", "10:52", "11:07", "11:22"]


class FakeStream(io.StringIO):
    def __init__(self, tty: bool, encoding: str = "utf-8") -> None:
        super().__init__()
        self._tty, self._encoding = tty, encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert Style.for_stream(FakeStream(tty=True), env={}).color
    assert not Style.for_stream(FakeStream(tty=False), env={}).color
    assert not Style.for_stream(FakeStream(tty=True), env={"NO_COLOR": "1"}).color
    assert Style.for_stream(FakeStream(tty=True), env={"NO_COLOR": ""}).color  # empty: unset
    assert not Style.for_stream(FakeStream(tty=True), no_color=True, env={}).color
    assert Style(color=True).bold("x") == "\x1b[1mx\x1b[0m"
    assert PLAIN.bold("x") == "x"


def test_ascii_terminals_get_ascii() -> None:
    style = Style.for_stream(FakeStream(tty=False, encoding="ascii"), env={})
    assert not style.unicode
    assert style.bar(50, width=4) == "##.."
    stream = FakeStream(tty=False, encoding="ascii")
    Page(stream, style).line("5% → 25% ✅ “done” ☃")
    assert stream.getvalue() == '5% -> 25% [ok] "done" ?\n'


@pytest.mark.parametrize(("pct", "full"), [(0, 0), (1, 1), (5, 1), (25, 5), (50, 10), (100, 20)])
def test_bars(pct: float, full: int) -> None:
    bar = PLAIN.bar(pct)
    assert (bar.count("█"), len(bar)) == (full, 20)


def test_headings_are_as_wide_as_asked() -> None:
    line = PLAIN.heading("3  merged", "10:00", width=40)
    assert len(line) == 40
    assert line.startswith("── 3  merged ─") and line.endswith("─ 10:00")


def test_columns_align_all_but_the_last() -> None:
    assert columns([["a", "bb", "c"], ["ccc", "d", "long tail"]]) == [
        "a    bb  c",
        "ccc  d   long tail",
    ]
    coloured = Style(color=True)
    lines = columns([[coloured.bold("a"), "x"], ["bbb", "y"]])
    assert lines[0].endswith("a\x1b[0m    x") and lines[1] == "bbb  y"


def test_markdown_tables_read_back_as_rows() -> None:
    summary = (
        "**Waiting for QA validation**\n\n"
        "| Flag | Environment | Change | Before → after |\n|---|---|---|---|\n"
        "| `a\\|b` | production | create | `x` = `1`<br>`y` = `2` |\n\n"
        "| Step | Approved by | May still approve |\n|---|---|---|\n"
        "| ✅ manager approval | @mgr | — |\n"
        "| ⏳ QA validation | — | @acme/qa |\n"
    )
    assert markdown_table(summary, "Flag") == [["a|b", "production", "create", "x = 1; y = 2"]]
    assert markdown_table(summary, "Step") == [
        ["✅ manager approval", "@mgr", "—"],
        ["⏳ QA validation", "—", "@acme/qa"],
    ]
    assert markdown_table(summary, "Nope") == []


def test_excerpt_points_at_the_column() -> None:
    source = "a: 1\nrollout:\n  percentage: 120\n"
    assert excerpt(source, 3, 15, PLAIN) == [
        "3 |   percentage: 120",
        "  |               ^",
    ]
    assert excerpt(source, 9, 1, PLAIN) == []
    assert excerpt(source, 1, None, PLAIN) == ["1 | a: 1"]


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 12, 1, hh, mm, tzinfo=UTC)


def test_the_timeline() -> None:
    flag = "flags/f.yaml"
    runs = [
        Run(at(10, 7), (Bumped("flags/other.yaml", 50, 100, "full", "c" * 40, "rollout: other"),),
            (("slack", "rollout complete: other"), ("mail", "rollout complete: other"))),
        Run(at(10, 22)),
        Run(at(10, 37)),
        Run(at(11, 7), (Bumped(flag, 50, 100, "full", "d" * 40, "rollout: f 50% → 100%"),),
            (("slack", "rollout complete: f"),)),
        Run(at(11, 22)),
    ]  # fmt: skip
    start = Start(at(10, 0), 50, "half", "a" * 40, "merged with #1")
    assert timeline(flag, start, runs, timedelta(minutes=60), PLAIN) == [
        "  10:00  ██████████░░░░░░░░░░   50%  half  aaaaaaa  merged with #1",
        "  10:07                                    ccccccc  rollout: other",
        "         » rollout complete: other",
        "           received by slack, mail",
        "  · 10:22 10:37  nothing due: 50% for 37m of 60m",
        "  11:07  ████████████████████  100%  full  ddddddd  rollout: f 50% → 100%",
        "         » rollout complete: f",
        "           received by slack",
        "  · 11:22  nothing due: the rollout is complete, and nobody is told twice",
    ]

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.flags.plan import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1d2h3m", timedelta(days=1, hours=2, minutes=3)),
        ("90m", timedelta(minutes=90)),
        ("0m", timedelta(0)),
    ],
)
def test_durations(text, delta):
    assert parse_duration(text) == delta


@pytest.mark.parametrize(
    "text", ["", "m", "60", "1m1h", "1.5h", " 5m", "5m\n", "5 m", "3600s", "1w"]
)
def test_not_durations(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize("text", ["5m", "1h", "2d", "1h30m", "1d2h3m"])
def test_format_round_trips(text):
    assert format_duration(parse_duration(text)) == text

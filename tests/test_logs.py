"""The log pipeline itself: JSON lines stay JSON whatever they carry, secrets stay out however
a line writes them, and inside the service's event loop a turn's lines go out in one write."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot import logs


class Writes(io.StringIO):
    """A stream that remembers each write call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


@pytest.fixture
def stream() -> Iterator[Writes]:
    out = Writes()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("json", secrets=['pa"ss\\word-1'], stream=out)
    out.handler = handler  # type: ignore[attr-defined]
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


log = logging.getLogger("flagbot.test")


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_outside_an_event_loop_each_line_is_written_at_once(stream):
    log.info("one")
    assert [json.loads(c)["msg"] for c in stream.calls] == ["one"]
    log.info("two")
    assert len(stream.calls) == 2


def test_inside_an_event_loop_a_turns_lines_go_out_together_at_its_end(stream):
    async def turn() -> None:
        for n in range(3):
            log.info("line %d", n)
        assert stream.calls == []  # still this turn
        await asyncio.sleep(0)
        assert len(stream.calls) == 1  # one write for the three
        log.info("next turn")
        await asyncio.sleep(0)

    asyncio.run(turn())
    assert [line["msg"] for line in lines(stream)] == ["line 0", "line 1", "line 2", "next turn"]
    assert len(stream.calls) == 2


def test_a_long_turn_writes_what_it_has_every_max_pending_lines(stream):
    async def turn() -> None:
        for n in range(logs.LineHandler.MAX_PENDING + 1):
            log.info("line %d", n)
        assert len(stream.calls) == 1  # memory stays bounded
        await asyncio.sleep(0)

    asyncio.run(turn())
    assert len(lines(stream)) == logs.LineHandler.MAX_PENDING + 1


def leave_pending(message: str) -> None:
    """Log `message` in a loop that is left mid-turn (KeyboardInterrupt), before the turn's
    write, and closed."""

    async def interrupted() -> None:
        log.info(message)
        raise KeyboardInterrupt

    loop = asyncio.new_event_loop()
    with pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(interrupted())
    loop.close()


def test_exit_writes_what_a_turn_left_pending(stream):
    leave_pending("last words")
    assert stream.calls == []
    stream.handler.flush()  # what `logging.shutdown` does at exit
    assert [line["msg"] for line in lines(stream)] == ["last words"]


def test_lines_left_by_a_loop_closed_mid_turn_go_out_with_the_next_loops_turn(stream):
    leave_pending("first loop")
    assert stream.calls == []

    async def next_loop() -> None:
        log.info("second loop")
        await asyncio.sleep(0)

    asyncio.run(next_loop())
    assert [line["msg"] for line in lines(stream)] == ["first loop", "second loop"]


def test_a_closed_stream_does_not_break_the_event_loop(stream):
    async def turn() -> None:
        stream.close()
        log.info("nowhere to go")
        await asyncio.sleep(0)  # the scheduled write fails quietly

    asyncio.run(turn())


def test_values_json_has_no_literal_for_still_make_one_json_object_per_line(stream):
    when = datetime(2026, 12, 3, 9, 12, 44, tzinfo=UTC)
    log.info("x", extra={"fields": {"at": when, "ids": {3}, "obj": object(), "nan": float("nan")}})
    (line,) = lines(stream)
    assert line["at"] == "2026-12-03T09:12:44Z" and line["ids"] == [3]
    assert line["obj"].startswith("<object") and line["nan"] is None
    assert line["time"].endswith("Z") and len(line["time"]) == len("2026-12-03T09:12:44.120Z")


def test_a_line_msgspec_refuses_is_written_as_ascii_json():
    """A lone surrogate (undecodable bytes read as text) cannot be written as UTF-8: the
    fallback escapes it, so the line is still written and still JSON. (Checked on `encode`
    itself: pytest's own log capture could not carry such a line between processes.)"""
    line = {"msg": "\udc80 lone surrogate", "name": "é✓"}
    text = logs.encode(line)
    io.TextIOWrapper(io.BytesIO(), encoding="utf-8").write(text)  # does not raise
    assert json.loads(text) == line
    assert logs.encode({"name": "é✓"}) == '{"name":"é✓"}'  # the fast path keeps UTF-8


def test_a_secret_is_redacted_however_a_json_line_escapes_it(stream):
    log.info('token pa"ss\\word-1 here', extra={"fields": {"v": 'pa"ss\\word-1', "w": "\udc80"}})
    log.info("again", extra={"fields": {"v": 'pa"ss\\word-1'}})
    text = stream.getvalue()
    assert "ss\\\\word" not in text and "ss\\word" not in text
    assert all(logs.REDACTED in line for line in text.splitlines())


_URLISH = st.lists(
    st.sampled_from(["://", "@", ":", "/", '"', "\\", ",", " ", "ab", "x1"]), max_size=8
).map("".join)


@settings(max_examples=500, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(["a", "b", "c"]), _URLISH, max_size=3))
@example(fields={"a": "x://b", "b": "c@d"})
def test_redaction_never_breaks_a_json_line(fields):
    """Compact JSON puts fields next to each other (`"a":"x://y","b":"z@w"`): the password in
    a URL shape must not be matched across a field boundary and cut the line."""
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("json", stream=out)
    try:
        log.info("m", extra={"fields": fields})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    (line,) = lines(out)
    for name, value in fields.items():
        assert line[name] == value or logs.REDACTED in line[name]


def test_bound_fields_nest_reach_tasks_started_inside_and_are_restored():
    async def read() -> dict:
        return logs.context()

    async def work() -> None:
        with logs.bound(delivery="d-1", event="push") as outer:
            with logs.bound(repo="acme/flags") as inner:
                logs.annotate(pr=7)
                assert logs.context() == {
                    "delivery": "d-1",
                    "event": "push",
                    "repo": "acme/flags",
                    "pr": 7,
                }
                seen = await asyncio.create_task(read())
                assert seen["pr"] == 7 and inner["pr"] == 7
            assert logs.context() == outer == {"delivery": "d-1", "event": "push"}
        assert logs.context() == {}

    asyncio.run(work())

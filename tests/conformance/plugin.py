"""pytest plugin: every local GitHub any test builds is held to GitHub's contract.

Registered for the whole suite by `tests/conftest.py`. Each `Emulator` gets, as it is built
(`Emulator.instruments`), a call-log listener that checks every call it serves (HTTP or
in-process) against the vendored OpenAPI subset (error bodies of every operation, everything
of the operations it covers), and a webhook listener that checks every
delivery it queues against octokit's schemas or example payloads. Problems are collected per
test and fail the test phase (setup, call or teardown) in which they happened, listing each
problem: operation, status, part and JSON pointer. Calls answered by an injected fault are not
checked (the fault is the test's intent), nor are redeliveries (the payload was checked when
first sent). Emulators in processes a test starts (`flagbot emulator`, a demo) record their
calls to the file named by `FLAGBOT_EMULATOR_RECORD`, which this plugin sets and reads after
each test phase. Without `../shared/vendor` nothing is checked.

A test that makes the emulator break the contract on purpose says so, with a reason:
`@pytest.mark.github_conformance_exempt("why")`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.emulator.calllog import Call
from bot.emulator.emulator import RECORD_ENV, Emulator
from bot.emulator.webhooks import Delivery
from tests.conformance.openapi import openapi
from tests.conformance.problem import Problem
from tests.conformance.webhooks import webhooks

MARKER = "github_conformance_exempt"
SHOWN = 20


class Collector:
    """Problems found since the last `take()`; fed from any thread an emulator serves on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: list[Problem] = []
        self.calls = 0
        self.deliveries = 0
        self.recording: Recording | None = None

    def attach(self, emulator: Emulator) -> None:
        emulator.calls.listeners.append(self.on_call)
        emulator.webhooks.listeners.append(self.on_delivery)

    def on_call(self, call: Call) -> None:
        api = openapi()
        if api is None or call.fault is not None:
            return
        self._add(lambda: api.check(call), f"{call.method} {call.route or call.path}")
        self.calls += 1

    def on_delivery(self, delivery: Delivery) -> None:
        checker = webhooks()
        if checker is None or delivery.redelivery:
            return
        self._add(lambda: checker.check(delivery.event, delivery.payload), delivery.event)
        self.deliveries += 1

    def _add(self, check: Callable[[], list[Problem]], subject: str) -> None:
        try:
            found = check()
        except Exception as e:  # a checker bug must fail the test, not the emulator's answer
            found = [Problem(subject, "conformance checker", "", f"crashed: {e!r}")]
        if found:
            with self._lock:
                self._problems += found

    def take(self) -> list[Problem]:
        if self.recording is not None:
            for call in self.recording.new_calls():
                self.on_call(call)
        with self._lock:
            found, self._problems = self._problems, []
        return found


class Recording:
    """The calls other processes' emulators append to one JSON-lines file, read as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_calls(self) -> list[Call]:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits
        self.offset += len(complete)
        return [Call(**json.loads(line)) for line in complete.splitlines() if line.strip()]


COLLECTOR = Collector()


def report(problems: list[Problem]) -> str:
    lines = [
        f"the local GitHub departed from GitHub's contract {len(problems)} time(s) "
        "(tests/conformance, against ../shared/vendor):"
    ]
    lines += [f"  {p}" for p in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"  ... and {len(problems) - SHOWN} more")
    return "\n".join(lines)


def _settle(item: pytest.Item, when: str) -> None:
    problems = COLLECTOR.take()
    if problems and item.get_closest_marker(MARKER) is None:
        pytest.fail(f"[{when}] " + report(problems), pytrace=False)


_sessions = 0  # a session run inside a test (pytester) shares this module with the outer one


def pytest_configure(config: pytest.Config) -> None:
    global _sessions
    config.addinivalue_line(
        "markers",
        f"{MARKER}(reason): the test makes the local GitHub break GitHub's contract on purpose",
    )
    _sessions += 1
    if COLLECTOR.attach not in Emulator.instruments:
        Emulator.instruments.append(COLLECTOR.attach)
    if COLLECTOR.recording is None:
        handle, name = tempfile.mkstemp(prefix="flagbot-emulator-calls-", suffix=".jsonl")
        os.close(handle)
        COLLECTOR.recording = Recording(Path(name))
        os.environ[RECORD_ENV] = name


def pytest_unconfigure(config: pytest.Config) -> None:
    global _sessions
    _sessions -= 1
    if _sessions == 0 and COLLECTOR.attach in Emulator.instruments:
        Emulator.instruments.remove(COLLECTOR.attach)
    if _sessions == 0 and COLLECTOR.recording is not None:
        os.environ.pop(RECORD_ENV, None)
        COLLECTOR.recording.path.unlink(missing_ok=True)
        COLLECTOR.recording = None


def _guard(item: pytest.Item, when: str) -> Iterator[None]:
    try:
        result = yield
    except BaseException:  # the phase failed anyway: show the problems beside its error
        problems = COLLECTOR.take()
        if problems:
            item.add_report_section(when, "GitHub conformance", report(problems))
        raise
    _settle(item, when)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    COLLECTOR.take()  # leftovers of earlier tests are not this test's doing
    return (yield from _guard(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _guard(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _guard(item, "teardown"))

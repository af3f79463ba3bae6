"""Fixtures for the emulator's tests; every call any emulator serves during a test is checked
against the vendored OpenAPI subset (when present) and a violation fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.emulator.calllog import CallLog
from bot.emulator.testing import emulator, github, github_url  # noqa: F401
from tests.emulator.schemas import Conformance


@pytest.fixture(autouse=True)
def conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Conformance]:
    checker = Conformance()
    original = CallLog.__init__

    def init(self: CallLog, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self.listeners.append(checker)

    monkeypatch.setattr(CallLog, "__init__", init)
    yield checker
    assert not checker.problems, "\n".join(checker.problems[:20])

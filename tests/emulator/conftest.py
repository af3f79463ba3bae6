"""Fixtures for the emulator's tests. (Every call and webhook any emulator serves in any test
is checked against GitHub's contract by `tests/conformance/plugin.py`.)"""

from __future__ import annotations

from tests.emulator_harness import emulator, github, github_url  # noqa: F401

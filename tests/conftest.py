"""Shared test plumbing.

Vendored, externally written material is read in place from `../shared/vendor`. A user's fresh
clone has no `../shared`; tests that need it skip with a clear reason there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every emulator any test builds is checked against GitHub's contract (see the plugin);
# pytester runs the plugin's own tests.
pytest_plugins = ("tests.conformance.plugin", "pytester")

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path(os.environ.get("FLAGBOT_VENDOR_DIR", ROOT.parent / "shared" / "vendor"))


def vendor_path(*parts: str) -> Path:
    """Path inside the vendored material, skipping the calling test when it is absent."""
    path = VENDOR.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"vendored test material not found at {path} "
            "(it lives in ../shared/vendor beside the project checkout; set FLAGBOT_VENDOR_DIR)"
        )
    return path


@pytest.fixture
def vendor() -> Path:
    return vendor_path()

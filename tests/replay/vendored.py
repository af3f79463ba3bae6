"""The vendored real webhook payloads (read in place from `../shared/vendor`), as deliveries.

`octokit-webhooks/<event>/<file>.json` are bare payloads: the folder names the event.
`webhooks-extra/*/<file>.json` are probot fixtures (`{"event", "payload"}`).
"""

from __future__ import annotations

import json

import pytest

from bot.replay.deliveries import Delivery, from_payload, parse_delivery
from tests.conftest import VENDOR, vendor_path

OCTOKIT = "octokit-webhooks"
EXTRA = "webhooks-extra"
SCHEMAS = "payload-schemas"


def delivery(*parts: str) -> Delivery:
    """The vendored file `parts` (under the vendor folder) as a delivery, skipping the test
    when the vendored material is absent."""
    path = vendor_path(*parts)
    data = json.loads(path.read_text())
    source = "/".join(parts)
    if parts[0] == OCTOKIT:
        return from_payload(data, path.parent.name, source)
    return parse_delivery(data, source)


def listed() -> list:
    """pytest params: the path parts of every vendored payload (one skipping case when the
    vendored material is absent)."""
    found: list[tuple[str, ...]] = []
    octokit = VENDOR / OCTOKIT
    if octokit.is_dir():
        for folder in sorted(p for p in octokit.iterdir() if p.is_dir() and p.name != SCHEMAS):
            found += [(OCTOKIT, folder.name, f.name) for f in sorted(folder.glob("*.json"))]
    extra = VENDOR / EXTRA
    if extra.is_dir():
        found += [(EXTRA, f.parent.name, f.name) for f in sorted(extra.glob("*/*.json"))]
    return [pytest.param(p, id="/".join(p[1:])) for p in found] or [
        pytest.param((OCTOKIT,), id="vendor-missing")
    ]

"""The recorded api.github.com interactions in github3.py's betamax cassettes (vendored in
`../shared/vendor/github3py-cassettes`, see PROVENANCE.md), decoded: bodies are stored as
base64 of gzip, or as plain strings."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.conftest import vendor_path


@dataclass(frozen=True)
class Interaction:
    method: str
    path: str  # URL path on api.github.com
    query: dict[str, str]
    request_json: Any
    status: int
    headers: dict[str, str]
    body: Any  # decoded JSON, None when empty

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _text(body: dict[str, Any]) -> bytes:
    if "base64_string" in body:
        raw = base64.b64decode(body["base64_string"])
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return (body.get("string") or "").encode()


def _headers(headers: dict[str, Any]) -> dict[str, str]:
    """Betamax keeps a header as a string or, in newer cassettes, a list of strings."""
    return {k: v[0] if isinstance(v, list) else v for k, v in headers.items()}


@cache
def cassette(name: str) -> tuple[Interaction, ...]:
    """Every interaction of `<name>.json`, in recorded order (skips the calling test when the
    vendored material is absent)."""
    data = json.loads(vendor_path("github3py-cassettes", f"{name}.json").read_text())
    out = []
    for item in data["http_interactions"]:
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        sent, received = _text(request["body"]), _text(response["body"])
        out.append(
            Interaction(
                method=request["method"],
                path=url.path,
                query=dict(parse_qsl(url.query)),
                request_json=json.loads(sent) if sent else None,
                status=response["status"]["code"],
                headers=_headers(response["headers"]),
                body=json.loads(received) if received else None,
            )
        )
    return tuple(out)

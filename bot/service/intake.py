"""Accepting a webhook delivery: the checks that run before flagbot acknowledges it.

Only what must be decided on the request path happens here: size, required headers, content
type, and the HMAC-SHA256 signature (gidgethub's constant-time check). Parsing the JSON is left
to the worker, so acknowledging stays cheap; a signed body that is not even shaped like a JSON
object is refused here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gidgethub import ValidationFailure
from gidgethub.sansio import validate_event


@dataclass(frozen=True, slots=True)
class Accepted:
    event: str
    delivery_id: str
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Rejected:
    status: int
    reason: str


_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
_SPACE = frozenset(b" \t\r\n")
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")  # ASCII only: [0-9a-fA-F] is not \d


def _looks_like_object(body: bytes) -> bool:
    """`{ ... }` give or take whitespace, without copying a 30 KB body to strip it."""
    first, last = 0, len(body) - 1
    while first <= last and body[first] in _SPACE:
        first += 1
    while last > first and body[last] in _SPACE:
        last -= 1
    return first < last and body[first] == 0x7B and body[last] == 0x7D  # { and }


def _well_formed(signature: str) -> bool:
    """`sha256=` and 64 hex digits. Checked first: the constant-time comparison raises
    `TypeError` on non-ASCII text, and a header is whatever the sender put there."""
    return _SIGNATURE.fullmatch(signature) is not None


def check_delivery(
    headers: Mapping[str, str], body: bytes, secret: str, max_body: int
) -> Accepted | Rejected:
    """Decide whether to acknowledge. `headers` must look keys up case-insensitively."""
    if len(body) > max_body:
        return Rejected(413, f"payload larger than {max_body} bytes")
    event = headers.get("X-GitHub-Event")
    delivery = headers.get("X-GitHub-Delivery")
    if not event or not delivery:
        return Rejected(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
    signature = headers.get("X-Hub-Signature-256")
    if not signature:
        return Rejected(401, "missing X-Hub-Signature-256 header (configure a webhook secret)")
    if not _well_formed(signature):
        return Rejected(401, "X-Hub-Signature-256 must be sha256= and 64 hex digits")
    try:
        validate_event(body, signature=signature, secret=secret)
    except ValidationFailure:
        return Rejected(401, "signature does not match the webhook secret")
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in _CONTENT_TYPES:
        return Rejected(415, f"unsupported content type {content_type or '(none)'!r}")
    if content_type == "application/json" and not _looks_like_object(body):
        return Rejected(400, "payload is not a JSON object")
    return Accepted(event, delivery, body, content_type)

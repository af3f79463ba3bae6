"""Recorded webhook deliveries: read from the shapes people keep them in, made ready to send.

GitHub keeps a delivery's payload parsed, not the bytes it signed, so the original signature
cannot be reused: the payload is serialised again (compact JSON) and signed with the secret
the receiving bot knows. The event name and the delivery id (GUID) are kept, so a replay is
what GitHub's own "Redeliver" does: the same delivery, once more.

Shapes read (one JSON object per file, or a JSON array of them):
- GitHub's delivery record (`GET /app/hook/deliveries/{id}`, or the repository or
  organization hook deliveries API): `request.headers`, `request.payload`, top-level `event`
  and `guid`;
- `{"headers": {...}, "payload": {...}}`;
- a probot-style fixture `{"event" or "name": ..., "payload": {...}}` (`id`, when a string, is
  the delivery id);
- a bare payload, when the caller names its event.
The event comes from the `X-GitHub-Event` header, else the top-level `event`/`name`, else the
caller; the delivery id from `X-GitHub-Delivery`, else `guid`/`id`, else a new one is made up
(and `Delivery.guid_generated` says so).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.diagnostics import Diagnostic

# Headers that described the original bytes or connection: a replay sends new ones.
STALE_HEADERS = frozenset(
    {
        "x-hub-signature",
        "x-hub-signature-256",
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
    }
)
MAX_FILE = 32 * 1024 * 1024  # GitHub caps payloads at 25 MB


class DeliveryError(ValueError):
    """The JSON is not a delivery in any shape flagbot knows; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Delivery:
    source: str  # where it was read from, for messages: "file.json" or "file.json[2]"
    event: str
    guid: str
    payload: dict[str, Any]
    headers: Mapping[str, str]  # lowercase names, stale ones dropped
    guid_generated: bool = False

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def label(self) -> str:
        """`pull_request.opened`, or just the event when the payload has no action."""
        return f"{self.event}.{self.action}" if self.action else self.event

    def with_payload(self, payload: dict[str, Any]) -> Delivery:
        return replace(self, payload=payload)


def parse_delivery(
    data: Any,
    source: str,
    *,
    event: str | None = None,
    new_guid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Delivery:
    """One delivery from parsed JSON in any of the shapes above; `event` names a bare payload's
    event. Raises `DeliveryError`."""
    if not isinstance(data, dict):
        raise DeliveryError(f"expected a JSON object, found {_kind(data)}")
    request = data.get("request")
    if isinstance(request, dict) and "payload" in request:  # GitHub's delivery record
        headers, payload = request.get("headers"), request.get("payload")
    elif "payload" in data:  # {headers, payload} or probot's {event/name, payload}
        headers, payload = data.get("headers"), data.get("payload")
    elif event:
        return from_payload(data, event, source, new_guid=new_guid)
    else:
        raise DeliveryError(
            "not a delivery: expected GitHub's delivery JSON (request.headers, "
            'request.payload), {"headers": ..., "payload": ...} or {"event": ..., '
            '"payload": ...}; for a bare webhook payload pass --event NAME'
        )
    payload = _payload(payload)
    lowered = _headers(headers)
    name = (
        lowered.get("x-github-event")
        or _text(data.get("event"))
        or _text(data.get("name"))
        or event
    )
    if not name:
        raise DeliveryError(
            "no event name: none in an X-GitHub-Event header, nor a top-level event or name; "
            "pass --event NAME"
        )
    guid = lowered.get("x-github-delivery") or _text(data.get("guid")) or _text(data.get("id"))
    generated = not guid
    guid = guid or new_guid()
    lowered["x-github-event"], lowered["x-github-delivery"] = name, guid
    return Delivery(source, name, guid, payload, lowered, generated)


def from_payload(
    payload: Any,
    event: str,
    source: str,
    *,
    new_guid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Delivery:
    """A bare webhook payload (what the receiver parsed from the body) as a delivery."""
    guid = new_guid()
    headers = {"x-github-event": event, "x-github-delivery": guid}
    return Delivery(source, event, guid, _payload(payload), headers, guid_generated=True)


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The bytes to send: compact JSON, as GitHub sends it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed(delivery: Delivery, secret: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of the HTTP request that replays `delivery` to a bot knowing `secret`:
    the original headers minus the stale ones, JSON content type, fresh signatures (sha256,
    and sha1 as GitHub also sends)."""
    body = body_of(delivery.payload)
    key = secret.encode()
    headers = {
        **delivery.headers,
        "content-type": "application/json",
        "x-hub-signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "x-hub-signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }
    return headers, body


# Reading files ---------------------------------------------------------------------------------


def in_directory(directory: Path) -> list[Path]:
    """A directory's deliveries, in replay order: its `*.json` files sorted by name (number
    them with zero padding: `02-…` comes before `10-…`)."""
    return sorted(
        (f for f in directory.iterdir() if f.suffix == ".json" and f.is_file()),
        key=lambda f: f.name,
    )


def read_file(path: Path, *, event: str | None = None) -> tuple[list[Delivery], list[Diagnostic]]:
    """The deliveries in one file, or the problems that stop it from being replayed."""
    where = str(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as exc:
        return [], [Diagnostic(where, 0, 0, f"cannot read: {exc.strerror}")]
    if len(raw) > MAX_FILE:
        return [], [Diagnostic(where, 0, 0, f"larger than {MAX_FILE} bytes: not a delivery")]
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [], [Diagnostic(where, 1, 1, "not UTF-8 text: not a JSON delivery")]
    except json.JSONDecodeError as exc:
        return [], [Diagnostic(where, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]
    items = data if isinstance(data, list) else [data]
    deliveries, problems = [], []
    for i, item in enumerate(items):
        source = f"{where}[{i}]" if isinstance(data, list) else where
        try:
            deliveries.append(parse_delivery(item, source, event=event))
        except DeliveryError as exc:
            problems.append(Diagnostic(where, 1, 1, f"{_at(data, i)}{exc}"))
    return deliveries, problems


def read_deliveries(
    paths: Sequence[str | Path], *, event: str | None = None
) -> tuple[list[Delivery], list[Diagnostic]]:
    """Every delivery in `paths` (files, or directories of files), in order."""
    deliveries: list[Delivery] = []
    problems: list[Diagnostic] = []
    for path in map(Path, paths):
        files = in_directory(path) if path.is_dir() else [path]
        if not files:
            problems.append(Diagnostic(str(path), 0, 0, "no *.json files in this directory"))
        for file in files:
            found, wrong = read_file(file, event=event)
            deliveries += found
            problems += wrong
    return deliveries, problems


# Helpers -------------------------------------------------------------------------------------


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # some tools keep the raw body as a string
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DeliveryError(f"the payload string is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise DeliveryError(f"the payload must be a JSON object, found {_kind(value)}")
    return value


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeliveryError(f"headers must be a JSON object, found {_kind(value)}")
    out = {}
    for name, v in value.items():
        key = str(name).lower()
        if key not in STALE_HEADERS and v is not None:
            out[key] = v if isinstance(v, str) else json.dumps(v)
    return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _at(data: Any, i: int) -> str:
    return f"item {i}: " if isinstance(data, list) else ""

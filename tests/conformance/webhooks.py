"""Webhook payloads checked against what GitHub sends.

- `pull_request` and `pull_request_review`: octokit's JSON Schemas (`{event}${action}`, `$ref`s
  resolved with `referencing`, validators compiled once per process).
- Other events (`push`, `check_run`, ...): no schema is vendored, so the payload's field names
  and JSON types must agree, recursively, with octokit's real example payloads of that event
  (all its actions together: the object an event carries has one shape, and each example
  shows some of its fields set and others null), and the parts every event shares
  (`repository`, `sender`, `organization`, `installation`) must match their common schemas.
- `membership` (an organization's event, sent to Apps with the members permission): no
  schema or example is vendored, but every part of it is, so it is checked against a schema
  assembled from octokit's common schemas with the fields GitHub's documentation lists for it
  ("Webhook events and payloads", membership: `action` added or removed, `scope` team,
  `member`, `team`, `organization`, `sender`, and `installation` for Apps); see `ASSEMBLED`.
- An event with neither a schema nor an example cannot be checked; that is reported too, so
  a new kind of event arrives with its evidence.

`EXAMPLE_DIFFERENCES` lists the only departures from the examples we accept, with reasons.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conformance.problem import Problem, pointer
from tests.conformance.shapes import Difference, Shape, differences
from tests.conftest import VENDOR

ENVELOPE = {
    "repository": "common/repository.schema.json",
    "sender": "common/user.schema.json",
    "organization": "common/organization.schema.json",
    "installation": "common/installation-lite.schema.json",
}

_NO_ACCOUNT = (
    "GitHub names the account only when the commit's e-mail belongs to one (octokit's "
    "with-no-username-committer example omits it for the committer); every example's author "
    "had an account, the seed's initial commit is by none"
)
_APP_TODAY = (
    "the App object as GitHub's REST description has it today (`integration` in "
    "github-rest-subset.json); octokit's check_run examples predate these fields"
)
# (event, JSON pointer inside the payload as an fnmatch pattern, kind) -> why we accept it
EXAMPLE_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("push", "*/author/username", "missing"): _NO_ACCOUNT,
    ("push", "*/committer/username", "missing"): _NO_ACCOUNT,
    ("check_run", "*/app/client_id", "unexpected"): _APP_TODAY,
    ("check_run", "*/app/installations_count", "unexpected"): _APP_TODAY,
    ("check_suite", "*/app/client_id", "unexpected"): _APP_TODAY,
    ("check_suite", "*/app/permissions/*", "missing"): (
        "an App's permissions are its own: octokit's example App asked for more than the seed's"
    ),
    ("check_suite", "*/app/installations_count", "unexpected"): _APP_TODAY,
}


# Events checked against a schema made of vendored parts (see the module docstring).
ASSEMBLED: dict[str, dict[str, Any]] = {
    "membership": {
        "type": "object",
        "required": ["action", "scope", "member", "team", "organization", "sender"],
        "properties": {
            "action": {"enum": ["added", "removed"]},
            "scope": {"enum": ["team"]},
            "member": {"$ref": "common/user.schema.json"},
            "team": {"$ref": "common/team.schema.json"},
            "organization": {"$ref": "common/organization.schema.json"},
            "sender": {"$ref": "common/user.schema.json"},
            "installation": {"$ref": "common/installation-lite.schema.json"},
        },
        "additionalProperties": False,
    }
}


class Webhooks:
    def __init__(self, root: Path) -> None:
        self.root = root  # octokit-webhooks/: <event>/<examples>, payload-schemas/
        resources = []
        for path in (root / "payload-schemas").rglob("*.schema.json"):
            schema = json.loads(path.read_text())
            resources.append((schema["$id"], Resource(contents=schema, specification=DRAFT7)))
        self.registry = Registry().with_resources(resources).crawl()
        self._validators: dict[str, Draft7Validator] = {}
        self._shapes: dict[str, Shape | None] = {}

    def has_schema(self, event: str, action: str | None) -> bool:
        return (self.root / "payload-schemas" / event / f"{action}.schema.json").exists()

    def validator(self, schema_id: str) -> Draft7Validator:
        found = self._validators.get(schema_id)
        if found is None:
            found = Draft7Validator({"$ref": schema_id}, registry=self.registry)
            self._validators[schema_id] = found
        return found

    def schema_problems(self, schema_id: str, value: Any, subject: str, part: str) -> list[Problem]:
        return [
            Problem(subject, part, pointer(e.absolute_path), e.message)
            for e in self.validator(schema_id).iter_errors(value)
        ]

    def examples(self, event: str) -> list[dict[str, Any]]:
        folder = self.root / event
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return [json.loads(f.read_text()) for f in files]

    def example_shape(self, event: str) -> Shape | None:
        if event not in self._shapes:
            bodies = [
                {k: v for k, v in x.items() if k not in ENVELOPE} for x in self.examples(event)
            ]
            self._shapes[event] = Shape.of(bodies) if bodies else None
        return self._shapes[event]

    def check(self, event: str, payload: dict[str, Any]) -> list[Problem]:
        action = payload.get("action")
        subject = f"webhook {event}" + (f".{action}" if action else "")
        if self.has_schema(event, action):
            return self.schema_problems(f"{event}${action}", payload, subject, "payload")
        if event in ASSEMBLED:
            validator = Draft7Validator(ASSEMBLED[event], registry=self.registry)
            return [
                Problem(subject, "payload", pointer(e.absolute_path), e.message)
                for e in validator.iter_errors(payload)
            ]
        shape = self.example_shape(event)
        if shape is None:
            message = "no vendored schema or example payload to check this event against"
            return [Problem(subject, "payload", "", message)]
        problems = []
        for key, schema_id in ENVELOPE.items():
            if key in payload:
                problems += self.schema_problems(schema_id, payload[key], subject, "payload")
        body = {k: v for k, v in payload.items() if k not in ENVELOPE}
        for difference in differences(shape, body):
            if not _accepted(event, difference):
                problems.append(
                    Problem(subject, "payload", difference.pointer, _explain(difference))
                )
        return problems


def _accepted(event: str, difference: Difference) -> bool:
    return any(
        name == event and kind == difference.kind and fnmatchcase(difference.pointer, pattern)
        for name, pattern, kind in EXAMPLE_DIFFERENCES
    )


def _explain(difference: Difference) -> str:
    return str(difference).split(": ", 1)[1] + " (compared with octokit's example payloads)"


@cache
def webhooks() -> Webhooks | None:
    """The vendored schemas and examples, loaded once per process (None without them)."""
    root = VENDOR / "octokit-webhooks"
    return Webhooks(root) if (root / "payload-schemas").is_dir() else None

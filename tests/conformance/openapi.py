"""Calls checked against the vendored OpenAPI subset (`github-rest-subset.json`).

The description is OpenAPI 3.0; it is converted once to JSON Schema (`nullable` becomes an
explicit null alternative) and each schema gets one compiled validator per process, so checking
a call costs a validation, not a compilation. For an operation the subset covers, `check(call)`
reports:

- request: the JSON body and the path and query parameters, when the call succeeded (a refused
  request may be malformed on purpose);
- response: the status must be one GitHub documents for the operation (besides those any call
  can get: `ANY_OPERATION`), the body must match its
  schema (formats `date-time` and `uri` included), a documented `Location` must be sent, and a
  `Link` must be GitHub's `<absolute URL>; rel="..."` list.

Every error answer, of any operation, must be GitHub's error body (`ERROR_BODY`): `message`
and `documentation_url`, and `errors` as strings or `validation-error` items.

A few operations the subset lacks answer with a schema it holds (`BORROWED`: GitHub's
reference gives the same response schema for them); their successful bodies are checked
against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.emulator.calllog import Call
from tests.conformance.problem import Problem, pointer
from tests.conftest import VENDOR

URN = "urn:github-rest-subset"
# Statuses any operation may answer whatever its description lists: 400 for a body that is
# not JSON, no or bad credentials, no permission, hidden or missing, 422 for a body GitHub
# refuses (its description omits 422 on some operations that send it: check runs, statuses),
# rate limited.
ANY_OPERATION = frozenset({400, 401, 403, 404, 422, 429})
ERROR_BODY = {
    "type": "object",
    "required": ["message", "documentation_url"],
    "properties": {
        "message": {"type": "string"},
        "documentation_url": {"type": "string"},
        "url": {"type": "string"},
        "status": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"type": "string"},
                    {"$ref": "#/components/schemas/validation-error/properties/errors/items"},
                ]
            },
        },
    },
}
# (method, route) -> the vendored schema GitHub documents for its 2xx body
BORROWED = {
    ("PUT", "/orgs/{org}/teams/{team_slug}/memberships/{username}"): (
        "/components/schemas/team-membership"
    ),
}
_LINK = re.compile(r'<([^>]+)>; rel="(next|prev|first|last)"')

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339: a date, `T`, a time and an offset (GitHub writes `2011-01-26T19:01:12Z`)."""
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    """An absolute URL: clients follow these, so a relative one would break them."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "mailto")


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes an explicit null alternative.

    `oneOf` becomes `anyOf`: GitHub's description uses `oneOf` between alternatives that
    overlap (e.g. `basic-error` and `repository-rule-violation-error`), which no real
    response could satisfy exactly once.
    """
    if isinstance(node, list):
        return [json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {
        ("anyOf" if k == "oneOf" else k): json_schema(v) for k, v in node.items() if k != "nullable"
    }
    if node.get("nullable") is True:
        if "type" in out and isinstance(out["type"], str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


def nullable(schemas: Iterable[dict[str, Any]]) -> bool:
    """Whether any of `schemas` admits null."""
    for schema in schemas:
        kind = schema.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
    return False


def declares(schemas: Iterable[dict[str, Any]], key: str) -> bool:
    """Whether any of `schemas` (objects) names the property `key`."""
    return any(key in schema.get("properties", {}) for schema in schemas)


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """A query or path string as the JSON value its schema describes (GitHub parses them)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


class OpenApi:
    def __init__(self, path: Path) -> None:
        self.doc = json_schema(json.loads(path.read_text()))
        self.doc["$id"] = URN
        self.doc["x-error-body"] = ERROR_BODY
        resource = Resource(contents=self.doc, specification=DRAFT7)
        self.registry = Registry().with_resource(URN, resource).crawl()
        self._validators: dict[str, Draft7Validator] = {}

    # --- the description ------------------------------------------------------------------
    def operation(self, method: str, template: str | None) -> dict[str, Any] | None:
        if template is None:
            return None
        return self.doc["paths"].get(template, {}).get(method.lower())

    def covers(self, method: str, template: str | None) -> bool:
        return self.operation(method, template) is not None

    def resolve(self, node: Any) -> Any:
        """`node`, or what its `$ref` points at (within the description)."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.at(node["$ref"].removeprefix("#"))
        return node

    def at(self, json_pointer: str) -> Any:
        node: Any = self.doc
        for part in json_pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def response_schema(self, method: str, template: str, status: int) -> str | None:
        """The JSON pointer of the response body's schema, if the description gives one."""
        op = self.operation(method, template)
        response = op["responses"].get(str(status)) if op else None
        if response is None:
            return None
        base = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        if "$ref" in response:
            base = response["$ref"].removeprefix("#")
            response = self.resolve(response)
        content = response.get("content", {}).get("application/json")
        if content is None or "schema" not in content:
            return None
        return base + "/content/application~1json/schema"

    def schemas_at(self, json_pointer: str, path: Iterable[str | int]) -> list[dict[str, Any]]:
        """Every schema that may describe the value at `path` (keys, and indexes for array
        items) inside a document described by the schema at `json_pointer`: `$ref`s followed,
        `allOf` and `anyOf` branches all taken."""
        current = self._expand(self.at(json_pointer))
        for part in path:
            found: list[dict[str, Any]] = []
            for schema in current:
                if isinstance(part, int):
                    if "items" in schema:
                        found += self._expand(schema["items"])
                elif part in schema.get("properties", {}):
                    found += self._expand(schema["properties"][part])
                elif isinstance(schema.get("additionalProperties"), dict):
                    found += self._expand(schema["additionalProperties"])
            current = found
        return current

    def _expand(self, node: Any) -> list[dict[str, Any]]:
        node = self.resolve(node)
        out = [node]
        for key in ("allOf", "anyOf"):
            for branch in node.get(key, []):
                out += self._expand(branch)
        return out

    def validator(self, json_pointer: str) -> Draft7Validator:
        found = self._validators.get(json_pointer)
        if found is None:
            schema = {"$ref": f"{URN}#{json_pointer}"}
            found = Draft7Validator(schema, registry=self.registry, format_checker=FORMATS)
            self._validators[json_pointer] = found
        return found

    def errors(self, json_pointer: str, value: Any, subject: str, part: str) -> list[Problem]:
        return [
            Problem(subject, part, pointer(e.absolute_path), e.message)
            for e in self.validator(json_pointer).iter_errors(value)
        ]

    # --- a served call --------------------------------------------------------------------
    def check(self, call: Call) -> list[Problem]:
        """Every way `call` departs from the description (for an operation the subset lacks,
        only the shape of an error body is checked)."""
        subject = f"{call.method} {call.route or call.path} -> {call.status}"
        problems: list[Problem] = []
        if call.status >= 400:
            problems += self.errors("/x-error-body", call.response_json, subject, "error body")
        op = self.operation(call.method, call.route)
        borrowed = BORROWED.get((call.method, call.route or ""))
        if borrowed is not None and 200 <= call.status < 300:
            problems += self.errors(borrowed, call.response_json, subject, "response body")
        if op is None or call.route is None or call.status == 304:
            return problems
        if 200 <= call.status < 300:
            problems += self._request(op, call, subject)
        response = op["responses"].get(str(call.status))
        if response is None:
            if call.status not in ANY_OPERATION:
                documented = ", ".join(op["responses"])
                problems.append(
                    Problem(subject, "status", "", f"not documented (only {documented})")
                )
            return problems
        schema = self.response_schema(call.method, call.route, call.status)
        if schema is not None:
            problems += self.errors(schema, call.response_json, subject, "response body")
        problems += self._headers(self.resolve(response), call, subject)
        return problems

    def _request(self, op: dict[str, Any], call: Call, subject: str) -> list[Problem]:
        assert call.route is not None
        where = f"/paths/{_escape(call.route)}/{call.method.lower()}"
        problems = []
        if "requestBody" in op and call.request_json is not None:
            schema = where + "/requestBody/content/application~1json/schema"
            problems += self.errors(schema, call.request_json, subject, "request body")
        for i, param in enumerate(op.get("parameters", [])):
            base = param["$ref"].removeprefix("#") if "$ref" in param else f"{where}/parameters/{i}"
            param = self.resolve(param)
            given = {"query": call.query, "path": call.params}.get(param["in"], {})
            raw = given.get(param["name"])
            if raw is None or "schema" not in param:
                continue
            value = _coerce(raw, param["schema"])
            part = f"{param['in']} parameter {param['name']}={raw!r}"
            problems += self.errors(base + "/schema", value, subject, part)
        return problems

    def _headers(self, response: dict[str, Any], call: Call, subject: str) -> list[Problem]:
        if not 200 <= call.status < 300:
            return []
        sent = {k.lower(): v for k, v in call.response_headers.items()}
        problems = []
        for name in response.get("headers", {}):
            if name.lower() == "location":
                value = sent.get("location")
                if value is None or not _uri(value):
                    message = f"GitHub sends the new resource's URL, got {value!r}"
                    problems.append(Problem(subject, "header Location", "", message))
        link = sent.get("link")
        if link is not None:
            parts = [p.strip() for p in link.split(",")]
            for part in parts:
                m = _LINK.fullmatch(part)
                if m is None or not _uri(m.group(1)):
                    message = f'{part!r} is not `<absolute URL>; rel="next|prev|first|last"`'
                    problems.append(Problem(subject, "header Link", "", message))
        return problems


@cache
def openapi() -> OpenApi | None:
    """The vendored description, loaded once per process (None without `../shared`)."""
    path = VENDOR / "github-rest-subset.json"
    return OpenApi(path) if path.exists() else None

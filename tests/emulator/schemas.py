"""Validation of what the emulator serves against GitHub's own descriptions.

- `OpenApi`: the vendored OpenAPI subset (`github-rest-subset.json`), converted from OpenAPI
  3.0 (`nullable`) to JSON Schema; validates request bodies and responses by method, route
  template and status.
- `WebhookSchemas`: the vendored octokit payload schemas, `$ref`s resolved with `referencing`.
- `Conformance`: a call-log listener that validates every call served during a test.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.emulator.calllog import Call
from tests.conftest import VENDOR


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes an explicit null alternative.

    `oneOf` becomes `anyOf`: GitHub's description uses `oneOf` between alternatives that
    overlap (e.g. `basic-error` and `repository-rule-violation-error`), which no real
    response could satisfy exactly once.
    """
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {
        ("anyOf" if k == "oneOf" else k): _nullable(v) for k, v in node.items() if k != "nullable"
    }
    if node.get("nullable") is True:
        if "type" in out and isinstance(out["type"], str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


class OpenApi:
    def __init__(self, path: Path) -> None:
        self.doc = _nullable(json.loads(path.read_text()))
        self.doc["$id"] = "urn:github-rest-subset"
        resource = Resource(contents=self.doc, specification=DRAFT7)
        self.registry = Registry().with_resource("urn:github-rest-subset", resource)

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        return self.doc["paths"].get(template, {}).get(method.lower())

    def covers(self, method: str, template: str | None) -> bool:
        return template is not None and self.operation(method, template) is not None

    def _schema(self, pointer: str) -> Draft7Validator:
        schema = {"$ref": f"urn:github-rest-subset#{pointer}"}
        return Draft7Validator(schema, registry=self.registry)

    def response_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        op = self.operation(method, template)
        if op is None or status == 304:
            return []
        responses = op["responses"]
        key = str(status)
        if key not in responses:
            if 200 <= status < 300:
                documented = ", ".join(responses)
                return [f"{method} {template}: status {status} is not documented ({documented})"]
            return []  # the subset keeps few error statuses; GitHub sends more (401, 404...)
        base = f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
        response = responses[key]
        if "$ref" in response:
            base = response["$ref"].removeprefix("#")
            response = self._resolve(base)
        content = response.get("content", {}).get("application/json")
        if content is None or "schema" not in content:
            return []
        validator = self._schema(base + "/content/application~1json/schema")
        return [
            f"{method} {template} {status}: {e.json_path}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def request_errors(self, method: str, template: str, body: Any) -> list[str]:
        op = self.operation(method, template)
        if op is None or "requestBody" not in op or body is None:
            return []
        operation = f"/paths/{_escape(template)}/{method.lower()}"
        validator = self._schema(operation + "/requestBody/content/application~1json/schema")
        return [
            f"{method} {template} request: {e.json_path}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def _resolve(self, pointer: str) -> Any:
        node: Any = self.doc
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


class WebhookSchemas:
    def __init__(self, root: Path) -> None:
        resources = []
        for path in root.rglob("*.schema.json"):
            schema = json.loads(path.read_text())
            resources.append((schema["$id"], Resource(contents=schema, specification=DRAFT7)))
        self.registry = Registry().with_resources(resources)
        self.root = root

    def has(self, event: str, action: str) -> bool:
        return (self.root / event / f"{action}.schema.json").exists()

    def validate_ref(self, schema_id: str, value: Any) -> list[str]:
        validator = Draft7Validator({"$ref": schema_id}, registry=self.registry)
        return [f"{schema_id}: {e.json_path}: {e.message}" for e in validator.iter_errors(value)]

    def errors(self, event: str, payload: dict[str, Any]) -> list[str]:
        action = payload.get("action")
        schema_id = f"{event}${action}"
        validator = Draft7Validator({"$ref": schema_id}, registry=self.registry)
        return [
            f"{event}.{action}: {e.json_path}: {e.message}" for e in validator.iter_errors(payload)
        ]


@cache
def openapi() -> OpenApi | None:
    path = VENDOR / "github-rest-subset.json"
    return OpenApi(path) if path.exists() else None


@cache
def webhook_schemas() -> WebhookSchemas | None:
    root = VENDOR / "octokit-webhooks" / "payload-schemas"
    return WebhookSchemas(root) if root.exists() else None


class Conformance:
    """Call-log listener: records OpenAPI violations of every call served (HTTP or in-process)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, call: Call) -> None:
        api = openapi()
        if api is None or not api.covers(call.method, call.route) or call.fault:
            return
        assert call.route is not None
        self.checked += 1
        if 200 <= call.status < 300:  # refused requests may be malformed on purpose
            self.problems += api.request_errors(call.method, call.route, call.request_json)
        self.problems += api.response_errors(
            call.method, call.route, call.status, call.response_json
        )

"""What the conformance checks catch, on hand-made calls and payloads: each kind of departure
is reported with its operation, status, part and JSON pointer, and nothing else is."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import Emulator
from bot.emulator.calllog import Call
from bot.emulator.emulator import RECORD_ENV
from tests.conformance.openapi import OpenApi, openapi
from tests.conformance.plugin import Collector, Recording
from tests.conformance.webhooks import Webhooks, webhooks
from tests.conftest import vendor_path
from tests.emulator_harness import REPO, seed_for

GET_PR = "/repos/{owner}/{repo}/pulls/{pull_number}"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.fixture(scope="module")
def api() -> OpenApi:
    vendor_path("github-rest-subset.json")
    found = openapi()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def hooks() -> Webhooks:
    vendor_path("octokit-webhooks", "payload-schemas")
    found = webhooks()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def served() -> dict[str, Call]:
    """Real calls of a small story, by "METHOD template", to spoil one field at a time."""
    emulator = Emulator.from_seed(seed_for())
    emulator.person("dev").propose(REPO, {"a.txt": "a", "b.txt": "b"}, branch="a", title="A")
    emulator.request("GET", f"/repos/{REPO}/pulls/1", login="dev")
    emulator.request("GET", f"/repos/{REPO}/pulls/1/files", login="dev", query={"per_page": 1})
    emulator.request(
        "POST", f"/repos/{REPO}/issues/1/comments", login="mgr", json_body={"body": "hi"}
    )
    return {c.key: c for c in emulator.calls.calls(transport=None)}


def spoiled(call: Call, **changes: Any) -> Call:
    out = copy.deepcopy(call)
    for name, value in changes.items():
        setattr(out, name, value)
    return out


def test_real_calls_pass(api: OpenApi, served: dict[str, Call]) -> None:
    assert len(served) >= 8
    for call in served.values():
        assert api.check(call) == [], call.key


def test_response_body_problems_name_operation_status_and_pointer(
    api: OpenApi, served: dict[str, Call]
) -> None:
    call = served[f"GET {GET_PR}"]
    body = copy.deepcopy(call.response_json)
    body["head"]["sha"] = 5
    del body["base"]["sha"]
    body["created_at"] = "yesterday"
    body["html_url"] = "/acme/flags/pull/1"
    problems = sorted(str(p) for p in api.check(spoiled(call, response_json=body)))
    subject = f"GET {GET_PR} -> 200: response body at"
    assert problems == [
        f"{subject} /base: 'sha' is a required property",
        f"{subject} /created_at: 'yesterday' is not a 'date-time'",
        f"{subject} /head/sha: 5 is not of type 'string'",
        f"{subject} /html_url: '/acme/flags/pull/1' is not a 'uri'",
    ]


def test_requests_are_checked_only_when_they_succeeded(
    api: OpenApi, served: dict[str, Call]
) -> None:
    call = served[f"POST {COMMENTS}"]
    bad = {"body": 42}
    (problem,) = api.check(spoiled(call, request_json=bad))
    assert (
        str(problem) == f"POST {COMMENTS} -> 201: request body at /body: 42 is not of type 'string'"
    )
    refused = spoiled(call, request_json=bad, status=422, response_json=None)
    refused.response_json = {"message": "Validation Failed", "documentation_url": "x"}
    assert api.check(refused) == []


def test_parameters_are_checked(api: OpenApi, served: dict[str, Call]) -> None:
    call = served[f"GET {GET_PR}/files"]
    (problem,) = api.check(spoiled(call, query={"per_page": "many"}))
    assert problem.part == "query parameter per_page='many'"
    assert "'many' is not of type 'integer'" in problem.message
    (problem,) = api.check(spoiled(call, params={**call.params, "pull_number": "x"}))
    assert problem.part == "path parameter pull_number='x'"


def test_statuses_and_headers(api: OpenApi, served: dict[str, Call]) -> None:
    call = served[f"POST {COMMENTS}"]
    error = {"message": "Conflict", "documentation_url": "https://docs.github.com/rest"}
    assert [str(p) for p in api.check(spoiled(call, status=409, response_json=error))] == [
        f"POST {COMMENTS} -> 409: status at /: not documented (only 201, 403, 404, 410, 422)"
    ]
    headers = {k: v for k, v in call.response_headers.items() if k != "Location"}
    (problem,) = api.check(spoiled(call, response_headers=headers))
    assert problem.part == "header Location"
    files = served[f"GET {GET_PR}/files"]
    assert 'rel="next"' in files.response_headers["Link"]
    (problem,) = api.check(
        spoiled(files, response_headers={**files.response_headers, "Link": "</x?page=2>; rel=next"})
    )
    assert problem.part == "header Link"
    not_modified = spoiled(served[f"GET {GET_PR}"], status=304, response_json=None)
    assert api.check(not_modified) == []


def test_webhook_payloads(hooks: Webhooks) -> None:
    emulator = Emulator.from_seed(seed_for())
    emulator.add_webhook("http://127.0.0.1:9/never-served", "s3cret")
    emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
    by_event = {d.event: d.payload for d in emulator.webhooks.deliveries}
    assert hooks.check("pull_request", by_event["pull_request"]) == []
    assert hooks.check("push", by_event["push"]) == []

    opened = copy.deepcopy(by_event["pull_request"])
    opened["pull_request"]["user"]["id"] = "7"
    (problem,) = hooks.check("pull_request", opened)
    assert str(problem).startswith(
        "webhook pull_request.opened: payload at /pull_request/user/id: '7' is not of type"
    )

    pushed = copy.deepcopy(by_event["push"])
    pushed["head_commit"]["added"] = "a.txt"
    pushed["head_commit"]["tree"] = "abc"
    del pushed["pusher"]
    pushed["repository"]["full_name"] = None
    found = sorted(str(p) for p in hooks.check("push", pushed))
    compared = " (compared with octokit's example payloads)"
    at = "webhook push: payload at"
    assert found[0].startswith(f"{at} /full_name: None is not of type")
    assert found[1:] == [
        f"{at} /head_commit/added: we send string, GitHub sent array{compared}",
        f"{at} /head_commit/tree: we send this field (string), GitHub did not{compared}",
        f"{at} /pusher: GitHub sends this field, we do not{compared}",
    ]
    (problem,) = hooks.check("gollum", {"pages": []})
    assert problem.message == "no vendored schema or example payload to check this event against"


def test_error_bodies_of_every_operation_are_githubs(api: OpenApi, served: dict[str, Call]) -> None:
    emulator = Emulator.from_seed(seed_for())
    refused = emulator.request("GET", f"/repos/{REPO}/pulls/9/commits", login="dev")
    call = emulator.calls.calls(transport=None)[-1]
    assert refused.status == 404 and not api.covers(call.method, call.route)
    assert api.check(call) == []
    strings = {"message": "Unprocessable Entity", "documentation_url": "x", "errors": ["no"]}
    assert api.check(spoiled(call, status=422, response_json=strings)) == []
    bad = {"message": "Unprocessable Entity", "errors": [{"field": "title"}]}
    found = sorted(str(p) for p in api.check(spoiled(call, status=422, response_json=bad)))
    subject = "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits -> 422: error body at"
    assert found == [
        f"{subject} /: 'documentation_url' is a required property",
        f"{subject} /errors/0: {{'field': 'title'}} is not valid under any of the given schemas",
    ]


def test_a_log_without_bodies_still_shows_them_to_listeners() -> None:
    emulator = Emulator.from_seed(seed_for(), keep_bodies=False)
    seen: list[Call] = []
    emulator.calls.listeners.append(seen.append)
    emulator.request("POST", f"/repos/{REPO}/issues/1/comments", login="dev", json_body={"x": 1})
    emulator.request("GET", f"/repos/{REPO}", login="dev")
    assert [c.response_json is not None for c in seen] == [True, True]
    assert seen[0].request_json == {"x": 1}
    kept = emulator.calls.calls(transport=None)
    assert [(c.seq, c.request_json, c.response_json) for c in kept] == [
        (1, None, None),
        (2, None, None),
    ]


def test_emulators_in_other_processes_are_checked_from_their_recording(
    api: OpenApi, tmp_path: Path
) -> None:
    out = tmp_path / "calls.jsonl"
    script = (
        "from bot.emulator import Emulator\n"
        "from tests.emulator_harness import REPO, seed_for\n"
        "e = Emulator.from_seed(seed_for())\n"
        "assert e.request('GET', f'/repos/{REPO}/contents/README.md', login='dev').ok\n"
    )
    env = {**os.environ, RECORD_ENV: str(out)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    collector = Collector()
    collector.recording = Recording(out)
    assert collector.take() == [] and collector.calls == 1

    record = json.loads(out.read_text())
    record["response_json"]["size"] = "large"
    with out.open("a") as f:
        f.write(json.dumps(record) + "\n" + json.dumps(record)[:50])  # and half a line
    (problem,) = collector.take()
    assert problem.subject == "GET /repos/{owner}/{repo}/contents/{path} -> 200"
    assert problem.part == "response body" and collector.calls == 2

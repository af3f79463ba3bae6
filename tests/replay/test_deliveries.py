"""Reading recorded deliveries in every shape, and re-signing them so a bot accepts them."""

from __future__ import annotations

import json

import pytest
from gidgethub.sansio import Event, validate_event
from multidict import CIMultiDict

from bot.emulator.webhooks import sign
from bot.replay.deliveries import (
    DeliveryError,
    body_of,
    from_payload,
    in_directory,
    parse_delivery,
    read_deliveries,
    read_file,
    signed,
)
from bot.service.intake import Accepted, check_delivery

PAYLOAD = {"action": "opened", "number": 7, "pull_request": {"number": 7, "title": "Grüße"}}
GUID = "0b989ba4-242f-11e5-81e1-c7b6966d2516"


def record(**overrides):
    """GitHub's hook-delivery JSON (`GET /app/hook/deliveries/{id}`), headers mixed-case."""
    out = {
        "id": 12345678,
        "guid": GUID,
        "event": "pull_request",
        "action": "opened",
        "status_code": 200,
        "request": {
            "headers": {
                "X-GitHub-Delivery": GUID,
                "X-Hub-Signature-256": "sha256=stale",
                "X-Hub-Signature": "sha1=stale",
                "Accept": "*/*",
                "X-GitHub-Hook-ID": "42",
                "User-Agent": "GitHub-Hookshot/b8c71d8",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Hook-Installation-Target-ID": "123",
                "X-GitHub-Hook-Installation-Target-Type": "integration",
                "content-type": "application/x-www-form-urlencoded",
                "Content-Length": "999",
            },
            "payload": PAYLOAD,
        },
        "response": {"headers": {}, "payload": "ok"},
    }
    out.update(overrides)
    return out


def test_githubs_delivery_record_keeps_event_and_id_and_drops_stale_headers():
    d = parse_delivery(record(), "d.json")
    assert (d.event, d.guid, d.guid_generated, d.label) == (
        "pull_request",
        GUID,
        False,
        "pull_request.opened",
    )
    assert d.payload == PAYLOAD
    assert d.headers == {
        "x-github-delivery": GUID,
        "accept": "*/*",
        "x-github-hook-id": "42",
        "user-agent": "GitHub-Hookshot/b8c71d8",
        "x-github-event": "pull_request",
        "x-github-hook-installation-target-id": "123",
        "x-github-hook-installation-target-type": "integration",
    }


def test_event_and_id_fall_back_to_the_top_level_fields():
    data = record()
    data["request"]["headers"] = {"Accept": "*/*"}
    d = parse_delivery(data, "d.json")
    assert (d.event, d.guid) == ("pull_request", GUID)
    assert d.headers["x-github-event"] == "pull_request"
    assert d.headers["x-github-delivery"] == GUID


def test_the_header_wins_over_the_top_level_event():
    d = parse_delivery(
        {"event": "issues", "headers": {"X-GitHub-Event": "push"}, "payload": {}}, "x"
    )
    assert d.event == "push"


def test_headers_and_payload_object():
    d = parse_delivery(
        {
            "headers": {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "abc"},
            "payload": PAYLOAD,
        },
        "x.json",
    )
    assert (d.event, d.guid, d.payload) == ("pull_request", "abc", PAYLOAD)


def test_probot_fixture_names_the_event_and_a_missing_id_is_made_up():
    d = parse_delivery(
        {"event": "pull_request", "name": "pull_request", "payload": PAYLOAD},
        "fixture.json",
        new_guid=lambda: "made-up",
    )
    assert (d.event, d.guid, d.guid_generated) == ("pull_request", "made-up", True)
    named = parse_delivery({"name": "pull_request", "id": "p-1", "payload": PAYLOAD}, "f.json")
    assert (named.event, named.guid, named.guid_generated) == ("pull_request", "p-1", False)


def test_a_payload_kept_as_a_string_is_parsed():
    d = parse_delivery({"event": "ping", "payload": json.dumps({"zen": "Keep it simple."})}, "x")
    assert d.payload == {"zen": "Keep it simple."}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "expected a JSON object, found an array"),
        ({"zen": "bare"}, "pass --event NAME"),
        ({"payload": {}}, "no event name"),
        ({"event": "ping", "payload": None}, "the payload must be a JSON object, found null"),
        ({"event": "ping", "payload": "{oops"}, "the payload string is not JSON"),
        ({"event": "ping", "headers": ["x"], "payload": {}}, "headers must be a JSON object"),
        ({"request": {"headers": {}, "payload": [1]}, "event": "ping"}, "found an array"),
    ],
)
def test_what_is_not_a_delivery_is_refused_with_what_to_do(data, says):
    with pytest.raises(DeliveryError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_delivery(data, "x.json")


def test_a_bare_payload_with_its_event_named():
    d = parse_delivery({"zen": "bare"}, "p.json", event="ping", new_guid=lambda: "g")
    assert (d.event, d.guid, d.guid_generated, d.payload) == ("ping", "g", True, {"zen": "bare"})
    assert from_payload({"a": 1}, "ping", "p.json").headers["x-github-event"] == "ping"


def test_signed_request_is_accepted_by_the_bots_intake_and_by_gidgethub():
    d = parse_delivery(record(), "d.json")
    headers, body = signed(d, "s3cret")
    assert body == body_of(PAYLOAD)
    assert json.loads(body) == PAYLOAD
    assert b" " not in body.replace(b"Gr\xc3\xbc\xc3\x9fe", b"")  # compact, UTF-8 as GitHub
    assert headers["content-type"] == "application/json"
    assert "content-length" not in headers
    result = check_delivery(CIMultiDict(headers), body, "s3cret", 1 << 20)
    assert isinstance(result, Accepted)
    assert (result.event, result.delivery_id) == ("pull_request", GUID)
    event = Event.from_http(headers, body, secret="s3cret")
    assert (event.event, event.delivery_id, event.data) == ("pull_request", GUID, PAYLOAD)
    validate_event(body, signature=headers["x-hub-signature"], secret="s3cret")  # sha1 too


def test_re_signing_what_the_emulator_sent_gives_its_signature_back():
    # The emulator signs compact JSON as GitHub does; from its parsed payload, the same bytes.
    payload = {"action": "closed", "number": 3, "repository": {"full_name": "acme/flags"}}
    body = json.dumps(payload, separators=(",", ":")).encode()
    original = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "g", **sign("k", body)}
    d = parse_delivery({"headers": original, "payload": payload}, "x")
    headers, again = signed(d, "k")
    assert again == body
    assert headers["x-hub-signature-256"] == original["X-Hub-Signature-256"]


def test_read_file_points_at_the_json_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "event": "ping",\n  "payload": {,}\n}\n')
    deliveries, [problem] = read_file(bad)
    assert deliveries == []
    assert (problem.path, problem.line, problem.column) == (str(bad), 3, 15)
    assert problem.message.startswith("not valid JSON")


def test_read_file_takes_an_array_and_names_the_bad_item(tmp_path):
    f = tmp_path / "many.json"
    f.write_text(json.dumps([record(), {"nothing": 1}, {"event": "ping", "payload": {}}]))
    deliveries, [problem] = read_file(f)
    assert [d.source for d in deliveries] == [f"{f}[0]", f"{f}[2]"]
    assert str(problem).startswith(f"{f}:1:1: item 1: not a delivery")


def test_a_directory_is_replayed_sorted_by_name(tmp_path):
    for name in ("10-closed.json", "02-review.json", "01-opened.json", "notes.txt"):
        (tmp_path / name).write_text(json.dumps({"event": name, "payload": {}}))
    assert [p.name for p in in_directory(tmp_path)] == [
        "01-opened.json",
        "02-review.json",
        "10-closed.json",
    ]
    deliveries, problems = read_deliveries([tmp_path, tmp_path / "02-review.json"])
    assert problems == []
    assert [d.event for d in deliveries] == [
        "01-opened.json",
        "02-review.json",
        "10-closed.json",
        "02-review.json",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, problems = read_deliveries([empty, tmp_path / "missing.json"])
    assert [p.message for p in problems] == [
        "no *.json files in this directory",
        "cannot read: No such file or directory",
    ]

from urllib.parse import urlencode

from bot.service.app import parse_event

HEADERS = {
    "x-github-event": "pull_request",
    "x-github-delivery": "d1",
    "x-hub-signature-256": "sha256=verified-on-the-request-path",
}


def test_json_delivery():
    e = parse_event({**HEADERS, "content-type": "application/json"}, b'{"action": "opened"}')
    assert (e.event, e.delivery_id, e.data) == ("pull_request", "d1", {"action": "opened"})


def test_form_encoded_delivery():
    body = urlencode({"payload": '{"action": "closed"}'}).encode()
    e = parse_event({**HEADERS, "content-type": "application/x-www-form-urlencoded"}, body)
    assert e.data == {"action": "closed"}

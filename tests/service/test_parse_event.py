from urllib.parse import urlencode

import msgspec
import pytest

from bot.service.intake import Accepted
from bot.service.routing import parse_event


def delivery(body: bytes, content_type: str = "application/json") -> Accepted:
    return Accepted("pull_request", "d1", body, content_type)


def test_json_delivery():
    e = parse_event(delivery(b'{"action": "opened"}'))
    assert (e.event, e.delivery_id, e.data) == ("pull_request", "d1", {"action": "opened"})


def test_only_the_fields_routing_reads_are_decoded():
    body = (
        b'{"action": "opened", "number": 7, "pull_request": {"number": 7, "title": "T", '
        b'"head": {"sha": "abc"}}, "repository": {"full_name": "o/r", "id": 1}, '
        b'"installation": {"id": 5, "node_id": "x"}, "sender": {"login": "dev"}}'
    )
    assert parse_event(delivery(body)).data == {
        "action": "opened",
        "pull_request": {"number": 7},
        "repository": {"full_name": "o/r"},
        "installation": {"id": 5},
    }


@pytest.mark.parametrize(
    "body", [b'{"action": "opened", "pull_request": "seven"}', b"[1]", b'{"action": ']
)
def test_a_payload_of_the_wrong_shape_is_an_error_the_loop_logs(body):
    with pytest.raises(msgspec.DecodeError):
        parse_event(delivery(body))


def test_form_encoded_delivery():
    body = urlencode({"payload": '{"action": "closed"}'}).encode()
    e = parse_event(delivery(body, "application/x-www-form-urlencoded"))
    assert e.data == {"action": "closed"}

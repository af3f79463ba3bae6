"""Which deliveries `flagbot redeliver` resends: events with no successful attempt, once."""

from datetime import UTC, datetime

from bot.deliveries import to_redeliver

SINCE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def attempt(id, guid, code, at="2026-12-01T11:00:00Z", event="pull_request_review"):
    return {"id": id, "guid": guid, "status_code": code, "delivered_at": at, "event": event,
            "action": "submitted", "status": "OK" if code == 200 else "failed"}  # fmt: skip


def test_only_events_that_never_succeeded_by_their_latest_attempt():
    attempts = [
        attempt(1, "a", 0),
        attempt(2, "a", 503),  # a, tried twice, never succeeded: redeliver attempt 2
        attempt(3, "b", 0),
        attempt(4, "b", 202),  # b succeeded on a redelivery: leave it
        attempt(5, "c", 302),  # 3xx counts as success, as GitHub classifies it
        attempt(6, "d", 0, at="2026-12-01T09:59:59Z"),  # before the window
    ]
    assert [(r.delivery_id, r.guid) for r in to_redeliver(attempts, SINCE)] == [(2, "a")]


def test_nothing_listed_nothing_to_do():
    assert to_redeliver([], SINCE) == []

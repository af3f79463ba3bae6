"""Acknowledged deliveries are routed off the request path: acknowledging only queues them, the
parser works the backlog off in slices that let the event loop in, and deliveries for one pull
request coalesce into one reconcile."""

from __future__ import annotations

import json
import logging

import pytest

from bot.service import routing
from bot.service.app import Service
from bot.service.config import ServiceConfig
from bot.service.intake import Accepted


def delivery(n: int, number: int, repo: str = "acme/flags") -> Accepted:
    body = {
        "action": "synchronize",
        "number": number,
        "pull_request": {"number": number, "title": "x" * 200},
        "repository": {"full_name": repo},
        "installation": {"id": 7},
    }
    return Accepted("pull_request", f"d-{n}", json.dumps(body).encode(), "application/json")


@pytest.fixture
async def service():
    reconciled: list[tuple[str, int]] = []
    svc = Service(ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t"))

    async def reconcile(key):
        reconciled.append(key)

    svc.queue._work = reconcile
    await svc.start()
    svc.reconciled = reconciled  # type: ignore[attr-defined]
    try:
        yield svc
    finally:
        await svc.stop()


async def test_acknowledging_queues_and_the_parser_routes_later(service):
    for n in range(60):
        service.accept(delivery(n, number=1 + n % 3))
    assert service.backlog == 60  # nothing parsed while acknowledging
    assert service.reconciled == []
    await service.drain()
    assert service.backlog == 0
    assert sorted(set(service.reconciled)) == [
        ("acme/flags", 1),
        ("acme/flags", 2),
        ("acme/flags", 3),
    ]
    assert len(service.reconciled) <= 6  # a burst for a pull request coalesces
    assert service.installations[("acme/flags", 2)] == 7


async def test_a_malformed_delivery_is_logged_and_the_rest_routed(service, caplog):
    service.accept(delivery(0, number=1))
    service.accept(
        Accepted("pull_request", "bad", b'{"pull_request": "seven"}', "application/json")
    )
    service.accept(delivery(2, number=2))
    with caplog.at_level(logging.WARNING, logger="flagbot.service"):
        await service.drain()
    # One line naming the delivery, its event and why; no traceback (not flagbot's bug).
    [bad] = [r for r in caplog.records if "bad" in r.getMessage()]
    assert bad.getMessage().startswith("bad delivery bad (pull_request): ")
    assert bad.exc_info is None and "Traceback" not in caplog.text
    assert sorted(set(service.reconciled)) == [("acme/flags", 1), ("acme/flags", 2)]


async def test_routing_lets_the_event_loop_in_between_slices(service, monkeypatch):
    import asyncio

    monkeypatch.setattr(routing, "ROUTING_SLICE", 0.0)  # a slice of one delivery
    seen: list[int] = []

    async def probe() -> None:
        while not seen or seen[-1]:
            seen.append(service.backlog)
            await asyncio.sleep(0)

    for n in range(20):
        service.accept(delivery(n, number=1))
    watcher = asyncio.create_task(probe())
    await service.drain()
    await watcher
    waiting = [b for b in seen if 0 < b < 20]
    assert len(waiting) >= 10  # the probe ran between deliveries, not after the whole backlog


def test_routed_events_are_the_ones_handlers_are_registered_for():
    from bot.service import events

    registered = {*events.router._shallow_routes, *events.router._deep_routes}
    assert registered == events.ROUTED_EVENTS


async def test_events_nobody_routes_are_not_parsed(service, caplog):
    service.accept(
        Accepted("issues", "i-1", b'{"issue": "not even valid for routing', "application/json")
    )
    service.accept(Accepted("ping", "p-1", b"{}", "application/json"))
    with caplog.at_level(logging.ERROR, logger="flagbot.service"):
        await service.drain()
    assert caplog.text == ""
    assert service.reconciled == []


async def test_routing_waits_while_a_burst_is_still_arriving(service, monkeypatch):
    import asyncio

    monkeypatch.setattr(routing, "ROUTING_QUIET", 0.5)  # generous: a loaded machine cannot flake it
    service.accept(delivery(0, number=1))
    for n in range(1, 8):  # deliveries keep arriving, far closer together than ROUTING_QUIET
        await asyncio.sleep(0.002)
        service.accept(delivery(n, number=1))
        assert service.reconciled == [], "routed before the burst was acknowledged"
    await service.drain()  # once quiet, it routes
    assert service.reconciled == [("acme/flags", 1)]


async def test_a_burst_that_never_ends_is_still_routed(service, monkeypatch):
    import asyncio

    monkeypatch.setattr(routing, "ROUTING_QUIET", 60.0)  # the stream never goes quiet...
    monkeypatch.setattr(routing, "ROUTING_MAX_DEFER", 0.02)  # ...so the deferral's bound decides
    for n in range(2000):
        if service.reconciled:
            break
        service.accept(delivery(n, number=1))
        await asyncio.sleep(0.002)
    assert service.reconciled, "routing starved by a continuous stream of deliveries"

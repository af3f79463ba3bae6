"""While routing waits, the backlog keeps each delivery's routing fields, never its body."""

from __future__ import annotations

import json
import tracemalloc

from bot.service.app import Service
from bot.service.config import ServiceConfig
from bot.service.intake import Accepted


def big_delivery(n: int) -> Accepted:
    body = {
        "action": "synchronize",
        "number": n,
        "pull_request": {"number": n, "body": "x" * 100_000},
        "repository": {"full_name": "acme/flags"},
        "installation": {"id": 7},
    }
    return Accepted("pull_request", f"d-{n}", json.dumps(body).encode(), "application/json")


async def test_a_waiting_backlog_holds_no_bodies() -> None:
    service = Service(ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t"))
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    deliveries = [big_delivery(n) for n in range(50)]  # 5 MB of payloads
    for delivery in deliveries:
        service.accept(delivery)
    del deliveries, delivery  # what the request handler lets go of once it has answered
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert service.backlog == 50
    assert held - before < 200_000  # a few KB per delivery at most, not 100 KB

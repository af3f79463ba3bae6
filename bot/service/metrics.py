"""Prometheus metrics of one service: what it received, decided, merged, announced and spent.

Each service has its own registry (two in one test process do not mix), exposed at
`GET /metrics` in Prometheus' text format. README "Metrics" documents each series; label values
are bounded sets (events, outcomes, steps, channel names from flagbot.yml, installation ids).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Reconciles take one to a few dozen GitHub calls: tens of milliseconds to seconds.
RECONCILE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self, backlog: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.deliveries = Counter(
            "flagbot_deliveries",
            "Webhook deliveries by event and outcome (rejected, ignored, routed, malformed).",
            ["event", "outcome"],
            registry=r,
        )
        self.reconciles = Counter(
            "flagbot_reconciles",
            "Pull request reconciles by result (decided, left_alone, not_ours, failed).",
            ["result"],
            registry=r,
        )
        self.decisions = Counter(
            "flagbot_decisions",
            "Decisions by step (validate, approval, apply_change, notify, done, rejected, ...).",
            ["step"],
            registry=r,
        )
        self.merges = Counter(
            "flagbot_merges",
            "Merges flagbot asked GitHub for, by result (merged, conflict, refused).",
            ["result"],
            registry=r,
        )
        self.notices = Counter(
            "flagbot_notices",
            "Change notices by channel (its name in flagbot.yml) and outcome (sent, failed).",
            ["channel", "outcome"],
            registry=r,
        )
        self.api_calls = Counter(
            "flagbot_github_api_calls",
            "GitHub API calls by HTTP status (`error`: no answer, connection or timeout).",
            ["status"],
            registry=r,
        )
        self.rate_limit = Gauge(
            "flagbot_github_rate_limit_remaining",
            "x-ratelimit-remaining in GitHub's latest answer, per installation ('app' for "
            "calls made with the App's JWT, 'token' in token mode).",
            ["installation"],
            registry=r,
        )
        self.backlog = Gauge(
            "flagbot_backlog",
            "Deliveries acknowledged but not yet routed, plus pull requests waiting for or in "
            "a reconcile.",
            registry=r,
        )
        self.backlog.set_function(backlog)
        self.reconcile_seconds = Histogram(
            "flagbot_reconcile_duration_seconds",
            "Wall time of one reconcile, GitHub calls included.",
            buckets=RECONCILE_BUCKETS,
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_handler(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handler

"""Where the service reports what it does: metrics, readiness and the log lines with context.

The service calls these at a handful of points (a delivery refused or routed, a pull request
queued or reconciled, a notice sent, a GitHub answer); each point updates the Prometheus
series, the readiness verdict and the log context in one place, so the service's own code
stays about webhooks and pull requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from bot import logs
from bot.notify.channels import Delivery
from bot.service.events import ROUTED_EVENTS
from bot.service.health import Readiness, api_problem
from bot.service.metrics import Metrics
from bot.service.reconcile import Outcome

# Events named in metric labels; anything else counts as "other", so a sender cannot grow the
# registry by inventing event names (the header of an unsigned request is anyone's to write).
LABELLED_EVENTS = frozenset(
    {*ROUTED_EVENTS, "ping", "installation", "installation_repositories", "membership"}
)

log = logging.getLogger("flagbot.service")
access = logging.getLogger("flagbot.access")


class _Routing:
    """`Instruments.routing`, as a class: it runs around every delivery."""

    __slots__ = ("bound", "event", "fields", "instruments")

    def __init__(self, instruments: Instruments, delivery_id: str, event: str) -> None:
        self.instruments, self.event = instruments, event
        self.bound = logs.bound(delivery=delivery_id, event=event, api_calls=logs.Spent())

    def __enter__(self) -> dict[str, Any]:
        self.fields = self.bound.__enter__()
        self.fields["outcome"] = "ignored"
        return self.fields

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            if kind is not None and issubclass(kind, Exception):
                self.fields["outcome"] = "malformed"
            outcome = self.fields["outcome"]
            self.instruments._delivery_counter(self.event, outcome).inc()
            access.info("delivery %s", outcome, extra=_ACCEPTED)
        finally:
            self.bound.__exit__()


_ACCEPTED = {"fields": {"status": 202}}


@dataclass
class Reconcile:
    """One reconcile in progress: its log fields, and what it came to."""

    fields: dict[str, Any]
    result: str = "failed"  # until told otherwise

    def decided(self, outcome: Outcome) -> None:
        decision = outcome.decision
        self.result = "decided" if decision else "left_alone"
        self.fields["step"] = decision.step if decision else None
        if decision:
            self.fields["decision"] = decision.title
        if outcome.merge_status:
            self.fields["merge_status"] = outcome.merge_status


class Instruments:
    def __init__(
        self,
        api_url: str,
        backlog: Callable[[], int],
        backlog_bound: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url
        self.metrics = Metrics(backlog)
        self.readiness = Readiness(backlog_bound)
        self.clock = clock
        # Which delivery last asked for each pull request's reconcile (for its log line).
        self._asked_by: LRUCache[Hashable, dict[str, Any]] = LRUCache(8192)
        self._delivery_counters: dict[tuple[str, str], Any] = {}  # a few events x outcomes

    # GitHub ------------------------------------------------------------------------------------

    def github_observer(
        self, installation: str
    ) -> Callable[[int | None, Mapping[str, str], bool], None]:
        """For `GitHubClient(observe=...)`: every answer (or failure to get one) of the client
        for `installation`."""

        def observe(status: int | None, headers: Mapping[str, str], as_app: bool) -> None:
            self.metrics.api_calls.labels("error" if status is None else str(status)).inc()
            remaining = headers.get("x-ratelimit-remaining")
            if remaining is not None and remaining.isdigit():
                self.metrics.rate_limit.labels("app" if as_app else installation).set(
                    int(remaining)
                )
            self.readiness.saw(self.clock(), api_problem(status, self.api_url))
            logs.count_api_call()

        return observe

    # Deliveries --------------------------------------------------------------------------------

    def rejected(self, headers: Mapping[str, str], status: int, reason: str, size: int) -> None:
        event = headers.get("X-GitHub-Event") or "unknown"
        self.metrics.deliveries.labels(event_label(event), "rejected").inc()
        access.warning(
            "refused a delivery (%d): %s",
            status,
            reason,
            extra={
                "fields": {
                    "delivery": (headers.get("X-GitHub-Delivery") or "")[:64] or None,
                    "event": event[:64],
                    "outcome": "rejected",
                    "status": status,
                    "bytes": size,
                }
            },
        )

    def routing(self, delivery_id: str, event: str) -> AbstractContextManager[dict[str, Any]]:
        """Around routing one acknowledged delivery: its lines carry its id and event; the
        access line at the end says what it was about and what came of it."""
        return _Routing(self, delivery_id, event)

    def _delivery_counter(self, event: str, outcome: str) -> Any:
        """The deliveries counter's child for (event, outcome), looked up once: `labels()`
        takes a lock and checks its arguments, a few microseconds on every delivery."""
        key = (event_label(event), outcome)
        child = self._delivery_counters.get(key)
        if child is None:
            child = self._delivery_counters[key] = self.metrics.deliveries.labels(*key)
        return child

    def submitted(self, key: Hashable) -> None:
        """A pull request queued for a reconcile by the delivery being routed."""
        repo, number = key  # type: ignore[misc]
        logs.annotate(repo=repo, pr=number, outcome="routed")
        self._asked_by[key] = {"delivery": logs.field("delivery"), "event": logs.field("event")}

    # Reconciles --------------------------------------------------------------------------------

    @contextmanager
    def reconciling(self, key: Hashable) -> Iterator[Reconcile]:
        repo, number = key  # type: ignore[misc]
        asked = self._asked_by.get(key) or {}
        started = time.perf_counter()
        with logs.bound(
            delivery=asked.get("delivery"),
            event=asked.get("event"),
            repo=repo,
            pr=number,
            step=None,
            api_calls=logs.Spent(),
        ) as fields:
            rec = Reconcile(fields)
            try:
                yield rec
            finally:
                took = time.perf_counter() - started
                self.metrics.reconciles.labels(rec.result).inc()
                self.metrics.reconcile_seconds.observe(took)
                if rec.fields.get("step"):
                    self.metrics.decisions.labels(rec.fields["step"]).inc()
                status = rec.fields.get("merge_status")
                if status:
                    self.metrics.merges.labels(_merge_result(status)).inc()
                log.info(
                    "reconciled: %s",
                    rec.fields.get("decision") or rec.result.replace("_", " "),
                    extra={"fields": {"result": rec.result, "duration_ms": round(took * 1000, 1)}},
                )

    def notice(self, delivery: Delivery) -> None:
        outcome = "sent" if delivery.ok else "failed"
        self.metrics.notices.labels(delivery.channel, outcome).inc()
        if not delivery.ok:
            log.warning(
                "notice on %s failed: %s",
                delivery.channel,
                delivery.detail,
                extra={"fields": {"channel": delivery.channel}},
            )


@contextmanager
def unwatched(key: Hashable) -> Iterator[Reconcile]:
    """No instruments (a work queue outside a service)."""
    yield Reconcile({})


def repository_name(payload: Any) -> str | None:
    """The payload's `repository.full_name`, if it has one (for the delivery's log lines)."""
    repo = payload.get("repository") if isinstance(payload, dict) else None
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) else None


def event_label(event: str) -> str:
    return event if event in LABELLED_EVENTS else "other"


def _merge_result(status: int) -> str:
    return {200: "merged", 409: "conflict"}.get(status, "refused")

"""From acknowledged deliveries to pull requests to reconcile, off the request path.

Acknowledging only queues a delivery; a background task routes the backlog in slices of at
most `ROUTING_SLICE` seconds, letting the event loop in between, so a burst is acknowledged
first and worked off after. A delivery that cannot be parsed is logged in one line (delivery
id, event, why) and dropped: it is the sender's problem, not flagbot's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from urllib.parse import parse_qs

import msgspec
from gidgethub.sansio import Event

from bot.logs import annotate
from bot.service import events
from bot.service.instruments import repository_name
from bot.service.intake import Accepted

log = logging.getLogger("flagbot.service")

# Routing work done before the event loop gets a turn: short against an acknowledgement's
# budget (GitHub waits 10 s), long against one delivery's routing (tens of microseconds).
ROUTING_SLICE = 0.001
# How long the first delivery of a batch waits for others to join it before routing starts:
# nothing against a reconcile (GitHub's API calls take longer), and a burst is routed in
# batches.
ROUTING_BATCH = 0.001
# Acknowledgements come first: while deliveries keep arriving (less than ROUTING_QUIET apart),
# routing waits, but never longer than ROUTING_MAX_DEFER after the oldest unrouted delivery
# arrived, nor past ROUTING_MAX_BACKLOG unrouted ones.
ROUTING_QUIET = 0.005
ROUTING_MAX_DEFER = 1.0
ROUTING_MAX_BACKLOG = 5000

Submit = Callable[[events.Work], None]
BaseChanged = Callable[[events.BaseChanged], Awaitable[None]]
TeamChanged = Callable[[events.TeamChanged], Awaitable[None]]
Pushed = Callable[[events.Pushed], None]
Watch = Callable[[str, str], AbstractContextManager[object]]  # (delivery id, event)


def unwatched(delivery_id: str, event: str) -> AbstractContextManager[object]:
    return nullcontext()


class DeliveryRouter:
    def __init__(
        self,
        submit: Submit,
        base_changed: BaseChanged,
        team_changed: TeamChanged,
        watch: Watch = unwatched,
        pushed: Pushed = lambda push: None,
    ) -> None:
        self._watch = watch  # log context, metrics and the access line of each delivery
        self._submit = submit
        self._base_changed = base_changed
        self._team_changed = team_changed
        self._pushed = pushed
        # acknowledged deliveries not yet routed (their routing fields only); the parser
        # sleeps on `_arrived` when empty
        self._deliveries: deque[Event | Unreadable] = deque()
        self._since = 0.0  # when the oldest unrouted delivery arrived (loop time)
        self._last = 0.0  # when the newest delivery arrived
        self._arrived = asyncio.Event()
        self.routed = asyncio.Event()  # set while nothing waits to be routed
        self.routed.set()
        self._parser: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._parser = asyncio.create_task(self._parse_loop())

    async def stop(self) -> None:
        if self._parser:
            self._parser.cancel()
            await asyncio.gather(self._parser, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._deliveries)

    def accept(self, delivery: Accepted) -> None:
        """Queue an acknowledged delivery for the parser. Its routing fields are decoded now
        (microseconds) and the body is let go, so a backlog holds a few hundred bytes per
        delivery instead of whole payloads. The first of a batch wakes the parser a moment
        later (`ROUTING_BATCH`), so a burst is routed a batch per wake-up instead of one
        event-loop turn per delivery."""
        if delivery.event not in events.ROUTED_EVENTS:
            with self._watch(delivery.delivery_id, delivery.event):  # its access line: ignored
                return
        try:
            item: Event | Unreadable = parse_event(delivery)
        # signed, yet not a readable payload (RecursionError: nested deeper than the decoder goes)
        except (msgspec.DecodeError, BadDelivery, RecursionError) as exc:
            item = Unreadable(delivery.delivery_id, delivery.event, _why(exc))
        self._deliveries.append(item)
        self._last = asyncio.get_running_loop().time()
        if len(self._deliveries) == 1:
            self._since = self._last
            self.routed.clear()
            asyncio.get_running_loop().call_later(ROUTING_BATCH, self._arrived.set)

    async def _parse_loop(self) -> None:
        """Route the backlog in slices of at most `ROUTING_SLICE` seconds, letting the event
        loop in between: requests waiting to be acknowledged are never held up by more than a
        slice, and a burst is routed without an event-loop turn per delivery."""
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            await self._let_acknowledgements_pass(loop)
            until = loop.time() + ROUTING_SLICE
            while self._deliveries:
                await self.route(self._deliveries[0])
                self._deliveries.popleft()
                if self._deliveries and loop.time() >= until:
                    await asyncio.sleep(0)  # acknowledgements waiting to go out go first
                    until = loop.time() + ROUTING_SLICE
            self._arrived.clear()
            self.routed.set()

    async def _let_acknowledgements_pass(self, loop: asyncio.AbstractEventLoop) -> None:
        """While a burst is still arriving, acknowledge it first: routing shares the CPU with
        acknowledging, and only acknowledgements have a deadline (GitHub's 10 s). Bounded, so
        under sustained load routing still keeps up."""
        while len(self._deliveries) < ROUTING_MAX_BACKLOG:
            now = loop.time()
            wake = min(self._last + ROUTING_QUIET, self._since + ROUTING_MAX_DEFER)
            if now >= wake:
                return
            await asyncio.sleep(wake - now)

    async def route(self, item: Event | Unreadable) -> None:
        with self._watch(item.delivery_id or "", item.event or ""):
            await self._route(item)

    async def _route(self, item: Event | Unreadable) -> None:
        if isinstance(item, Unreadable):  # the sender's problem: one line, no traceback
            annotate(outcome="malformed")
            log.warning("bad delivery %s (%s): %s", item.delivery_id, item.event, item.why)
            return
        annotate(repo=repository_name(item.data))
        try:
            found: list[events.Work | events.BaseChanged | events.TeamChanged | events.Pushed] = []
            await events.router.dispatch(item, found.append)
        except BadDelivery as exc:
            annotate(outcome="malformed")
            log.warning("bad delivery %s (%s): %s", item.delivery_id, item.event, _why(exc))
            return
        except Exception:  # flagbot's own bug: the traceback is worth having
            annotate(outcome="malformed")
            log.exception("could not route delivery %s (%s)", item.delivery_id, item.event)
            return
        for work in found:
            if isinstance(work, events.BaseChanged):
                await self._base_changed(work)
            elif isinstance(work, events.TeamChanged):
                await self._team_changed(work)
            elif isinstance(work, events.Pushed):
                self._pushed(work)
            else:
                self._submit(work)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An acknowledged delivery whose routing fields could not be decoded."""

    delivery_id: str
    event: str
    why: str


def _why(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


_ROUTING = msgspec.json.Decoder(events.Routing)


class BadDelivery(ValueError):
    """A signed delivery that is not a payload flagbot can read."""


def parse_event(delivery: Accepted) -> Event:
    """An acknowledged delivery (its signature checked) as a gidgethub event for the router.

    Only the fields the router reads are decoded (`events.Routing`), typed, whatever the
    content type: the rest of a 20-30 KB payload is skipped without building Python objects,
    several times cheaper than a full parse, and the reconcile reads the pull request from
    GitHub anyway. `msgspec.DecodeError` (or `BadDelivery`) when it is not such a payload."""
    body = delivery.body
    if delivery.content_type != "application/json":  # form-encoded: the JSON is `payload`
        try:
            body = parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0].encode()
        except (UnicodeDecodeError, ValueError, KeyError):
            raise BadDelivery("a form-encoded delivery needs one `payload` field") from None
    return Event(_ROUTING.decode(body), event=delivery.event, delivery_id=delivery.delivery_id)

"""The emulated GitHub's core: state, clock, options, and the outlet for webhook events.

Operations (`refs`, `pulls`, `checks`, `issues`) take a `World` and change its state under
`world.lock`; every change that GitHub announces is passed to `world.emit`, which renders the
payload at once (so it shows the state at the moment of the change) and hands it to whoever
listens (the webhook dispatcher).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.clock import Clock
from bot.emulator.render.core import Ctx
from bot.emulator.state import Repo, State


@dataclass
class Options:
    # reads of a pull request that report `mergeable: null` after its head or base moved
    # (GitHub computes mergeability in the background); 0 = computed at once
    mergeable_null_reads: int = 0
    # send check_run created/completed webhooks too (off: a bot that reacts to its own
    # check runs would loop)
    check_run_lifecycle_events: bool = False
    # rate-limit budget per identity per hour
    rate_limit: int = 5000
    unauthenticated_rate_limit: int = 60
    # GitHub's secondary limits on content-creating requests (POST, PATCH, PUT, DELETE) per
    # identity, on the emulator's clock; over either, a 403 with `Retry-After`
    writes_per_minute: int = 80
    writes_per_hour: int = 500
    # seconds every API call over HTTP takes before it is answered (GitHub's round trip, for
    # benchmarks); faults' latency adds to it
    latency: float = 0.0


class Event:
    """A webhook event as it happened: name, action, repository, and its payload, rendered
    on first use (listeners use it during `emit`, so it shows the state of that moment)."""

    def __init__(
        self,
        name: str,
        action: str | None,
        repo: Repo | None,
        build: Callable[[], dict],
        org: str | None = None,
    ) -> None:
        self.name = name
        self.action = action
        self.repo = repo  # None for an organization's event (`membership`)
        self.org = org if org is not None else (repo.owner if repo is not None else None)
        self._build = build
        self._payload: dict[str, Any] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            self._payload = self._build()
        return self._payload


Listener = Callable[[Event], None]


@dataclass
class World:
    state: State = field(default_factory=State)
    clock: Clock = field(default_factory=Clock)
    options: Options = field(default_factory=Options)
    lock: threading.RLock = field(default_factory=threading.RLock)
    base_url: str = "http://127.0.0.1"
    listeners: list[Listener] = field(default_factory=list)
    # the webhook dispatcher, for the hook-deliveries endpoints (set by the Emulator)
    webhooks: Any = None
    # the rate limiter, for `GET /rate_limit` (set by the Emulator)
    ratelimit: Any = None

    def ctx(self, base: str | None = None) -> Ctx:
        return Ctx(self.state, (base or self.base_url).rstrip("/"))

    def emit(self, name: str, action: str | None, repo: Repo, build: Callable[[Ctx], dict]) -> None:
        """Announce a change; its payload is rendered (with the served address) only if a
        listener asks for it."""
        event = Event(name, action, repo, lambda: build(self.ctx()))
        for listener in list(self.listeners):
            listener(event)

    def emit_org(
        self, name: str, action: str | None, org: str, build: Callable[[Ctx], dict]
    ) -> None:
        """Announce a change to an organization (no repository), such as a team membership."""
        event = Event(name, action, None, lambda: build(self.ctx()), org=org)
        for listener in list(self.listeners):
            listener(event)

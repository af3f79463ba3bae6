"""The log of every API call the emulator served, by method and route template.

Benchmarks read counters from it (calls per route, which were 304, which were charged); a
conformance suite reads full entries (request and response JSON) or subscribes as a listener
to validate each call as it is served.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass
class Call:
    seq: int
    time: float  # wall-clock epoch seconds
    method: str
    route: str | None  # the OpenAPI-style template, None when no route matched
    path: str
    query: dict[str, str]
    status: int
    login: str | None
    actor: str  # user, installation, app, anonymous
    charged: bool
    not_modified: bool
    fault: str | None  # injected fault kind, or "secondary_limit", that answered
    delay: float  # injected latency, seconds
    transport: str  # "http" or "inprocess"
    duration: float
    request_json: Any = None
    response_json: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # the route's path parameters

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Listener = Callable[[Call], None]


class CallLog:
    def __init__(self, keep_bodies: bool = True) -> None:
        self.keep_bodies = keep_bodies
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._seq = 0
        self.listeners: list[Listener] = []

    def record(self, call: Call) -> None:
        """Keep `call` and show it to each listener, bodies included even when the log itself
        keeps none (listeners validate or record them)."""
        kept = call
        if not self.keep_bodies:
            if self.listeners:
                kept = replace(call)
            kept.request_json = kept.response_json = None
        with self._lock:
            self._seq += 1
            call.seq = kept.seq = self._seq
            self._calls.append(kept)
        for listener in list(self.listeners):
            listener(call)

    def calls(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        login: str | None = None,
        transport: str | None = "http",
        since: int = 0,
    ) -> list[Call]:
        """Calls matching all given filters (by default only those served over HTTP)."""
        with self._lock:
            items = list(self._calls)
        out = []
        for c in items:
            if c.seq < since:
                continue
            if method is not None and c.method != method.upper():
                continue
            if route is not None and c.route != route:
                continue
            if login is not None and (c.login or "").lower() != login.lower():
                continue
            if transport is not None and c.transport != transport:
                continue
            out.append(c)
        return out

    def count(self, method: str | None = None, route: str | None = None, **filters: Any) -> int:
        return len(self.calls(method, route, **filters))

    def stats(self, calls: Iterable[Call] | None = None) -> dict[str, dict[str, Any]]:
        """Per "METHOD route": calls, charged, not_modified (304s), faults and status counts."""
        out: dict[str, dict[str, Any]] = {}
        for c in self.calls() if calls is None else calls:
            s = out.setdefault(
                c.key,
                {"calls": 0, "charged": 0, "not_modified": 0, "faults": 0, "statuses": Counter()},
            )
            s["calls"] += 1
            s["charged"] += int(c.charged)
            s["not_modified"] += int(c.not_modified)
            s["faults"] += int(c.fault is not None)
            s["statuses"][str(c.status)] += 1
        for s in out.values():
            s["statuses"] = dict(s["statuses"])
        return out

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)


class JsonlRecorder:
    """Opt-in recorder: appends every call, bodies included, as one JSON line to a file (for
    checking calls made against an emulator running in another process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> None:
        line = json.dumps(call.to_json(), default=str)
        with self._lock, self.path.open("a") as out:
            out.write(line + "\n")

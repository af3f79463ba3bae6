"""Helpers for guard tests: a flag with a guard, a local HTTP endpoint whose answer the test
sets, and a notifier that records what it was asked to send."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.notify.channels import Delivery
from bot.notify.notice import Notice
from bot.policy.model import Channel
from tests.rollout.test_job_github import flow_at

POLICY_WITH_CHANNEL = """\
roles: {manager: ["@acme/eng-managers"], qa: ["@acme/qa"]}
notifications:
  audit: {type: webhook, url_env: AUDIT_URL}
"""


def guarded_flow(pct: int, since, guard: str) -> str:
    """The example flag at `pct` with `guard` (YAML lines, indented under rollout)."""
    text = flow_at(pct, since)
    block = "".join(f"  {line}\n" for line in guard.strip("\n").splitlines())
    return text.replace("  every: 60m", "  every: 60m\n" + block.rstrip("\n"), 1)


@dataclass
class Recorder:
    """A notifier: keeps the notices, reports every channel delivered."""

    notices: list[Notice] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, channels: Sequence[Channel], notices: Sequence[Notice], env: Mapping[str, str]
    ) -> list[Delivery]:
        with self.lock:
            self.notices += notices
        return [Delivery(c.name, True) for c in channels for _ in notices]


@dataclass
class Endpoint:
    """What the local health endpoint answers; `hang` makes it never answer until released."""

    status: int = 200
    hang: bool = False
    hits: int = 0
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def health_endpoint() -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if state.hang:
                state.release.wait(timeout=30)
            body = b'{"ok": true}'
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/healthz"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()

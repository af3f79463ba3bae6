"""Webhook deliveries: signed, sent off the request path, in order per hook, and kept.

Every event the world emits becomes one delivery per interested hook (repository hooks, and
App hooks whose App is installed on the repository — those payloads carry `installation`).
Each hook has its own queue worked by one task, so a slow or dead receiver delays only its
own deliveries and never the API. Deliveries are attempted once (GitHub does not retry) and
logged with request headers, payload, response and duration, for the hook-deliveries API and
for redelivery (same GUID, `redelivery: true`, re-signed).

`await webhooks.drain()` (or `drain_blocking()` from another thread) returns once every
delivery queued so far has been attempted. `listeners` see each delivery as it is queued, on
the thread that made the change (a test suite validates payloads there).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from bot.emulator.clock import iso
from bot.emulator.render.core import installation_lite
from bot.emulator.state import Hook, Repo
from bot.emulator.world import Event, World

USER_AGENT = "GitHub-Hookshot/emulator"
MAX_RESPONSE_BODY = 16 * 1024
# Organization events (no repository) and the installation permission an App needs to get them
ORG_EVENT_PERMISSIONS = {"membership": "members"}


def sign(secret: str, body: bytes) -> dict[str, str]:
    key = secret.encode()
    return {
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


@dataclass
class Delivery:
    id: int
    guid: str
    hook_id: int
    url: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    payload: dict[str, Any]
    body: bytes
    request_headers: dict[str, str]
    redelivery: bool = False
    queued_at: datetime | None = None
    delivered_at: datetime | None = None
    attempted: bool = False
    duration: float = 0.0
    status: str = "pending"
    status_code: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def summary(self) -> dict[str, Any]:
        """GitHub's `hook-delivery-item`."""
        when = self.delivered_at or self.queued_at
        return {
            "id": self.id,
            "guid": self.guid,
            "delivered_at": iso(when) if when else None,
            "redelivery": self.redelivery,
            "duration": round(self.duration, 3),
            "status": self.status,
            "status_code": self.status_code,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "repository_id": self.repository_id,
            "throttled_at": None,
        }

    def record(self) -> dict[str, Any]:
        """GitHub's `hook-delivery`: the summary plus request and response."""
        out = self.summary()
        out["url"] = self.url
        out["request"] = {"headers": dict(self.request_headers), "payload": self.payload}
        out["response"] = {"headers": dict(self.response_headers), "payload": self.response_body}
        return out


class Webhooks:
    def __init__(self, world: World, timeout: float = 10.0) -> None:
        self.world = world
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._queues: dict[int, deque[Delivery]] = {}
        self._tasks: dict[int, asyncio.Task] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self.listeners: list[Callable[[Delivery], None]] = []
        world.listeners.append(self._on_event)

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Begin sending (on the running loop); deliveries queued before now go out first."""
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        with self._lock:
            pending = [h for h, q in self._queues.items() if q]
        for hook_id in pending:
            self._kick(hook_id)

    async def stop(self, drain: bool = True) -> None:
        if drain:
            await self.drain()
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._loop = None

    # --- queueing -------------------------------------------------------------------------
    def _hooks_for(self, event: Event) -> list[tuple[Hook, int | None]]:
        state = self.world.state
        out = []
        if event.repo is None:
            return self._org_hooks_for(event)
        for hook in state.hooks.values():
            if not hook.wants(event.name):
                continue
            if hook.app_id is None:
                if event.name == "check_suite" and event.action != "completed":
                    continue  # requested and rerequested go to the App that owns the suite
                covered = hook.repos is None or event.repo.full_name.lower() in {
                    r.lower() for r in hook.repos
                }
                if covered:
                    out.append((hook, None))
                continue
            inst = state.installation_for(event.repo, hook.app_id)
            if inst is None:
                continue
            if event.name in ("check_run", "check_suite"):
                owner = event.payload.get(event.name, {}).get("app", {}).get("id")
                if owner != hook.app_id:
                    continue
            out.append((hook, inst.id))
        return out

    def _org_hooks_for(self, event: Event) -> list[tuple[Hook, int | None]]:
        """An organization's event goes to the Apps installed on it whose installation may
        read what it is about (`membership`: the members permission). Repository webhooks
        never see it (organization webhooks are not emulated)."""
        needs = ORG_EVENT_PERMISSIONS.get(event.name)
        out: list[tuple[Hook, int | None]] = []
        for hook in self.world.state.hooks.values():
            if hook.app_id is None or not hook.wants(event.name):
                continue
            for inst in self.world.state.installations.values():
                if (
                    inst.app_id == hook.app_id
                    and inst.account.lower() == (event.org or "").lower()
                    and (needs is None or needs in inst.permissions)
                ):
                    out.append((hook, inst.id))
                    break
        return out

    def _on_event(self, event: Event) -> None:
        for hook, installation_id in self._hooks_for(event):
            payload = dict(event.payload)
            if installation_id is not None:
                payload["installation"] = installation_lite(
                    self.world.state.installation(installation_id)
                )
            self._enqueue(hook, event.name, event.action, event.repo, payload, installation_id)

    def _enqueue(
        self,
        hook: Hook,
        event: str,
        action: str | None,
        repo: Repo | None,
        payload: dict[str, Any],
        installation_id: int | None,
        *,
        guid: str | None = None,
        redelivery: bool = False,
    ) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        guid = guid or str(uuid.uuid4())
        target_type = "integration" if hook.app_id else "repository"
        target_id = hook.app_id if hook.app_id else (repo.id if repo else 0)
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(hook.id),
            "X-GitHub-Hook-Installation-Target-ID": str(target_id),
            "X-GitHub-Hook-Installation-Target-Type": target_type,
        }
        if hook.secret:
            headers.update(sign(hook.secret, body))
        with self._lock:
            delivery = Delivery(
                id=self._next_id,
                guid=guid,
                hook_id=hook.id,
                url=hook.url,
                event=event,
                action=action,
                installation_id=installation_id,
                repository_id=repo.id if repo else None,
                payload=payload,
                body=body,
                request_headers=headers,
                redelivery=redelivery,
                queued_at=self.world.clock.now(),
            )
            self._next_id += 1
            self.deliveries.append(delivery)
            self._queues.setdefault(hook.id, deque()).append(delivery)
            loop = self._loop
        for listener in list(self.listeners):
            listener(delivery)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._kick, hook.id)
        return delivery

    def _kick(self, hook_id: int) -> None:
        task = self._tasks.get(hook_id)
        if task is None or task.done():
            self._tasks[hook_id] = asyncio.get_running_loop().create_task(self._work(hook_id))

    async def _work(self, hook_id: int) -> None:
        while True:
            with self._lock:
                queue = self._queues.get(hook_id)
                if not queue:
                    return
                delivery = queue[0]
            try:
                await self._attempt(delivery)
            finally:
                with self._lock:
                    queue.popleft()

    async def _attempt(self, d: Delivery) -> None:
        started = time.perf_counter()
        try:
            assert self._session is not None
            async with self._session.post(d.url, data=d.body, headers=d.request_headers) as resp:
                text = await resp.text(errors="replace")
                d.status_code = resp.status
                d.response_headers = dict(resp.headers)
                d.response_body = text[:MAX_RESPONSE_BODY]
                d.status = (
                    "OK" if 200 <= resp.status < 300 else f"Invalid HTTP Response: {resp.status}"
                )
        except TimeoutError:
            d.status = "timed out"
        except (aiohttp.ClientError, OSError) as e:
            d.status = f"failed to connect to host: {e.__class__.__name__}"
        d.duration = time.perf_counter() - started
        d.delivered_at = self.world.clock.now()
        d.attempted = True

    # --- waiting --------------------------------------------------------------------------
    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    async def drain(self, timeout: float = 30.0) -> None:
        """Return once every delivery queued so far has been attempted."""
        if self._loop is None:
            raise RuntimeError("webhooks are not running: serve the emulator first")
        if asyncio.get_running_loop() is not self._loop:
            future = asyncio.run_coroutine_threadsafe(self.drain(timeout), self._loop)
            await asyncio.wrap_future(future)
            return
        with self._lock:
            targets = [d for q in self._queues.values() for d in q]
        async with asyncio.timeout(timeout):
            while targets and not all(d.attempted for d in targets):
                tasks = [t for t in self._tasks.values() if not t.done()]
                if not tasks:
                    with self._lock:
                        for hook_id, q in self._queues.items():
                            if q:
                                self._kick(hook_id)
                    tasks = [t for t in self._tasks.values() if not t.done()]
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)

    def drain_blocking(self, timeout: float = 30.0) -> None:
        """`drain()` for code on another thread (synchronous tests, the thread runner)."""
        if self._loop is None:
            raise RuntimeError("webhooks are not running: serve the emulator first")
        asyncio.run_coroutine_threadsafe(self.drain(timeout), self._loop).result(timeout + 1)

    # --- the deliveries API ---------------------------------------------------------------
    def find(self, delivery_id: int) -> Delivery | None:
        with self._lock:
            return next((d for d in self.deliveries if d.id == delivery_id), None)

    def for_hook(self, hook_id: int) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.hook_id == hook_id]

    def for_app(self, app_id: int) -> list[Delivery]:
        hooks = {h.id for h in self.world.state.hooks.values() if h.app_id == app_id}
        with self._lock:
            return [d for d in self.deliveries if d.hook_id in hooks]

    def redeliver(self, delivery_id: int) -> Delivery:
        original = self.find(delivery_id)
        if original is None:
            raise KeyError(delivery_id)
        hook = self.world.state.hooks[original.hook_id]
        repo = next(
            (r for r in self.world.state.repos.values() if r.id == original.repository_id), None
        )
        return self._enqueue(
            hook,
            original.event,
            original.action,
            repo,
            original.payload,
            original.installation_id,
            guid=original.guid,
            redelivery=True,
        )

    def events(self, name: str | None = None, action: str | None = None) -> list[Delivery]:
        """Deliveries so far (every hook), optionally of one event and action."""
        with self._lock:
            items = list(self.deliveries)
        return [
            d
            for d in items
            if (name is None or d.event == name) and (action is None or d.action == action)
        ]

"""`Emulator`: the local GitHub as one object — state, clock, routes, webhooks, faults, call log —
served over HTTP (`serve()` in async code, `serve_in_thread()` for synchronous code) and
drivable in-process (`request()`, `person()`, `push_files()`)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web
from multidict import CIMultiDict

from bot.emulator.api.http import make_app
from bot.emulator.api.pipeline import Dispatcher
from bot.emulator.api.router import Request
from bot.emulator.calllog import CallLog, JsonlRecorder
from bot.emulator.faults import Faults
from bot.emulator.git import Signature
from bot.emulator.git.export import write_repository
from bot.emulator.people import InProcess, Person
from bot.emulator.pushes import push, signature
from bot.emulator.ratelimit import RateLimiter
from bot.emulator.routes import build_router
from bot.emulator.secondary import SecondaryLimiter, Window
from bot.emulator.seed import load_seed
from bot.emulator.state import Hook, Repo, User
from bot.emulator.webhooks import Webhooks
from bot.emulator.world import World


@dataclass(frozen=True)
class Result:
    """An in-process API call's answer."""

    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Server:
    url: str
    host: str
    port: int


# Where an emulator records its calls when nothing in its process instruments it: a test
# suite sets it so that emulators in processes it starts (`flagbot emulator`, a demo) are
# checked too, from their recordings.
RECORD_ENV = "FLAGBOT_EMULATOR_RECORD"


class Emulator:
    # Called with every new Emulator once it is built: a test suite attaches its checks here
    # (call-log and webhook listeners), so no emulator a test makes escapes them.
    instruments: ClassVar[list[Callable[[Emulator], None]]] = []

    def __init__(
        self,
        world: World | None = None,
        *,
        keep_bodies: bool = True,
        fault_seed: int = 0,
        record_to: str | Path | None = None,
    ) -> None:
        self.world = world or World()
        self.router = build_router()
        self.faults = Faults(fault_seed)
        self.calls = CallLog(keep_bodies=keep_bodies)
        if record_to is None and not Emulator.instruments:
            record_to = os.environ.get(RECORD_ENV) or None
        if record_to is not None:
            self.calls.listeners.append(JsonlRecorder(record_to))
        self.ratelimit = RateLimiter(
            self.world.options.rate_limit, self.world.options.unauthenticated_rate_limit
        )
        self.webhooks = Webhooks(self.world)
        self.world.webhooks = self.webhooks
        self.world.ratelimit = self.ratelimit
        self.secondary = SecondaryLimiter(self.write_windows, self._now)
        self.dispatcher = Dispatcher(
            self.world, self.router, self.faults, self.calls, self.ratelimit, self.secondary
        )
        self.private_keys: dict[int, str] = {}  # app id -> PEM, when the seed gave one
        self.url: str | None = None
        for instrument in list(Emulator.instruments):
            instrument(self)

    @classmethod
    def from_seed(
        cls, seed: dict[str, Any] | str | Path, *, base_dir: str | Path | None = None, **kwargs: Any
    ) -> Emulator:
        world, keys = load_seed(seed, base_dir)
        emulator = cls(world, **kwargs)
        emulator.private_keys = keys
        return emulator

    def write_windows(self) -> tuple[Window, ...]:
        """The secondary limits on content-creating requests, from the seed's options."""
        o = self.world.options
        return (Window(60.0, o.writes_per_minute), Window(3600.0, o.writes_per_hour))

    def _now(self) -> float:
        return self.world.clock.now().timestamp()

    # --- handy views ------------------------------------------------------------------------
    @property
    def state(self):
        return self.world.state

    @property
    def clock(self):
        return self.world.clock

    @property
    def options(self):
        return self.world.options

    @property
    def lock(self) -> threading.RLock:
        return self.world.lock

    def repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return self.state.repo(owner, name)

    def token_for(self, login: str) -> str:
        for token, who in self.state.tokens.items():
            if who == login.lower():
                return token
        raise KeyError(f"{login} has no token in the seed")

    # --- serving ----------------------------------------------------------------------------
    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Server]:
        """Serve on `host:port` (0 = any free port) for the duration of the block."""
        runner = web.AppRunner(make_app(self), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        bound = sockets[0].getsockname()[1] if sockets else port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}"
        self.world.base_url = self.url
        await self.webhooks.start()
        try:
            yield Server(self.url, host, bound)
        finally:
            await self.webhooks.stop(drain=False)
            await runner.cleanup()
            self.url = None

    @contextmanager
    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve from a background thread with its own event loop; yields the base URL."""
        ready = threading.Event()
        box: dict[str, Any] = {}

        async def main() -> None:
            stop = asyncio.Event()
            box["loop"], box["stop"] = asyncio.get_running_loop(), stop
            try:
                async with self.serve(host, port) as server:
                    box["url"] = server.url
                    ready.set()
                    await stop.wait()
            except BaseException as e:  # surfaced to the caller below
                box["error"] = e
                ready.set()

        thread = threading.Thread(
            target=asyncio.run, args=(main(),), name="github-emulator", daemon=True
        )
        thread.start()
        ready.wait()
        if "error" in box:
            raise box["error"]
        try:
            yield box["url"]
        finally:
            box["loop"].call_soon_threadsafe(box["stop"].set)
            thread.join(timeout=10)

    # --- in-process calls -------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: str | None = None,
        login: str | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Result:
        """One REST call served in-process (no socket, no faults), as `login` or with `token`."""
        if login is not None:
            token = self.token_for(login)
        all_headers = CIMultiDict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"token {token}"
        raw_path, _, raw_query = path.partition("?")
        q = dict(part.split("=", 1) for part in raw_query.split("&") if "=" in part)
        q.update({k: str(v) for k, v in (query or {}).items()})
        body = b"" if json_body is None else json.dumps(json_body).encode()
        req = Request(
            method.upper(),
            raw_path,
            q,
            all_headers,
            body,
            self.url or self.world.base_url,
            transport="inprocess",
        )
        served = self.dispatcher.handle(req)
        return Result(served.status, served.json, served.headers)

    def person(self, login: str) -> Person:
        """Act as `login` through the REST API in-process (see `bot.emulator.people.Person`)."""
        return Person(InProcess(self, login), login)

    def as_app(self, installation_id: int | None = None) -> Person:
        """Act as an installed App (`<slug>[bot]`, installation token), in-process."""
        with self.lock:
            if installation_id is None:
                installation_id = next(iter(self.state.installations))
            inst = self.state.installation(installation_id)
            app = self.state.app(inst.app_id)
        return Person(
            InProcess(self, token=self.installation_token(installation_id)), app.bot.login
        )

    # --- direct state changes (tests, staged races, the demo) -------------------------------
    def push_files(
        self,
        full_name: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        *,
        message: str = "Update files",
        author: str | Signature | None = None,
        date: str | None = None,
    ) -> str:
        """Commit `files` (None deletes) on top of `branch` and push it, as a `git push` by
        `author` (a login) would: push and synchronize webhooks follow. Returns the commit id."""
        with self.lock:
            repo = self.repo(full_name)
            pusher: User
            if isinstance(author, Signature):
                sig = author
                pusher = next(iter(self.state.users.values()))
            else:
                pusher = self.state.user(author) if author else self.state.account(repo.owner)
                sig = signature(self.world, pusher, {"date": date} if date else None)
            tip = repo.git.branch(branch)
            changes = {p: (c.encode() if isinstance(c, str) else c) for p, c in files.items()}
            sha = repo.git.commit_changes(tip, changes, message, sig)
            push(self.world, repo, f"refs/heads/{branch}", sha, pusher)
            return sha

    def add_webhook(
        self,
        url: str,
        secret: str | None = None,
        *,
        events: list[str] | None = None,
        app_id: int | None = None,
    ) -> Hook:
        with self.lock:
            hook = Hook(
                self.state.ids.next("hook"),
                url,
                secret,
                events=events or ["*"],
                app_id=app_id,
                created_at=self.clock.now(),
            )
            self.state.hooks[hook.id] = hook
            return hook

    def export_git(self, full_name: str, path: str | Path) -> Path:
        """Write the repository out as a bare git repository at `path`."""
        with self.lock:
            repo = self.repo(full_name)
            return write_repository(repo.git.store, dict(repo.git.refs), repo.default_branch, path)

    def app_jwt(self, app_id: int, *, expires_in: int = 540) -> str:
        """A JWT for a seeded app whose private key the seed gave (for tests)."""
        import time

        import jwt

        now = int(time.time())
        payload = {"iat": now - 60, "exp": now + expires_in - 60, "iss": str(app_id)}
        return jwt.encode(payload, self.private_keys[app_id], algorithm="RS256")

    def installation_token(self, installation_id: int) -> str:
        """Mint an installation token directly (tests that do not exercise the JWT flow)."""
        from bot.emulator.auth import mint_installation_token

        with self.lock:
            inst = self.state.installation(installation_id)
            return mint_installation_token(self.state, inst).token

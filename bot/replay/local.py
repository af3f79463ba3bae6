"""Replay deliveries in process: to a flagbot service wired to the emulated GitHub (a
`bot.sandbox` stack), watching what each one made the bot do.

The emulated GitHub's own webhooks are switched off meanwhile, so the bot sees exactly the
deliveries replayed; after each one the stack settles (every reconcile it caused has
finished) before the next is sent. Each `Replayed` holds the bot's answer, its decisions, the
warnings and errors it logged, and the GitHub calls it made.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

import aiohttp

from bot.emulator.emulator import Emulator
from bot.emulator.render.core import Ctx, installation_lite, organization, repository, user
from bot.replay.deliveries import Delivery
from bot.replay.retarget import Emulated, retarget
from bot.replay.send import post
from bot.replay.transcript import Replayed
from bot.sandbox import Sandbox

LOGGERS = ("flagbot", "bot")  # the service logs as flagbot.service and bot.service.*


def emulated(emulator: Emulator) -> Emulated:
    """What the emulated GitHub holds, rendered as its webhooks render it."""
    app_id = next(iter(emulator.private_keys), None)
    with emulator.lock:
        state = emulator.state
        ctx = Ctx(state, emulator.url or emulator.world.base_url)
        repos = {r.full_name.lower(): r for r in state.repos.values()}
        installations = {}
        for name, repo in repos.items():
            inst = state.installation_for(repo, app_id)
            if inst is not None:
                installations[name] = installation_lite(inst)
        return Emulated(
            repositories={name: repository(ctx, r) for name, r in repos.items()},
            installations=installations,
            organizations={o.login.lower(): organization(ctx, o) for o in state.orgs.values()},
            users={u.login.lower(): user(ctx, u) for u in state.users.values() if u.type == "User"},
        )


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class InProcess:
    """`async with InProcess(stack) as replay: replayed = await replay.send(delivery)`."""

    def __init__(self, stack: Sandbox, *, rewrite: bool = True, delay: float = 0.0) -> None:
        self.stack = stack
        self.rewrite = rewrite
        self.delay = delay
        self.sent = 0
        self._emulated: Emulated | None = None
        self._handler = _Captured()
        self._session: aiohttp.ClientSession | None = None
        self._hooks: dict[int, bool] = {}  # hook id -> active, restored on exit

    async def __aenter__(self) -> InProcess:
        with self.stack.emulator.lock:
            for hook in self.stack.emulator.state.hooks.values():
                self._hooks[hook.id] = hook.active
                hook.active = False
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self._handler)
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self._handler)
        with self.stack.emulator.lock:
            for hook in self.stack.emulator.state.hooks.values():
                hook.active = self._hooks.get(hook.id, hook.active)
        if self._session is not None:
            await self._session.close()

    async def send(self, delivery: Delivery) -> Replayed:
        assert self._session is not None, "use `async with InProcess(stack)`"
        if self.sent and self.delay:
            await asyncio.sleep(self.delay)
        self.sent += 1
        notes: tuple[str, ...] = ()
        if self.rewrite:
            if self._emulated is None:
                self._emulated = emulated(self.stack.emulator)
            payload, notes = retarget(delivery.payload, self._emulated)
            delivery = delivery.with_payload(payload)
        emulator, service = self.stack.emulator, self.stack.service
        mark = _next_seq(emulator)
        previous = list(service.outcomes)  # kept alive, so their ids stay unique
        seen = {id(o) for o in previous}
        logged = len(self._handler.records)
        response = await post(
            self._session, self.stack.bot_url, delivery, self.stack.config.webhook_secret
        )
        await self.stack.settle()
        records = self._handler.records[logged:]
        return Replayed(
            delivery,
            response,
            notes,
            outcomes=[o for o in service.outcomes if id(o) not in seen],
            log=[_line(r) for r in records],
            calls=list(emulator.calls.calls(since=mark)),
            failed=any(r.levelno >= logging.ERROR for r in records),
        )


def _next_seq(emulator: Emulator) -> int:
    last: list[Any] = emulator.calls.calls(transport=None)[-1:]
    return last[0].seq + 1 if last else 0


def _line(record: logging.LogRecord) -> str:
    text = f"{record.levelname} {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text += f" ({type(error).__name__}: {error})"
    return text

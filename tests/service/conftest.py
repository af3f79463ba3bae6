"""A bot and a local GitHub talking over real HTTP, with real notification receivers.

The emulated repository holds this repository's own `.github/flagbot.yml`, `.github/CODEOWNERS`
and `flags/` (except `new_checkout_flow.yaml`, which the tests create by pull request).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.emulator import Emulator
from bot.emulator.seeds import REPO, acme_seed, repository_files
from bot.gh.retry import RetryPolicy
from bot.plan.report import CHECK_NAME
from bot.sandbox import Sandbox, sandbox
from bot.service.app import SERVICE, Service, make_app
from bot.service.config import ServiceConfig
from tests.receivers import HttpReceiver, Mailbox, smtp_server

ROOT = Path(__file__).resolve().parents[2]
NEW_FLAG = "flags/new_checkout_flow.yaml"


def seed(files: dict[str, str] | None = None) -> dict[str, Any]:
    return acme_seed(repository_files(ROOT, without=(NEW_FLAG,)) if files is None else files)


@dataclass
class Backoff:
    """The service's sleep in tests: records each wait and does not wait."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@dataclass
class Harness:
    stack: Sandbox
    slack: HttpReceiver
    audit: HttpReceiver
    mailbox: Mailbox
    prs: dict[str, int] = field(default_factory=dict)
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def emulator(self) -> Emulator:
        return self.stack.emulator

    @property
    def service(self) -> Service:
        return self.stack.service

    @property
    def bot_url(self) -> str:
        return self.stack.bot_url

    @property
    def config(self) -> ServiceConfig:
        return self.stack.config

    @property
    def replicas(self) -> list[Service]:
        return self.stack.replicas

    def person(self, login: str):
        return self.emulator.person(login)

    async def settle(self) -> None:
        await self.stack.settle()

    def pull(self, number: int) -> dict[str, Any]:
        return self.person("dev").pr(REPO, number)

    def check_run(self, number: int) -> dict[str, Any]:
        head = self.pull(number)["head"]["sha"]
        data = self.person("dev").get(
            f"/repos/{REPO}/commits/{head}/check-runs?check_name={CHECK_NAME}"
        )
        runs = sorted(data["check_runs"], key=lambda r: r["id"])
        assert runs, f"no {CHECK_NAME} check run on {head}"
        return runs[-1]

    def title(self, number: int) -> str:
        return self.check_run(number)["output"]["title"]

    def comments(self, number: int) -> list[dict[str, Any]]:
        return self.person("dev").get(f"/repos/{REPO}/issues/{number}/comments")

    def file_on_main(self, path: str) -> str | None:
        if self.person("dev").file_sha(REPO, path, "main") is None:
            return None
        data = self.person("dev").get(f"/repos/{REPO}/contents/{path}?ref=main")
        return base64.b64decode(data["content"]).decode()

    def open(
        self, login: str, files: dict[str, str | None], *, branch: str, title: str, body: str = ""
    ) -> int:
        pr = self.person(login).propose(REPO, files, branch=branch, title=title, body=body)
        return int(pr["number"])


FAST_RETRY = RetryPolicy(attempts=6, base=0.01, cap=0.05, max_wait=2.0, secondary_default=0.05)


@pytest.fixture
async def harness(aiohttp_server) -> AsyncIterator[Harness]:
    slack, audit = HttpReceiver(), HttpReceiver()
    slack_srv = await aiohttp_server(slack.app())
    audit_srv = await aiohttp_server(audit.app())
    with smtp_server() as (box, smtp_url):
        env = {
            "FLAGBOT_SLACK_WEBHOOK_URL": str(slack_srv.make_url("/services/T0/B0/x")),
            "FLAGBOT_AUDIT_WEBHOOK_URL": str(audit_srv.make_url("/audit")),
            "FLAGBOT_SMTP_URL": smtp_url,
        }
        backoff = Backoff()
        async with sandbox(seed(), channel_env=env, retry=FAST_RETRY, sleep=backoff) as stack:
            yield Harness(stack, slack, audit, box, backoff=backoff)


async def add_replica(h: Harness, aiohttp_server) -> str:
    """A second copy of the service (same settings, its own caches and queue), as a second
    process behind a load balancer would be; returns its webhook URL."""
    app = make_app(h.config)
    server = await aiohttp_server(app)
    h.replicas.append(app[SERVICE])
    return str(server.make_url("/webhook"))

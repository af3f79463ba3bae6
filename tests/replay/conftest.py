"""Replaying real deliveries to the bot and the emulated GitHub, in process.

`replay` gives a `Replay`: the service tests' harness (bot, emulator, notification receivers)
plus `bot.replay.local.InProcess`, the runner `flagbot replay` uses. The emulated GitHub's own
webhooks are off: people act on the emulator (`replay.person("mgr").approve(...)`), and the
bot hears of it only through the vendored deliveries the test adapts and sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.emulator.seeds import REPO
from bot.replay.deliveries import Delivery
from bot.replay.local import InProcess, emulated
from bot.replay.retarget import Emulated
from bot.replay.transcript import Replayed, golden
from tests.replay.adapt import Scene, adapt
from tests.replay.vendored import delivery
from tests.service.conftest import NEW_FLAG, ROOT, Harness, harness  # noqa: F401

FLAG = (ROOT / NEW_FLAG).read_text()


@dataclass
class Replay:
    h: Harness
    runner: InProcess
    world: Emulated
    sent: list[Replayed] = field(default_factory=list)

    def person(self, login: str):
        return self.h.person(login)

    def open_flag_pull(self, branch: str = "new-checkout") -> int:
        return self.h.open("dev", {NEW_FLAG: FLAG}, branch=branch, title="Create new checkout flow")

    def review_by(self, number: int, login: str) -> dict[str, Any]:
        reviews = self.person("dev").get(f"/repos/{REPO}/pulls/{number}/reviews")
        return [r for r in reviews if r["user"]["login"] == login][-1]

    def adapted(
        self,
        *parts: str,
        number: int,
        sender: str,
        review_by: str | None = None,
        guid: str | None = None,
    ) -> Delivery:
        """The vendored payload `parts`, adapted (see `tests.replay.adapt`) to pull request
        `number` and `sender`; `review_by` picks the emulated review it describes."""
        original = delivery(*parts)
        dev = self.person("dev")
        scene = Scene(
            pull=dev.pr(REPO, number),
            sender=dev.get(f"/users/{sender}"),
            review=self.review_by(number, review_by) if review_by else None,
        )
        payload = adapt(original.payload, self.world, scene)
        headers = {**original.headers, "x-github-delivery": guid or f"{parts[-1]}#{number}"}
        return Delivery(
            original.source, original.event, headers["x-github-delivery"], payload, headers
        )

    async def send(self, delivery: Delivery) -> Replayed:
        replayed = await self.runner.send(delivery)
        assert replayed.response.status == 202, replayed.response
        assert not replayed.failed, replayed.log
        self.sent.append(replayed)
        return replayed

    def title(self, number: int) -> str:
        return self.h.title(number)

    def transcript(self) -> str:
        return golden(self.sent)


# The emulated clock stands still, so what the bot reads changes only when people act: an
# approval in the same second as the previous read or in the next gives the same transcript.
FROZEN_AT = "2030-01-01T09:00:00Z"


@pytest.fixture
async def replay(harness: Harness) -> AsyncIterator[Replay]:  # noqa: F811
    harness.emulator.clock.set(FROZEN_AT)
    async with InProcess(harness.stack) as runner:
        yield Replay(harness, runner, emulated(harness.emulator))

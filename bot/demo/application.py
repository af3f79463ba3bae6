"""The demo's last chapter: an application reading the flags through the real Unleash SDK.

acme's shop asks `flagbot serve` for its flags as Unleash SDKs do (`GET /api/client/features`
with a read token) and decides for each of 10,000 customers whether they see the new
checkout. It polls after every run of the rollout job, so the share follows the stages;
then on-call switches the new checkout off and one poll later nobody has it. Every count is
checked against flagbot's own evaluator: Unleash buckets exactly as flagbot does.

The SDK is the `UnleashClient` package (the `demo` extra); without it the chapter is skipped.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.demo.seed import NEW_FLAG
from bot.demo.story import Pull, Story, StoryFailed, expect
from bot.demo.views import waiting
from bot.flags.evaluate import bucket

CUSTOMERS = tuple(f"customer-{i:05d}" for i in range(10_000))
STEP = "7"


def sdk_available() -> bool:
    try:
        import UnleashClient  # noqa: F401
    except ImportError:
        return False
    return True


def read_token() -> str:
    return secrets.token_hex(16)


@dataclass
class Seen:
    """What the application saw after one poll: the percentage on main, customers served."""

    percentage: float
    served: int
    note: str = ""


@dataclass
class Application:
    client: Any  # UnleashClient.AsyncUnleashClient
    key: str
    seen: list[Seen] = field(default_factory=list)

    async def poll(self) -> None:
        """One poll now, as the SDK's timer would (it is set far off: the demo's clock is
        simulated). The pinned SDK's polling connector does the fetch, with its ETag."""
        await self.client._connector._fetch_and_load()

    def served(self) -> int:
        return sum(self.client.is_enabled(self.key, {"userId": c}) for c in CUSTOMERS)

    async def look(self, percentage: float, *, enabled: bool = True, note: str = "") -> Seen:
        """Poll, count the customers served, and check flagbot's evaluator says the same."""
        await self.poll()
        served = self.served()
        expected = sum(bucket(self.key, c) <= percentage for c in CUSTOMERS) if enabled else 0
        expect(
            served == expected,
            STEP,
            f"the Unleash SDK served {self.key} to {served} customers at {percentage:g}%, "
            f"flagbot's evaluator says {expected}",
        )
        seen = Seen(percentage, served, note)
        self.seen.append(seen)
        return seen


@asynccontextmanager
async def application(base_url: str, token: str, key: str) -> AsyncIterator[Application]:
    """The shop's Unleash SDK reading `flagbot serve` at `base_url`."""
    from UnleashClient import AsyncUnleashClient
    from UnleashClient.cache import FileCache

    with tempfile.TemporaryDirectory(prefix="flagbot-demo-unleash-") as cache_dir:
        client = AsyncUnleashClient(
            url=f"{base_url}/api",
            app_name="acme-shop",
            refresh_interval=3600,
            disable_metrics=True,
            disable_registration=True,
            custom_headers={"Authorization": token},
            cache=FileCache("acme-shop", directory=cache_dir),
        )
        await client.initialize_client()
        try:
            if not client.feature_definitions():
                raise StoryFailed(STEP, "the Unleash SDK read no flags from flagbot serve")
            yield Application(client, key)
        finally:
            await client.destroy()


def seen_lines(seen: list[Seen], key: str, style: Any) -> list[str]:
    """One row per poll: the percentage on main, the customers served, as a bar."""
    from bot.demo.render import columns
    from bot.rollout.schedule import fmt_pct

    rows = [
        [
            style.bar(100 * s.served / len(CUSTOMERS)),
            style.bold(f"{s.served:>6,}"),
            f"of {len(CUSTOMERS):,} customers get {key}",
            style.dim(f"main says {fmt_pct(s.percentage)}%{s.note}"),
        ]
        for s in seen
    ]
    return ["  " + line for line in columns(rows)]


async def switch_off(story: Story, app: Application, when: datetime) -> Pull:
    """On-call switches the fully rolled out flag off; one poll later nobody has it."""
    page, style = story.page, story.style
    story.stack.emulator.clock.set(when)
    page.heading("7  emergency: the new checkout is switched off", f"{when:%H:%M}")
    text, count = re.subn(
        r"^enabled: *true\b", "enabled: false", story.file_at(NEW_FLAG, "main"), flags=re.M
    )
    expect(count == 1, STEP, f"{NEW_FLAG} on main has no `enabled: true` line to switch off")
    n = await story.open(
        "dev",
        {NEW_FLAG: text},
        "new-checkout-off",
        "Switch the new checkout off",
        "Checkout errors doubled at 100%; switch it off while we look.",
    )
    page.actor(
        "dev",
        [f'opens #{n} "Switch the new checkout off"',
         style.dim(f"~ {NEW_FLAG}: enabled true → false")],
    )  # fmt: skip
    run = story.check_run(n)
    title = run["output"]["title"]
    expect(title == "Waiting for oncall approval", STEP, f"check run says {title!r}")
    page.actor("flagbot", waiting(title, style))
    await story.approve("oncall", n, "Off while we look.")
    page.actor("oncall", f"approves #{n}")
    merged = story._merged(STEP, n, ["Requested-by: dev", "Oncall-approved-by: oncall"])
    seen = await app.look(100, enabled=False, note=", enabled: false")
    page.actor(
        "shop",
        f"polls flagbot serve once: {seen.served:,} of {len(CUSTOMERS):,} customers get {app.key}",
    )
    pull = replace(merged, change=f"toggle {app.key}", people="dev → oncall (on-call)")
    story.pulls.append(pull)
    return pull

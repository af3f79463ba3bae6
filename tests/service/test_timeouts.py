"""The approval clock on the emulator's time: one reminder, one expiry, restarted by a push;
two replicas sweeping at once still remind once and expire once."""

import asyncio
from datetime import timedelta

from bot.plan.facts import EXPIRED_LABEL
from bot.plan.timeout import EXPIRY_MARKER, REMINDER_MARKER
from tests.service.conftest import NEW_FLAG, REPO, ROOT, add_replica

FLAG = (ROOT / NEW_FLAG).read_text()


def marked(h, n, marker):
    return [c for c in h.comments(n) if marker in c["body"]]


async def swept(h, *services):
    await asyncio.gather(*(s.sweep() for s in services or (h.service,)))
    await h.settle()


async def opened(h):
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="b", title="Create new checkout flow")
    await h.settle()
    return n


async def test_reminded_once_then_expired_once_and_a_push_restarts_the_clock(harness):
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    h.emulator.clock.advance(timedelta(hours=23, minutes=59))
    await swept(h)
    assert marked(h, n, REMINDER_MARKER) == []
    h.emulator.clock.advance(timedelta(minutes=1))
    await swept(h)
    await swept(h)
    [reminder] = marked(h, n, REMINDER_MARKER)
    assert "QA validation: @acme/qa" in reminder["body"]  # who can still approve what's missing
    assert "manager approval" not in reminder["body"]
    assert h.title(n) == "Waiting for QA validation"

    h.emulator.clock.advance(timedelta(hours=48))
    await swept(h)
    await swept(h)
    run = h.check_run(n)
    assert (run["output"]["title"], run["conclusion"]) == ("Expired after 72h", "failure")
    assert EXPIRED_LABEL in [lb["name"] for lb in h.pull(n)["labels"]]
    assert len(marked(h, n, EXPIRY_MARKER)) == 1
    assert len(h.slack.posts) == 1 and "expired" in str(h.slack.posts[0]).lower()
    assert h.pull(n)["state"] == "open"  # on_expire: fail (the default) leaves it open
    # A late approval does not revive the expired head.
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"] and h.title(n) == "Expired after 72h"

    # A push is a new head: the clock starts again.
    h.person("dev").commit_file(REPO, NEW_FLAG, FLAG + "\n", branch="b", message="touch")
    await h.settle()
    assert h.title(n) == "Waiting for manager approval"
    h.emulator.clock.advance(timedelta(hours=24))
    await swept(h)
    assert len(marked(h, n, REMINDER_MARKER)) == 2
    assert len(marked(h, n, EXPIRY_MARKER)) == 1


async def test_two_replicas_sweeping_at_once_remind_once_and_expire_once(harness, aiohttp_server):
    h = harness
    await add_replica(h, aiohttp_server)
    n = await opened(h)
    h.emulator.clock.advance(timedelta(hours=25))
    await swept(h, h.service, *h.replicas)
    assert len(marked(h, n, REMINDER_MARKER)) == 1
    h.emulator.clock.advance(timedelta(hours=48))
    await swept(h, h.service, *h.replicas)
    await swept(h, h.service, *h.replicas)
    assert len(marked(h, n, EXPIRY_MARKER)) == 1
    assert len(h.slack.posts) == 1
    assert h.title(n) == "Expired after 72h"

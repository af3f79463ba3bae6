"""Every vendored real payload, sent as GitHub sent it (re-signed), to a running bot.

The payloads name repositories and installations the emulated GitHub does not have
(`Codertocat/Hello-World`, installation 1...). The bot must acknowledge each (202), then
either ignore it (an event or action it does not act on) or try it once, find that GitHub
does not show it this App (404), and log one warning: no error, no retries, still healthy.
A newly vendored file gets its test automatically (parametrised over the directory listing).
"""

from __future__ import annotations

import logging

import aiohttp
import pytest
from gidgethub.sansio import Event

from bot.replay.local import InProcess
from bot.service import events
from tests.conftest import vendor_path
from tests.replay.vendored import OCTOKIT, delivery, listed
from tests.service.conftest import harness  # noqa: F401


async def routed(delivery) -> list:
    """What the bot's own router makes of the delivery (pull requests to reconcile...)."""
    found: list = []
    event = Event(delivery.payload, event=delivery.event, delivery_id=delivery.guid)
    await events.router.dispatch(event, found.append)
    return found


def test_the_listing_covers_both_pull_request_events():
    vendor_path(OCTOKIT)  # skips, with the reason, when the vendored material is absent
    names = {p.values[0][1] for p in listed()}
    assert {"pull_request", "pull_request_review"} <= names


@pytest.mark.parametrize("parts", listed())
async def test_sent_as_is_it_is_acknowledged_and_ignored_cleanly(parts, harness, caplog):  # noqa: F811
    sent = delivery(*parts)
    caplog.set_level(logging.WARNING)
    async with InProcess(harness.stack, rewrite=False) as runner:
        replayed = await runner.send(sent)
    assert replayed.response.status == 202, replayed.response
    assert replayed.delivery.payload == sent.payload  # as GitHub sent it
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert list(harness.service.outcomes) == []  # nothing of someone else's was decided
    # a push also tells the exports to read the branch again: no call, nothing to log
    work = [w for w in await routed(sent) if not isinstance(w, events.Pushed)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    routes = [f"{c.method} {c.route}" for c in replayed.calls]
    assert len(routes) == len(set(routes)), f"retried: {routes}"
    if work:  # tried once, not found, one line saying so
        assert len(warnings) == len(work), warnings
        assert all(w.startswith("ignored ") and "(404)" in w for w in warnings), warnings
        assert replayed.calls[-1].status == 404
    else:  # not an event the bot acts on
        assert (warnings, routes) == ([], [])
    health_url = harness.bot_url.replace("/webhook", "/healthz")
    async with aiohttp.ClientSession() as session, session.get(health_url) as resp:
        assert (resp.status, await resp.json()) == (200, {"status": "ok", "backlog": 0})

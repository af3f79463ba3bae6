"""GitHub's secondary limits on content-creating requests, and the per-call latency option."""

from __future__ import annotations

from collections import deque

import aiohttp
import pytest
from gidgethub import BadRequest
from gidgethub.aiohttp import GitHubAPI

from bot.emulator import Emulator, Server
from bot.emulator.secondary import Window, wait_for_room
from tests.emulator_harness import REPO, seed_for

COMMENTS = "/repos/acme/flags/issues/1/comments"
MINUTE, HOUR = Window(60.0, 3), Window(3600.0, 5)


def test_room_is_free_until_a_window_is_full() -> None:
    assert wait_for_room(deque(), 0.0, (MINUTE, HOUR)) == 0.0
    assert wait_for_room(deque([0.0, 1.0]), 2.0, (MINUTE, HOUR)) == 0.0


def test_a_full_minute_waits_for_its_oldest_request_to_leave() -> None:
    assert wait_for_room(deque([10.0, 20.0, 30.0]), 40.0, (MINUTE, HOUR)) == 30.0
    assert wait_for_room(deque([10.0, 20.0, 30.0]), 70.0, (MINUTE, HOUR)) == 0.0


def test_a_full_hour_waits_for_the_hour_whatever_the_minute_says() -> None:
    sent = deque([0.0, 100.0, 200.0, 300.0, 400.0])
    assert wait_for_room(sent, 500.0, (MINUTE, HOUR)) == 3100.0


def test_a_zero_limit_never_has_room() -> None:
    assert wait_for_room(deque(), 0.0, (Window(60.0, 0),)) == float("inf")


@pytest.fixture
def emulator() -> Emulator:
    em = Emulator.from_seed(
        {**seed_for(), "options": {"writes_per_minute": 3, "writes_per_hour": 5}}
    )
    em.clock.set("2026-01-05T10:00:00Z")
    em.person("dev").propose(REPO, {"flags/x.yaml": "x: 1\n"}, branch="x", title="X")
    return em


async def comment(session: aiohttp.ClientSession, github: Server, body: str) -> None:
    api = GitHubAPI(session, "tests", oauth_token="dev-token", base_url=github.url)
    await api.post(COMMENTS, data={"body": body})


async def refused(session: aiohttp.ClientSession, github: Server) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        await comment(session, github, "one too many")
    return caught.value


async def test_writes_over_the_minute_are_refused_as_github_does(
    emulator: Emulator, github: Server
) -> None:
    async with aiohttp.ClientSession() as session:
        for i in range(3):
            await comment(session, github, f"c{i}")
        emulator.clock.advance(20)
        err = await refused(session, github)
        assert err.status_code == 403 and "secondary rate limit" in str(err)
        assert err.headers["Retry-After"] == "40"
        pr = emulator.request("GET", f"{COMMENTS}", login="dev").body
        assert [c["body"] for c in pr] == ["c0", "c1", "c2"]  # the refused one changed nothing
        api = GitHubAPI(session, "tests", oauth_token="dev-token", base_url=github.url)
        assert (await api.getitem("/repos/acme/flags"))["name"] == "flags"  # reads still pass
        other = GitHubAPI(session, "tests", oauth_token="mgr-token", base_url=github.url)
        await other.post(COMMENTS, data={"body": "another identity has its own limit"})
        emulator.clock.advance(40)
        await comment(session, github, "room again")
    refusals = [c for c in emulator.calls.calls("POST") if c.fault == "secondary_limit"]
    assert len(refusals) == 1 and refusals[0].status == 403


async def test_the_hour_limit_holds_past_the_minute(emulator: Emulator, github: Server) -> None:
    async with aiohttp.ClientSession() as session:
        for i in range(5):
            await comment(session, github, f"c{i}")
            emulator.clock.advance(61)
        err = await refused(session, github)
        assert err.status_code == 403 and err.headers["Retry-After"] == str(3600 - 5 * 61)
        emulator.clock.advance(3600 - 5 * 61)
        await comment(session, github, "room again")


async def test_in_process_calls_and_admin_resets_are_not_limited(
    emulator: Emulator, github: Server
) -> None:
    for i in range(6):
        assert emulator.person("dev").comment(REPO, 1, f"helper {i}")["id"]
    async with aiohttp.ClientSession() as session:
        for i in range(3):
            await comment(session, github, f"c{i}")
        await refused(session, github)
        async with session.delete(f"{github.url}/_emulator/ratelimit") as resp:
            assert resp.status == 200
        await comment(session, github, "after a reset")


async def test_latency_option_delays_every_http_call(emulator: Emulator, github: Server) -> None:
    emulator.options.latency = 0.03
    async with aiohttp.ClientSession() as session:
        api = GitHubAPI(session, "tests", oauth_token="dev-token", base_url=github.url)
        await api.getitem("/repos/acme/flags")
        await comment(session, github, "late")
    delays = [c.delay for c in emulator.calls.calls()]
    assert delays == [0.03, 0.03]

"""What the gateway saves: team listings answer membership for a minute and are re-read for a
free 304; an added file's content comes from its patch; parsed policy files are reused."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
import pytest

from bot.emulator import Emulator
from bot.gh.client import GitHubClient
from bot.gh.pulls import RepoGateway
from bot.policy.patch import added_text
from bot.service.caches import MEMBERSHIP_TTL, Caches
from tests.emulator_harness import REPO, seed_for

MEMBERS = "/orgs/{org}/teams/{team_slug}/members"
BLOB = "/repos/{owner}/{repo}/git/blobs/{file_sha}"


def test_an_added_files_patch_is_its_text() -> None:
    assert added_text("@@ -0,0 +1,2 @@\n+a: 1\n+b: 2") == "a: 1\nb: 2\n"
    assert added_text("@@ -0,0 +1 @@\n+x\n\\ No newline at end of file") == "x"


def test_a_patch_that_is_not_a_whole_new_file_gives_nothing() -> None:
    assert added_text("@@ -1,2 +1,2 @@\n-a\n+b\n c") is None
    assert added_text("@@ -0,0 +1,3 @@\n+a\n+b") is None  # cut short
    assert added_text("@@ -0,0 +1 @@\n+a\n@@ -0,0 +5 @@\n+b") is None
    assert added_text("not a diff") is None


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator() -> Emulator:
    return Emulator.from_seed(seed_for())


async def gateway(session: aiohttp.ClientSession, url: str, caches: Caches) -> RepoGateway:
    gh = GitHubClient(session, base_url=url, cache={})
    return RepoGateway(gh, REPO, "dev-token", caches)


async def test_one_listing_per_team_answers_members_and_non_members(emulator: Emulator) -> None:
    timer = Ticking()
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches(timer=timer))
        assert await gw.is_member("@acme/eng-managers", "mgr")
        assert not await gw.is_member("@acme/eng-managers", "dev")
        assert not await gw.is_member("@acme/eng-managers", "outsider")
        assert not await gw.is_member("@acme/no-such-team", "mgr")
        assert not await gw.is_member("@acme/no-such-team", "dev")  # the 404 is kept too
        calls = emulator.calls.calls("GET")
        assert len(calls) == 2 and all(c.charged for c in calls)
        timer.now += MEMBERSHIP_TTL + 1  # a minute later: asked again, unchanged, free
        assert await gw.is_member("@acme/eng-managers", "MGR")
        again = emulator.calls.calls("GET", MEMBERS)[-1]
        assert again.not_modified and not again.charged


async def test_a_removed_member_stops_counting_after_a_minute(emulator: Emulator) -> None:
    timer = Ticking()
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches(timer=timer))
        assert await gw.is_member("@acme/eng-managers", "mgr")
        with emulator.lock:
            team = emulator.state.orgs["acme"].teams["eng-managers"]
            team.members.discard("mgr")
            team.maintainers.discard("mgr")
        assert await gw.is_member("@acme/eng-managers", "mgr")  # within the minute
        timer.now += MEMBERSHIP_TTL + 1
        assert not await gw.is_member("@acme/eng-managers", "mgr")


async def test_an_added_file_is_not_read_again(emulator: Emulator) -> None:
    text = "name: X\nowner: dev\n"
    pr = emulator.person("dev").propose(REPO, {"flags/x.yaml": text}, branch="x", title="X")
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches())
        files, _ = await gw.files(pr["number"])
        assert await gw.blob(files[0].sha or "") == text.encode()
    assert emulator.calls.calls("GET", BLOB) == []


async def test_files_and_reviews_are_read_alongside_the_pull_request(emulator: Emulator) -> None:
    pr = emulator.person("dev").propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    emulator.person("mgr").approve(REPO, pr["number"])
    emulator.options.latency = 0.2  # every answer late: the reads must overlap to be quick
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches())
        pull = await gw.pull(pr["number"])
        files, _ = await gw.files(pr["number"])
        reviews = await gw.reviews(pr["number"])
    assert pull and files[0].path == "flags/x.yaml"
    assert [r.user for r in reviews] == ["mgr"]
    calls = emulator.calls.calls("GET")
    assert len(calls) == 3  # each read once: files and reviews answered from the read-ahead
    pull_call = next(c for c in calls if c.route == "/repos/{owner}/{repo}/pulls/{pull_number}")
    for c in calls:  # every read arrived before the pull request's answer left
        assert c.time - c.duration < pull_call.time


async def test_reads_ahead_for_a_missing_pull_request_are_not_left_failing(
    emulator: Emulator, caplog
) -> None:
    from bot.gh.errors import NotOurs

    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches())
        with pytest.raises(NotOurs):
            await gw.pull(99)
        await asyncio.sleep(0.05)
        del gw
        gc.collect()
    assert "exception was never retrieved" not in caplog.text


async def test_a_fresh_membership_answer_is_the_listing_read_with_the_pull_request(
    emulator: Emulator,
) -> None:
    pr = emulator.person("dev").propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        caches = Caches()
        first = await gateway(session, server.url, caches)
        assert await first.is_member("@acme/eng-managers", "mgr")  # the repository's team
        with emulator.lock:  # someone leaves; no webhook says so
            team = emulator.state.orgs["acme"].teams["eng-managers"]
            team.members.discard("mgr")
            team.maintainers.discard("mgr")
        later = await gateway(session, server.url, caches)
        await later.pull(pr["number"])
        assert not await later.is_member("@acme/eng-managers", "mgr", fresh=True)
        assert not await later.is_member("@acme/eng-managers", "mgr")  # no older answer wins
    listings = emulator.calls.calls("GET", MEMBERS)
    assert len(listings) == 2  # the first decision's, and the one made with the pull request


async def test_reading_the_pull_request_again_reads_only_the_pull_request(
    emulator: Emulator,
) -> None:
    pr = emulator.person("dev").propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches())
        await gw.pull(pr["number"])
        await gw.files(pr["number"])
        await gw.reviews(pr["number"])
        await gw.pull(pr["number"])  # after a refused merge: was it merged meanwhile?
        await asyncio.sleep(0.05)
    routes = [c.route for c in emulator.calls.calls("GET")]
    assert routes.count("/repos/{owner}/{repo}/pulls/{pull_number}") == 2
    assert routes.count("/repos/{owner}/{repo}/pulls/{pull_number}/files") == 1
    assert routes.count("/repos/{owner}/{repo}/pulls/{pull_number}/reviews") == 1


async def test_a_caller_reading_everything_at_once_reads_each_once(emulator: Emulator) -> None:
    pr = emulator.person("dev").propose(REPO, {"flags/x.yaml": "name: X\n"}, branch="x", title="X")
    async with emulator.serve() as server, aiohttp.ClientSession() as session:
        gw = await gateway(session, server.url, Caches())
        n = pr["number"]
        await asyncio.gather(gw.files(n), gw.reviews(n), gw.pull(n))  # files asked first
        await asyncio.sleep(0.05)
    routes = [c.route for c in emulator.calls.calls("GET")]
    assert len(routes) == 3 and len(set(routes)) == 3

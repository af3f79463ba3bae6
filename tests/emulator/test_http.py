"""The HTTP surface: pagination, ETag/304, rate limits, faults, staged races, call log, admin."""

from __future__ import annotations

import aiohttp
import pytest
from gidgethub import BadRequest, GitHubBroken, RateLimitExceeded
from gidgethub.aiohttp import GitHubAPI

from bot.emulator import Emulator, Server
from tests.emulator_harness import REPO

PR_ROUTE = "/repos/{owner}/{repo}/pulls/{pull_number}"
MERGE = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"


def open_pr(emulator: Emulator) -> dict:
    return emulator.person("dev").propose(REPO, {"flags/x.yaml": "x: 1\n"}, branch="x", title="X")


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def gh(
    session: aiohttp.ClientSession, github: Server, token: str = "dev-token", cache=None
) -> GitHubAPI:
    return GitHubAPI(session, "flagbot-tests", oauth_token=token, cache=cache, base_url=github.url)


async def test_urls_are_built_on_the_served_address(
    emulator: Emulator, github: Server, session
) -> None:
    open_pr(emulator)
    pr = await gh(session, github).getitem("/repos/acme/flags/pulls/1")
    assert pr["url"] == f"{github.url}/repos/acme/flags/pulls/1"
    assert pr["base"]["repo"]["url"] == f"{github.url}/repos/acme/flags"


async def test_pagination_follows_link_headers(emulator: Emulator, github: Server, session) -> None:
    for i in range(6):
        emulator.push_files(REPO, "main", {"n.txt": str(i)}, author="dev")
    async with session.get(f"{github.url}/repos/acme/flags/commits?per_page=2&page=2") as resp:
        link = resp.headers["Link"]
    for rel, page in (("prev", 1), ("next", 3), ("last", 4), ("first", 1)):
        assert f'page={page}>; rel="{rel}"' in link and github.url in link
    shas = [
        c["sha"]
        async for c in gh(session, github).getiter(
            "/repos/acme/flags/commits{?per_page}", {"per_page": 2}
        )
    ]
    assert len(shas) == 7 and len(set(shas)) == 7
    calls = emulator.calls.calls("GET", "/repos/{owner}/{repo}/commits", login="dev")
    assert [c.query.get("page") for c in calls] == [None, "2", "3", "4"]


async def test_etag_answers_304_which_is_not_charged(
    emulator: Emulator, github: Server, session
) -> None:
    open_pr(emulator)
    cache: dict = {}
    api = gh(session, github, cache=cache)
    first = await api.getitem("/repos/acme/flags/pulls/1")
    used_before = emulator.ratelimit.budget("user:dev").used
    second = await api.getitem("/repos/acme/flags/pulls/1")
    assert second == first
    calls = emulator.calls.calls("GET", PR_ROUTE)
    assert [(c.status, c.charged) for c in calls] == [(200, True), (304, False)]
    assert emulator.ratelimit.budget("user:dev").used == used_before
    emulator.person("dev").edit_pr(REPO, 1, title="changed")
    third = await api.getitem("/repos/acme/flags/pulls/1")
    assert third["title"] == "changed" and emulator.calls.calls("GET", PR_ROUTE)[-1].status == 200


async def test_rate_limit_headers_and_exhaustion(
    emulator: Emulator, github: Server, session
) -> None:
    async with session.get(
        f"{github.url}/repos/acme/flags", headers={"Authorization": "token dev-token"}
    ) as r:
        assert r.headers["X-RateLimit-Limit"] == "5000"
        assert r.headers["X-RateLimit-Remaining"] == "4999"
        assert r.headers["X-RateLimit-Used"] == "1" and r.headers["X-RateLimit-Resource"] == "core"
        assert int(r.headers["X-RateLimit-Reset"]) > 0
    async with session.get(f"{github.url}/repos/acme/flags") as r:
        assert r.headers["X-RateLimit-Limit"] == "60"
    emulator.ratelimit.exhaust("user:dev")
    with pytest.raises(RateLimitExceeded):
        await gh(session, github).getitem("/repos/acme/flags")
    assert (await gh(session, github, "mgr-token").getitem("/repos/acme/flags"))["name"] == "flags"


async def test_unknown_tokens_and_unknown_routes(github: Server, session) -> None:
    async with session.get(
        f"{github.url}/repos/acme/flags", headers={"Authorization": "token nope"}
    ) as r:
        assert r.status == 401 and (await r.json())["message"] == "Bad credentials"
    async with session.get(f"{github.url}/no/such/route") as r:
        assert r.status == 404 and (await r.json())["message"] == "Not Found"
    async with session.post(
        f"{github.url}/repos/acme/flags/pulls",
        data=b"{nope",
        headers={"Authorization": "token dev-token"},
    ) as r:
        assert r.status == 400 and (await r.json())["message"] == "Problems parsing JSON"


async def test_injected_5xx_for_a_limited_count(
    emulator: Emulator, github: Server, session
) -> None:
    open_pr(emulator)
    emulator.faults.fail(f"GET {PR_ROUTE}", 502, times=2)
    api = gh(session, github)
    for _ in range(2):
        with pytest.raises(GitHubBroken):
            await api.getitem("/repos/acme/flags/pulls/1")
    assert (await api.getitem("/repos/acme/flags/pulls/1"))["number"] == 1
    assert [c.fault for c in emulator.calls.calls("GET", PR_ROUTE)] == ["status", "status", None]


async def test_faulted_writes_change_nothing(emulator: Emulator, github: Server, session) -> None:
    open_pr(emulator)
    emulator.faults.fail(MERGE, 500)
    with pytest.raises(GitHubBroken):
        await gh(session, github, "mgr-token").put("/repos/acme/flags/pulls/1/merge", data={})
    assert emulator.repo(REPO).pulls[1].state == "open"
    merged = await gh(session, github, "mgr-token").put("/repos/acme/flags/pulls/1/merge", data={})
    assert merged["merged"] is True


async def test_secondary_rate_limit_and_429_carry_retry_after(
    emulator: Emulator, github: Server, session
) -> None:
    emulator.faults.secondary_rate_limit("GET /repos/{owner}/{repo}", retry_after=7)
    emulator.faults.too_many_requests("GET /repos/{owner}/{repo}", retry_after=3, skip=1)
    api = gh(session, github)
    with pytest.raises(BadRequest) as first:
        await api.getitem("/repos/acme/flags")
    assert first.value.status_code == 403 and first.value.headers["Retry-After"] == "7"
    assert "secondary rate limit" in str(first.value)
    with pytest.raises(BadRequest) as second:
        await api.getitem("/repos/acme/flags")
    assert second.value.status_code == 429 and second.value.headers["Retry-After"] == "3"
    assert (await api.getitem("/repos/acme/flags"))["name"] == "flags"


async def test_primary_limit_fault_and_identity_scoped_faults(
    emulator: Emulator, github: Server, session
) -> None:
    emulator.faults.rate_limited("*", login="flagbot[bot]", times=None)
    with pytest.raises(RateLimitExceeded):
        await gh(session, github, emulator.installation_token(2002)).getitem("/repos/acme/flags")
    assert (await gh(session, github).getitem("/repos/acme/flags"))["name"] == "flags"


async def test_latency_delays_but_serves(emulator: Emulator, github: Server, session) -> None:
    emulator.faults.latency("GET /repos/{owner}/{repo}", 0.05, times=1)
    assert (await gh(session, github).getitem("/repos/acme/flags"))["name"] == "flags"
    call = emulator.calls.calls("GET", "/repos/{owner}/{repo}")[-1]
    assert (call.status, call.delay, call.fault) == (200, 0.05, None)


def test_fault_rates_are_reproducible_with_a_seed() -> None:
    from bot.emulator.faults import Faults

    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.fail("GET /x", 503, times=None, rate=0.5)
        return [faults.decide("GET", "/x", None, {}).error is not None for _ in range(32)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 4 < sum(pattern(7)) < 28


async def test_staged_race_moves_the_head_between_read_and_merge(
    emulator: Emulator, github: Server, session
) -> None:
    open_pr(emulator)
    bot = gh(session, github, emulator.installation_token(2002))
    pr = await bot.getitem("/repos/acme/flags/pulls/1")
    emulator.faults.before_call(
        MERGE, lambda: emulator.push_files(REPO, "x", {"flags/x.yaml": "x: 2\n"}, author="dev")
    )
    with pytest.raises(BadRequest) as e:
        await bot.put("/repos/acme/flags/pulls/1/merge", data={"sha": pr["head"]["sha"]})
    assert e.value.status_code == 409
    fresh = await bot.getitem("/repos/acme/flags/pulls/1")
    assert fresh["head"]["sha"] != pr["head"]["sha"] and fresh["state"] == "open"
    merged = await bot.put("/repos/acme/flags/pulls/1/merge", data={"sha": fresh["head"]["sha"]})
    assert merged["merged"] is True


async def test_call_log_counts_by_route(emulator: Emulator, github: Server, session) -> None:
    open_pr(emulator)
    api = gh(session, github, emulator.installation_token(2002), cache={})
    await api.getitem("/repos/acme/flags/pulls/1")
    await api.getitem("/repos/acme/flags/pulls/1")
    [f async for f in api.getiter("/repos/acme/flags/pulls/1/files")]
    stats = emulator.calls.stats()
    assert stats[f"GET {PR_ROUTE}"] | {"statuses": None} == {
        "calls": 2,
        "charged": 1,
        "not_modified": 1,
        "faults": 0,
        "statuses": None,
    }
    assert stats["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"]["calls"] == 1
    assert emulator.calls.count(login="flagbot[bot]") == 3
    assert emulator.calls.count(transport="inprocess") > 0  # the person's calls, kept apart


async def test_admin_api(emulator: Emulator, github: Server, session, tmp_path) -> None:
    admin = f"{github.url}/_emulator"
    async with session.put(f"{admin}/clock", json={"now": "2031-01-01T00:00:00Z"}) as r:
        assert (await r.json())["now"] == "2031-01-01T00:00:00Z"
    async with session.put(f"{admin}/clock", json={"advance_seconds": 90}) as r:
        assert (await r.json())["now"] == "2031-01-01T00:01:30Z"
    async with session.post(
        f"{admin}/repos/acme/flags/push",
        json={"branch": "main", "files": {"a.txt": "a"}, "author": "dev"},
    ) as r:
        sha = (await r.json())["sha"]
    assert emulator.repo(REPO).git.store.commit(sha).committer.iso_utc() == "2031-01-01T00:01:30Z"
    async with session.post(
        f"{admin}/faults",
        json={"target": "GET /repos/{owner}/{repo}", "kind": "status", "status": 503},
    ) as r:
        fault = await r.json()
    async with session.get(f"{github.url}/repos/acme/flags") as r:
        assert r.status == 503
    async with session.get(f"{admin}/calls/stats") as r:
        assert (await r.json())["GET /repos/{owner}/{repo}"]["faults"] == 1
    async with session.get(f"{admin}/calls?route=/repos/{{owner}}/{{repo}}") as r:
        assert [c["status"] for c in await r.json()] == [503]
    async with session.get(f"{admin}/faults") as r:
        assert (await r.json())["faults"] == []  # spent after one call
    assert fault["fired"] == 0
    async with session.get(f"{admin}/state") as r:
        state = await r.json()
    assert state["repos"][0]["refs"]["refs/heads/main"] == sha
    async with session.post(
        f"{admin}/repos/acme/flags/export", json={"path": str(tmp_path / "out.git")}
    ) as r:
        assert r.status == 200 and (tmp_path / "out.git" / "HEAD").exists()
    async with session.get(f"{admin}/nope") as r:
        assert r.status == 404


async def test_admin_staged_race(emulator: Emulator, github: Server, session) -> None:
    pr = open_pr(emulator)
    stage = {
        "target": MERGE,
        "push": {"repo": REPO, "branch": "x", "files": {"flags/x.yaml": "x: 9\n"}, "author": "dev"},
    }
    async with session.post(f"{github.url}/_emulator/stages", json=stage) as r:
        assert r.status == 200
    with pytest.raises(BadRequest) as e:
        await gh(session, github, "mgr-token").put(
            "/repos/acme/flags/pulls/1/merge", data={"sha": pr["head"]["sha"]}
        )
    assert e.value.status_code == 409
    assert emulator.repo(REPO).pulls[1].head_sha != pr["head"]["sha"]

"""`flagbot serve` answers applications: flagd files and Unleash client-features, read from
the default branch through the App, behind scoped read tokens, with ETags, refreshed on push.
Everything over real HTTP against the emulated GitHub; the Unleash side is the real SDK."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.exports.access import ReadTokens
from bot.exports.flagset import FlagSet
from bot.flags.evaluate import evaluate
from bot.sandbox import Sandbox, sandbox
from bot.service.exports import EXPORTS
from tests.service.conftest import FAST_RETRY, REPO, seed

PROD = "prod-reader-0123456789abcdef"
STAGING = "staging-reader-0123456789abcd"
WIDE = "repo-reader-0123456789abcdef"
ELSEWHERE = "other-repo-reader-0123456789"
TOKENS = ReadTokens.parse(
    f"{PROD}={REPO}/production, {STAGING}={REPO}/staging\n{WIDE}={REPO} "
    f"{ELSEWHERE}=acme/other/production"
)
BANNER = "flags/checkout_banner_text.yaml"


@dataclass
class Stack:
    sandbox: Sandbox
    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str, token: str | None = None, **headers: str):
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.get(self.base + path, headers=headers) as resp:
            body = await resp.read()
            return resp.status, resp.headers, body


async def stack_for(seed_data: dict) -> AsyncIterator[Stack]:
    async with (
        sandbox(seed_data, retry=FAST_RETRY, read_tokens=TOKENS) as sb,
        aiohttp.ClientSession() as http,
    ):
        yield Stack(sb, http, sb.bot_url.removesuffix("/webhook"))


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async for s in stack_for(seed()):
        yield s


FLAGD = f"/flags/{REPO}/production.flagd.json"


async def test_tokens_are_required_and_scoped_before_github_is_asked(stack, caplog):
    caplog.set_level(logging.DEBUG)
    calls = len(stack.sandbox.emulator.calls)
    assert (await stack.get(FLAGD))[0] == 401
    assert (await stack.get(FLAGD, "not-a-known-token-0123456789"))[0] == 401
    assert (await stack.get(FLAGD, STAGING))[0] == 403  # another environment
    assert (await stack.get(FLAGD, ELSEWHERE))[0] == 403  # another repository
    assert (await stack.get("/api/client/features"))[0] == 401
    assert len(stack.sandbox.emulator.calls) == calls  # refusals cost GitHub nothing
    _status, headers, _ = await stack.get(FLAGD)
    assert headers["WWW-Authenticate"].startswith("Bearer")
    for token in (PROD, WIDE):
        assert (await stack.get(FLAGD, token))[0] == 200
    assert (await stack.get(f"/flags/{REPO}/staging.flagd.json", WIDE))[0] == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PROD not in logged and STAGING not in logged


async def test_flagd_file_is_the_default_branchs_export_and_304_on_a_matching_etag(stack):
    status, headers, _body = await stack.get(FLAGD, PROD)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    head = stack.sandbox.emulator.person("dev").get(f"/repos/{REPO}/branches/main")
    assert headers["X-Flagbot-Commit"] == head["commit"]["sha"]
    etag = headers["ETag"]
    status, headers, body2 = await stack.get(FLAGD, PROD, **{"If-None-Match": etag})
    assert (status, body2) == (304, b"")
    assert headers["ETag"] == etag
    assert (await stack.get(FLAGD, PROD, **{"If-None-Match": '"stale"'}))[0] == 200


async def test_a_merged_change_is_served_after_the_push_event(stack):
    status, headers, _ = await stack.get(FLAGD, PROD)
    before = headers["ETag"]
    exports = stack.sandbox.app[EXPORTS]
    exports.freshness = 3600.0  # only the push webhook can make the change visible
    text = seed()["repos"][0]["files"][BANNER].replace("percentage: 25", "percentage: 60")
    sha = stack.sandbox.emulator.person("admin").commit_file(REPO, BANNER, text, branch="main")
    await stack.sandbox.settle()
    status, headers, body = await stack.get(FLAGD, PROD, **{"If-None-Match": before})
    assert status == 200 and headers["X-Flagbot-Commit"] == sha
    assert b'["value",60000]' in body


async def test_unleash_registration_and_metrics_are_acknowledged_for_token_holders(stack):
    for path in ("/api/client/register", "/api/client/metrics"):
        async with stack.http.post(stack.base + path, json={}) as resp:
            assert resp.status == 401
        async with stack.http.post(
            stack.base + path, json={}, headers={"Authorization": PROD}
        ) as resp:
            assert resp.status == 202


async def test_unknown_environment_and_non_export_paths_are_404(stack):
    assert (await stack.get(f"/flags/{REPO}/nowhere.flagd.json", WIDE))[0] == 404
    assert (await stack.get(f"/flags/{REPO}/production.txt", WIDE))[0] == 404


async def test_an_unexportable_head_keeps_serving_the_last_good_file(stack):
    _, _headers, good = await stack.get(FLAGD, PROD)
    bad = (
        "name: Beta\nrules:\n"
        "  - {name: r, attribute: a, operator: matches, values: [x], serve: true}\n"
    )
    stack.sandbox.emulator.person("admin").commit_file(REPO, "flags/beta.yaml", bad, branch="main")
    await stack.sandbox.settle()
    status, _, body = await stack.get(FLAGD, PROD)
    assert (status, body) == (200, good)


async def test_a_symlink_under_flags_is_never_read_as_a_flag(stack, caplog):
    _, _, good = await stack.get(FLAGD, PROD)
    stack.sandbox.app[EXPORTS].freshness = 0.0
    admin = stack.sandbox.emulator.person("admin")
    tip = admin.get(f"/repos/{REPO}/git/ref/heads/main")["object"]["sha"]
    tree = admin.get(f"/repos/{REPO}/git/commits/{tip}")["tree"]["sha"]
    link = {"path": "flags/alias.yaml", "mode": "120000", "type": "blob",
            "content": "checkout_banner_text.yaml"}  # fmt: skip
    made = admin.call("POST", f"/repos/{REPO}/git/trees", {"base_tree": tree, "tree": [link]})
    body = {"message": "alias", "tree": made["sha"], "parents": [tip]}
    commit = admin.call("POST", f"/repos/{REPO}/git/commits", body)
    admin.call("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": commit["sha"]})
    status, headers, served = await stack.get(FLAGD, PROD)
    assert (status, served) == (200, good)  # refused: the last good file stays
    assert headers["X-Flagbot-Commit"] == tip
    assert "flags/alias.yaml is a symlink" in caplog.text


async def test_while_github_fails_the_last_good_file_is_served(stack):
    _, _, good = await stack.get(FLAGD, PROD)
    stack.sandbox.app[EXPORTS].freshness = 0.0  # ask GitHub on every request
    stack.sandbox.emulator.faults.fail("GET /repos/{owner}/{repo}/git/ref/{ref}", 503, times=None)
    status, _, body = await stack.get(FLAGD, PROD)
    assert (status, body) == (200, good)
    # a file never served before has nothing to fall back on
    assert (await stack.get(f"/flags/{REPO}/staging.flagd.json", WIDE))[0] == 502


async def test_private_repository_is_served_through_the_app():
    data = seed()
    data["repos"][0]["private"] = True
    async for s in stack_for(data):
        status, _headers, body = await s.get(FLAGD, PROD)
        assert status == 200, body
        assert b"new_checkout_flow" not in body and b"checkout_banner_text" in body
        anonymous = await s.http.get(f"{s.sandbox.api_url}/repos/{REPO}/contents/{BANNER}")
        assert anonymous.status == 404  # nobody else can read it


async def test_the_real_unleash_sdk_polling_serve_gets_what_flagbot_eval_gives(stack, tmp_path):
    from tests.exports.sdks import served_by_unleash_polling

    flagset = FlagSet.from_snapshot({p: v.encode() for p, v in seed()["repos"][0]["files"].items()})
    banner = flagset.flag("production", "checkout_banner_text")
    users = [f"user-{i}" for i in range(2000)]
    async with served_by_unleash_polling(stack.base + "/api", PROD, tmp_path) as sdk:
        got = [sdk.value("string", "checkout_banner_text", u, {}) for u in users]
        assert got == [evaluate(banner, u).value for u in users]
        staff = sdk.value("string", "checkout_banner_text", None, {"email": "a@acme.example"})
        assert staff == banner.value
        text = seed()["repos"][0]["files"][BANNER].replace("percentage: 25", "percentage: 0")
        stack.sandbox.emulator.person("admin").commit_file(REPO, BANNER, text, branch="main")
        await stack.sandbox.settle()
        await sdk.poll()
        assert {sdk.value("string", "checkout_banner_text", u, {}) for u in users} == {
            banner.default
        }


async def test_the_real_unleash_sdk_polling_serve_agrees_on_the_whole_corpus(tmp_path):
    from tests.exports.corpus import contexts, corpus_snapshot
    from tests.exports.sdks import served_by_unleash_polling
    from tests.exports.test_sdk_agreement import same

    snapshot = corpus_snapshot()
    flagset = FlagSet.from_snapshot(snapshot)
    data = seed({p: v.decode() for p, v in snapshot.items()})
    async for s in stack_for(data):
        async with served_by_unleash_polling(s.base + "/api", PROD, tmp_path) as sdk:
            for flag in flagset.flags:
                for key, attrs in contexts():
                    got = sdk.value(flag.type, flag.key, key, attrs)
                    expected = evaluate(flag, key, attrs).value
                    assert same(got, expected), (flag.key, key, attrs, got, expected)


async def test_a_pull_request_the_bot_merges_is_served_after_its_push(stack):
    _, headers, _ = await stack.get(FLAGD, PROD)
    stack.sandbox.app[EXPORTS].freshness = 3600.0  # only the merge's push can refresh it
    text = seed()["repos"][0]["files"][BANNER].replace("percentage: 25", "percentage: 40")
    dev = stack.sandbox.emulator.person("dev")
    pr = dev.propose(REPO, {BANNER: text}, branch="banner-40", title="Banner to 40%")
    await stack.sandbox.settle()
    stack.sandbox.emulator.person("mgr").approve(REPO, pr["number"])
    await stack.sandbox.settle()
    stack.sandbox.emulator.person("qa").approve(REPO, pr["number"])
    await stack.sandbox.settle()
    merged = dev.pr(REPO, pr["number"])
    assert merged["merged"], merged["state"]
    status, headers2, body = await stack.get(FLAGD, PROD, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and headers2["X-Flagbot-Commit"] == merged["merge_commit_sha"]
    assert b'["value",40000]' in body

"""Webhook deliveries: signed, valid against the octokit schemas, in order, kept, redeliverable,
and never blocking the API."""

from __future__ import annotations

import json
import socket

import aiohttp
import pytest
from gidgethub import sansio

from bot.emulator import Emulator, Server
from tests.conformance.webhooks import webhooks
from tests.conftest import vendor_path
from tests.emulator_harness import APP_ID, REPO, WebhookSink, seed_for

SECRET = "s3cret"


def play_story(emulator: Emulator) -> None:
    """Every pull request and review action the bot reacts to, plus pushes and a re-run."""
    dev, mgr, qa = emulator.person("dev"), emulator.person("mgr"), emulator.person("qa")
    dev.propose(
        REPO, {"flags/checkout.yaml": "rollout: 25\n"}, branch="bump", title="Bump", body=None
    )
    dev.edit_pr(REPO, 1, title="Bump checkout", body="to 25 %")
    dev.convert_to_draft(REPO, 1)
    dev.ready_for_review(REPO, 1)
    review = qa.request_changes(REPO, 1, "not yet")
    mgr.dismiss(REPO, 1, review["id"], "outdated")
    dev.commit_file(REPO, "flags/checkout.yaml", "rollout: 30\n", branch="bump")
    dev.close_pr(REPO, 1)
    dev.reopen_pr(REPO, 1)
    mgr.approve(REPO, 1, "ok")
    run = emulator.as_app().call(
        "POST",
        f"/repos/{REPO}/check-runs",
        {"name": "flagbot", "head_sha": emulator.repo(REPO).pulls[1].head_sha},
    )
    dev.rerequest_check(REPO, run["id"])
    mgr.merge(REPO, 1, method="squash")


def hooked_emulator(url: str, *, app_hook: bool = False) -> Emulator:
    seed = seed_for()
    if app_hook:
        seed["apps"][0]["webhook"] = {"url": url, "secret": SECRET}
    else:
        seed["webhooks"] = [{"url": url, "secret": SECRET}]
    return Emulator.from_seed(seed)


async def test_deliveries_are_signed_ordered_and_schema_valid() -> None:
    async with WebhookSink() as sink:
        emulator = hooked_emulator(sink.url)
        async with emulator.serve():
            play_story(emulator)
            await emulator.webhooks.drain()
    expected = [
        ("push", None),  # branch created
        ("push", None),  # commit on it
        ("pull_request", "opened"),
        ("pull_request", "edited"),
        ("pull_request", "converted_to_draft"),
        ("pull_request", "ready_for_review"),
        ("pull_request_review", "submitted"),
        ("pull_request_review", "dismissed"),
        ("push", None),
        ("pull_request", "synchronize"),
        ("pull_request", "closed"),
        ("pull_request", "reopened"),
        ("pull_request_review", "submitted"),
        ("check_run", "rerequested"),
        ("push", None),  # the merge moves main
        ("pull_request", "closed"),
    ]
    assert sink.events() == expected
    assert [h["X-GitHub-Delivery"] for h, _, _ in sink.received] == [
        d.guid for d in emulator.webhooks.deliveries
    ]
    for headers, body, payload in sink.received:
        event = sansio.Event.from_http(
            {k.lower(): v for k, v in headers.items()}, body, secret=SECRET
        )
        assert event.data == payload
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["X-Hub-Signature"].startswith("sha1=")
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
        assert "installation" not in payload
    schemas = webhooks()
    if schemas is None:
        pytest.skip("vendored octokit schemas not found")
    checked = 0
    for headers, _, payload in sink.received:
        event = headers["X-GitHub-Event"]
        if event in ("pull_request", "pull_request_review"):
            assert schemas.check(event, payload) == []
            checked += 1
    assert checked == 11
    edited = sink.received[3][2]
    assert edited["changes"] == {"title": {"from": "Bump"}, "body": {"from": ""}}
    sync = sink.received[9][2]
    assert sync["before"] != sync["after"] == sync["pull_request"]["head"]["sha"]
    assert sink.received[6][2]["review"]["state"] == "changes_requested"
    assert sink.received[-1][2]["pull_request"]["merged"] is True


def _keys(example: object, ours: object, path: str = "") -> list[str]:
    """Keys of `ours` that the real example does not have (recursively, first list items)."""
    problems = []
    if isinstance(example, dict) and isinstance(ours, dict):
        for k, v in ours.items():
            if k not in example:
                problems.append(f"{path}.{k}")
            else:
                problems += _keys(example[k], v, f"{path}.{k}")
    elif isinstance(example, list) and isinstance(ours, list) and example and ours:
        problems += _keys(example[0], ours[0], path + "[]")
    return problems


async def test_push_and_check_run_payloads_match_real_examples() -> None:
    async with WebhookSink() as sink:
        emulator = hooked_emulator(sink.url, app_hook=True)
        async with emulator.serve():
            play_story(emulator)
            await emulator.webhooks.drain()
    by_event = {}
    for headers, _, payload in sink.received:
        if payload.get("commits") != []:  # skip the branch-creating push (it has no commits)
            by_event.setdefault(headers["X-GitHub-Event"], payload)
        assert payload["installation"]["id"] == 2002  # App deliveries carry the installation
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == "integration"
        assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(APP_ID)
    schemas = webhooks()
    if schemas is None:
        pytest.skip("vendored octokit schemas not found")
    push_example = json.loads(
        vendor_path("octokit-webhooks", "push", "with-installation.payload.json").read_text()
    )
    commit_example = json.loads(
        vendor_path("octokit-webhooks", "push", "with-new-branch.payload.json").read_text()
    )
    push, check = by_event["push"], by_event["check_run"]
    for payload in (push, check):
        for key, schema in (
            ("repository", "common/repository.schema.json"),
            ("sender", "common/user.schema.json"),
            ("organization", "common/organization.schema.json"),
            ("installation", "common/installation-lite.schema.json"),
        ):
            assert schemas.schema_problems(schema, payload[key], key, "payload") == [], key
    assert set(push) == set(push_example) | {"organization"}
    assert push["repository"]["created_at"] == int(
        push["repository"]["created_at"]
    )  # unix time in push
    envelope = ("repository", "sender", "organization", "installation")
    assert _keys(commit_example, {k: v for k, v in push.items() if k not in envelope}) == []
    assert set(push["head_commit"]) == set(commit_example["head_commit"])
    assert set(push["commits"][0]) == set(commit_example["commits"][0])
    assert set(push["head_commit"]["author"]) == set(commit_example["head_commit"]["author"])
    examples = [
        json.loads(vendor_path("octokit-webhooks", "check_run", name).read_text())
        for name in ("rerequested.with-organization.payload.json", "completed.payload.json")
    ]
    assert set(check) == set(examples[0])
    assert set(examples[0]["check_run"]) <= set(check["check_run"]) <= set(examples[1]["check_run"])
    assert set(examples[0]["check_run"]["check_suite"]) <= set(check["check_run"]["check_suite"])
    assert check["check_run"]["app"]["id"] == APP_ID


async def test_deliveries_are_kept_listed_and_redelivered() -> None:
    async with WebhookSink() as sink:
        emulator = hooked_emulator(sink.url, app_hook=True)
        async with emulator.serve() as server, aiohttp.ClientSession() as http:
            emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
            await emulator.webhooks.drain()
            headers = {"Authorization": f"Bearer {emulator.app_jwt(APP_ID)}"}
            async with http.get(
                f"{server.url}/app/hook/deliveries?per_page=2", headers=headers
            ) as r:
                page = await r.json()
                assert 'rel="next"' in r.headers["Link"]
            # newest first: the push also asked the App for checks (check_suite requested)
            assert [d["event"] for d in page] == ["pull_request", "check_suite"]
            opened = page[0]
            async with http.get(
                f"{server.url}/app/hook/deliveries/{opened['id']}", headers=headers
            ) as r:
                record = await r.json()
            assert record["request"]["payload"]["action"] == "opened"
            assert record["request"]["headers"]["X-GitHub-Event"] == "pull_request"
            assert (
                record["status_code"] == 202
                and record["status"] == "OK"
                and record["response"]["payload"] == "ok"
            )
            async with http.post(
                f"{server.url}/app/hook/deliveries/{opened['id']}/attempts", headers=headers
            ) as r:
                assert r.status == 202
            await emulator.webhooks.drain()
            async with http.get(
                f"{server.url}/app/hook/deliveries?redelivery=true", headers=headers
            ) as r:
                again = await r.json()
            async with http.get(
                f"{server.url}/app/hook/deliveries", headers={"Authorization": "token dev-token"}
            ) as r:
                assert r.status == 401
    assert [(d["guid"], d["redelivery"]) for d in again] == [(opened["guid"], True)]
    bodies = [b for h, b, _ in sink.received if h["X-GitHub-Delivery"] == opened["guid"]]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # same GUID, same payload, re-signed
    assert sink.received[-1][0]["X-GitHub-Delivery"] == opened["guid"]


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"


async def test_a_dead_receiver_delays_nothing_else(github: Server, emulator: Emulator) -> None:
    async with WebhookSink() as sink:
        emulator.add_webhook(_dead_url(), SECRET)
        emulator.add_webhook(sink.url, SECRET)
        emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
        await emulator.webhooks.drain()
    failed = [d for d in emulator.webhooks.deliveries if d.hook_id == 1]
    assert failed and all(
        d.attempted and d.status_code == 0 and d.status.startswith("failed to connect")
        for d in failed
    )
    assert sink.events() == [("push", None), ("push", None), ("pull_request", "opened")]


async def test_receiver_errors_are_recorded(github: Server, emulator: Emulator) -> None:
    async with WebhookSink(status=500) as sink:
        emulator.add_webhook(sink.url, None)
        emulator.person("dev").create_branch(REPO, "x")
        await emulator.webhooks.drain()
    (delivery,) = emulator.webhooks.deliveries
    assert (delivery.status_code, delivery.status) == (500, "Invalid HTTP Response: 500")
    assert "X-Hub-Signature-256" not in delivery.request_headers  # no secret, no signature


def test_drain_from_a_thread(emulator: Emulator, github_url: str) -> None:
    import asyncio
    import threading

    received: list[bytes] = []
    ready = threading.Event()

    async def receiver(stop: asyncio.Event, box: dict) -> None:
        async with WebhookSink() as sink:
            box["url"] = sink.url
            box["sink"] = sink
            ready.set()
            await stop.wait()
            received.extend(b for _, b, _ in sink.received)

    loop = asyncio.new_event_loop()
    stop_box: dict = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        stop_box["stop"] = asyncio.Event()
        loop.run_until_complete(receiver(stop_box["stop"], stop_box))

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait()
    emulator.add_webhook(stop_box["url"], SECRET)
    emulator.person("dev").create_branch(REPO, "t")
    emulator.webhooks.drain_blocking()
    loop.call_soon_threadsafe(stop_box["stop"].set)
    thread.join()
    assert len(received) == 1 and json.loads(received[0])["ref"] == "refs/heads/t"


async def test_check_suites_requested_on_push_completed_and_rerequested_for_the_app() -> None:
    async with WebhookSink() as sink:
        emulator = hooked_emulator(sink.url, app_hook=True)
        async with emulator.serve():
            emulator.person("dev").propose(REPO, {"a.txt": "a"}, branch="a", title="A")
            head = emulator.repo(REPO).pulls[1].head_sha
            app = emulator.as_app()
            run = app.call("POST", f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": head})
            app.call(
                "PATCH",
                f"/repos/{REPO}/check-runs/{run['id']}",
                {"conclusion": "success", "output": {"title": "ok", "summary": "ok"}},
            )
            suite = run["check_suite"]["id"]
            emulator.person("dev").call("POST", f"/repos/{REPO}/check-suites/{suite}/rerequest")
            await emulator.webhooks.drain()
    suites = [(p["action"], p["check_suite"]) for h, _, p in sink.received
              if h["X-GitHub-Event"] == "check_suite"]  # fmt: skip
    assert [a for a, _ in suites] == ["requested", "requested", "completed", "rerequested"]
    # one suite per pushed head (the branch, then its commit); the run joined the head's
    assert suites[1][1]["head_sha"] == head and suites[1][1]["id"] == suite
    assert suites[2][1]["conclusion"] == "success" and suites[3][1]["id"] == suite
    assert all(s["app"]["id"] == APP_ID for _, s in suites)
    schemas = webhooks()
    if schemas is None:
        pytest.skip("vendored octokit examples not found")
    for h, _, p in sink.received:
        if h["X-GitHub-Event"] == "check_suite":
            assert schemas.check("check_suite", p) == []

"""`flagbot replay` as a person runs it: a failed delivery exported from (emulated) GitHub and
sent to a running bot; a real payload replayed in process; refusals with what to do."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.cli import main
from bot.emulator.seeds import APP_ID, app_private_key
from bot.sandbox import SECRET
from tests.conftest import vendor_path
from tests.service.conftest import NEW_FLAG, ROOT, harness  # noqa: F401

OPENED = ("octokit-webhooks", "pull_request", "opened.payload.json")
DEAD = "http://127.0.0.1:9/webhook"  # the discard port: nothing listens there


def exported(h, tmp_path, event: str, action: str):
    """What a person downloads from the App's "Advanced" tab: the delivery's JSON, as
    `GET /app/hook/deliveries/{id}` returns it (App JWT)."""
    jwt = h.emulator.app_jwt(APP_ID)
    summaries = h.emulator.request("GET", "/app/hook/deliveries", token=jwt).body
    [summary] = [s for s in summaries if (s["event"], s["action"]) == (event, action)]
    record = h.emulator.request("GET", f"/app/hook/deliveries/{summary['id']}", token=jwt).body
    path = tmp_path / f"{event}.{action}.json"
    path.write_text(json.dumps(record, indent=2))
    return path, record


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, ["replay", *argv])


async def test_a_failed_delivery_exported_from_github_is_replayed_to_the_bot(
    harness,  # noqa: F811
    tmp_path,
    capsys,
):
    h = harness
    with h.emulator.lock:  # GitHub cannot reach the bot: the delivery fails
        [hook] = [x for x in h.emulator.state.hooks.values() if x.app_id == APP_ID]
        hook.url = DEAD
    n = h.open("dev", {NEW_FLAG: (ROOT / NEW_FLAG).read_text()}, branch="b", title="New flag")
    await h.emulator.webhooks.drain()
    path, record = exported(h, tmp_path, "pull_request", "opened")
    assert record["status"].startswith("failed to connect")
    assert "X-Hub-Signature-256" in record["request"]["headers"]  # signed with GitHub's secret

    assert await cli(str(path), "--url", h.bot_url, "--secret", SECRET) == 0
    out = capsys.readouterr().out
    guid = record["guid"]
    assert f"{path}: pull_request.opened, delivery {guid} -> 202" in out
    assert f'"accepted": "{guid}"' in out  # the original delivery id, kept
    await h.settle()
    assert h.title(n) == "Waiting for manager approval"


async def test_refusals_and_an_unreachable_bot_exit_1(harness, tmp_path, capsys):  # noqa: F811
    h = harness
    path = tmp_path / "ping.json"
    path.write_text(json.dumps({"event": "ping", "payload": {"zen": "Design for failure."}}))
    assert await cli(str(path), str(path), "--url", h.bot_url, "--secret", "wrong") == 1
    captured = capsys.readouterr()
    assert captured.out.count("-> 401") == 2
    assert "signature does not match the webhook secret" in captured.out
    assert "2 of 2 refused" in captured.err

    assert await cli(str(path), str(path), "--url", DEAD, "--secret", SECRET) == 1
    captured = capsys.readouterr()
    assert captured.out.count(f"cannot reach the bot at {DEAD}") == 1  # stops at the first
    assert "stopped" in captured.err


async def test_the_secret_may_come_from_the_environment(harness, tmp_path, capsys, monkeypatch):  # noqa: F811
    path = tmp_path / "ping.json"
    path.write_text(json.dumps({"headers": {"X-GitHub-Event": "ping"}, "payload": {}}))
    monkeypatch.setenv("FLAGBOT_WEBHOOK_SECRET", SECRET)
    assert await cli(str(path), "--url", harness.bot_url) == 0
    assert "(made up: the file had none) -> 202" in capsys.readouterr().out


def test_in_process_a_real_payload_is_retargeted_and_what_the_bot_did_is_shown(
    capsys, monkeypatch, tmp_path
):
    path = vendor_path(*OPENED)  # a bare payload, as octokit/webhooks keeps them
    monkeypatch.chdir(tmp_path)  # no .github/flagbot.yml here: flagbot's own checkout is used
    assert main(["replay", str(path), "--event", "pull_request"]) == 0
    out = capsys.readouterr().out
    assert f"acme/flags holding {ROOT}'s .github/ and flags/" in out
    for line in (
        "rewritten: repository Codertocat/Hello-World is not in the emulated GitHub: "
        "replayed as acme/flags",
        "rewritten: installation 1 is not the App's installation on acme/flags: replayed as 2002",
        "rewritten: sender Codertocat is not a user of the emulated GitHub: replayed as dev",
        "log: WARNING ignored acme/flags#2: GitHub has no such pull request (404)",
        "GET /repos/{owner}/{repo}/pulls/{pull_number} 404",
    ):
        assert line in out


OPENED_PAYLOAD = {
    "action": "opened",
    "number": 2,
    "pull_request": {"number": 2},
    "repository": {"full_name": "someone/else"},
    "installation": {"id": 1},
    "sender": {"login": "someone"},
}


def test_in_process_with_a_seed_file(capsys, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(app_private_key())
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "users: [{login: ana, token: ana-token}]\n"
        "apps:\n"
        "  - id: 7\n"
        "    slug: bot\n"
        "    owner: ana\n"
        "    private_key_path: app.pem\n"
        "    installations: [{id: 8, account: ana}]\n"
        "repos: [{full_name: ana/flags, files: {README.md: hi}}]\n"
    )
    opened = tmp_path / "opened.json"
    opened.write_text(json.dumps({"event": "pull_request", "payload": OPENED_PAYLOAD}))
    assert main(["replay", str(opened), "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    assert f"seed {seed}" in out
    assert "replayed as ana/flags" in out
    assert "installation 1 is not the App's installation on ana/flags: replayed as 8" in out
    assert "log: WARNING ignored ana/flags#2: GitHub has no such pull request (404)" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--url", "http://x/webhook", "--seed", "s.yaml"], "--seed is for replaying in process"),
        (["--url", "localhost:8080"], "--url must be an http:// or https:// URL"),
        (["--url", "http://127.0.0.1:9/webhook"], "pass --secret or set FLAGBOT_WEBHOOK_SECRET"),
        (["--delay", "-1"], "--delay must not be negative"),
        (["--seed", "missing.yaml"], "missing.yaml: cannot read the seed file"),
    ],
)
def test_usage_errors_exit_2(argv, says, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAGBOT_WEBHOOK_SECRET", raising=False)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"event": "ping", "payload": {}}))
    assert main(["replay", str(ok), *argv]) == 2
    assert says in capsys.readouterr().err


def test_a_seed_without_an_app_key_says_what_to_add(tmp_path, capsys):
    seed = tmp_path / "seed.yaml"
    seed.write_text("users: [{login: ana}]\nrepos: [{full_name: ana/flags}]\n")
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"event": "ping", "payload": {}}))
    assert main(["replay", str(ok), "--seed", str(seed)]) == 2
    assert "needs a GitHub App with a private key" in capsys.readouterr().err


def test_unusable_files_are_reported_with_line_and_column_and_nothing_is_sent(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"event": "ping",\n "payload": {]\n}')
    bare = tmp_path / "bare.json"
    bare.write_text('{"zen": "no event"}')
    assert main(["replay", str(bad), str(bare), "--url", DEAD, "--secret", "x"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:14: not valid JSON" in err
    assert f"{bare}:1:1: not a delivery" in err and "pass --event NAME" in err
    assert "nothing was sent" in err

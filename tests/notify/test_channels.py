"""Notices delivered to real local receivers: Slack-style HTTP, generic webhook, SMTP."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

from bot.notify.channels import notify_all
from bot.notify.notice import change_applied, rollout_complete
from bot.policy.changes import ChangeRequest, FieldChange
from bot.policy.model import Channel
from tests.receivers import HttpReceiver, smtp_server

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CHANGE = ChangeRequest(
    "new_checkout_flow",
    "production",
    "rollout",
    "flags/new_checkout_flow.yaml",
    (FieldChange("rollout.percentage", 5, 25),),
    "dev",
    "Ramp the new checkout",
    True,
)


def notice():
    return change_applied(
        [CHANGE],
        repository="acme/flags",
        pull_number=7,
        pull_url="http://gh/acme/flags/pull/7",
        approvers={"manager": "mgr", "qa": "qa"},
        merge_sha="f" * 40,
        applied_at=AT,
    )


def test_change_notice_carries_the_seed_fields():
    [record] = notice().records
    assert record["flag_key"] == "new_checkout_flow"
    assert record["change_type"] == "rollout"
    assert record["requested_by"] == "dev"
    assert record["environment"] == "production"
    assert record["reason"] == "Ramp the new checkout"
    assert (record["approver"], record["validator"]) == ("mgr", "qa")
    assert record["applied"] is True
    assert record["changes"] == [{"field": "rollout.percentage", "before": 5, "after": 25}]


async def test_slack_webhook_and_email_all_receive(aiohttp_server):
    slack, hook = HttpReceiver(), HttpReceiver()
    slack_srv = await aiohttp_server(slack.app())
    hook_srv = await aiohttp_server(hook.app())
    channels = [
        Channel("slack", "slack", url_env="SLACK_URL"),
        Channel("webhook", "audit", url_env="HOOK_URL", options={"secret_env": "HOOK_SECRET"}),
        Channel("email", "email", url_env="SMTP_URL", to=("team@acme.test",), sender="fb@acme"),
    ]
    with smtp_server() as (box, smtp_url):
        env = {
            "SLACK_URL": str(slack_srv.make_url("/services/T/B/X")),
            "HOOK_URL": str(hook_srv.make_url("/hook")),
            "HOOK_SECRET": "k",
            "SMTP_URL": smtp_url,
        }
        results = await notify_all(channels, notice(), env)
    assert [r.ok for r in results] == [True, True, True], results
    assert "new_checkout_flow" in slack.posts[0]["json"]["text"]
    body = hook.posts[0]["json"]
    assert body["event"] == "flag_change_applied" and body["records"][0]["validator"] == "qa"
    raw = json.dumps(body, separators=(",", ":")).encode()
    expected = "sha256=" + hmac.new(b"k", raw, hashlib.sha256).hexdigest()
    assert hook.headers[0]["X-Flagbot-Signature-256"] == expected
    [mail] = box.messages
    assert mail["To"] == "team@acme.test" and "new_checkout_flow" in mail["Subject"]


async def test_failing_channel_is_reported_not_raised(aiohttp_server, monkeypatch):
    monkeypatch.setattr("bot.notify.channels.BACKOFF", 0.0)
    down = HttpReceiver(status=500)
    srv = await aiohttp_server(down.app())
    channels = [
        Channel("slack", "slack", url_env="SLACK_URL"),
        Channel("webhook", "unset", url_env="NOT_SET"),
    ]
    results = await notify_all(channels, notice(), {"SLACK_URL": str(srv.make_url("/x"))})
    assert [r.ok for r in results] == [False, False]
    assert "HTTP 500" in results[0].detail and "/x" not in results[0].detail
    assert "NOT_SET is not set" in results[1].detail
    assert len(down.posts) == 3  # retried, then given up


def test_rollout_complete_notice():
    n = rollout_complete(
        repository="acme/flags",
        key="new_checkout_flow",
        environment="production",
        stages=[5, 25, 50, 75, 100],
        commit_sha="a" * 40,
        completed_at=AT,
    )
    assert n.event == "rollout_complete"
    assert "5% → 25% → 50% → 75% → 100%" in n.text
    assert n.records[0]["percentage"] == 100

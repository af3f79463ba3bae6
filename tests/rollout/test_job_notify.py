"""Reaching the last stage is announced once, over flagbot.yml's channels, to real receivers.

The jobs run in threads (the job is synchronous, as in Actions) while this test's event loop
serves the Slack and webhook receivers; e-mail goes to a real SMTP server.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from tests.receivers import HttpReceiver, smtp_server
from tests.rollout.harness import ROOT, harness
from tests.rollout.test_job_github import FLOW_PATH, flow_at

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = (ROOT / ".github/flagbot.yml").read_text()  # slack, e-mail and webhook channels


async def test_completion_is_announced_once_by_the_job_that_made_the_final_bump(
    tmp_path, aiohttp_server
):
    slack, audit = HttpReceiver(), HttpReceiver()
    slack_url = (await aiohttp_server(slack.app())).make_url("/services/T0/B0/x")
    audit_url = (await aiohttp_server(audit.app())).make_url("/audit")
    files = {FLOW_PATH: flow_at(50, T0), ".github/flagbot.yml": POLICY}
    with smtp_server() as (mailbox, smtp_url), harness(files, tmp_path, clock=T0) as h:
        env = {
            "FLAGBOT_SLACK_WEBHOOK_URL": str(slack_url),
            "FLAGBOT_AUDIT_WEBHOOK_URL": str(audit_url),
            "FLAGBOT_SMTP_URL": smtp_url,
        }

        async def together(now: datetime, jobs: int = 2):
            checkout = h.checkout()
            barrier = threading.Barrier(jobs)

            def one(i: int):
                barrier.wait()
                return h.run(now, checkout=checkout, job_id=f"job-{i}", env=env)

            return await asyncio.gather(*(asyncio.to_thread(one, i) for i in range(jobs)))

        # 50 → 75: not the last stage, nobody hears about it.
        reports = await together(T0 + HOUR)
        assert [r.outcome for rep in reports for r in rep.results].count("bumped") == 1
        assert slack.posts == audit.posts == mailbox.messages == []

        # 75 → 100: two jobs race for the final bump; only the winner announces it.
        final = T0 + 2 * HOUR
        reports = await together(final)
        assert all(r.ok for r in reports), [(r.results, r.deliveries) for r in reports]
        [winner] = [rep for rep in reports if rep.bumped()]
        assert sorted(d.channel for d in winner.deliveries) == [
            "audit-log",
            "releases-slack",
            "stakeholders",
        ]
        assert [rep.deliveries for rep in reports if rep is not winner] == [[]]
        commit = h.commit()
        assert commit.title == "rollout: new_checkout_flow 75% → 100% (full)"

        # Later runs find the rollout complete: nothing more is sent.
        for later in (final + HOUR, final + 24 * HOUR):
            [report] = await together(later, jobs=1)
            assert report.results == [] and report.deliveries == []

    [post] = slack.posts
    assert "rollout complete: new_checkout_flow (production) at 100%" in post["json"]["text"]
    [post] = audit.posts
    body = post["json"]
    assert body["event"] == "rollout_complete" and body["repository"] == "acme/flags"
    [record] = body["records"]
    assert record["flag_key"] == "new_checkout_flow" and record["commit"] == commit.sha
    assert record["stages"] == [5, 25, 50, 75, 100]
    assert record["completed_at"] == final.isoformat()
    [mail] = mailbox.messages
    assert "new_checkout_flow" in mail["Subject"]
    assert mail["To"] == "product@acme.example, support-leads@acme.example"


async def test_no_announcement_when_the_policy_turns_it_off(tmp_path, aiohttp_server):
    slack = HttpReceiver()
    slack_url = (await aiohttp_server(slack.app())).make_url("/services/T0/B0/x")
    policy = POLICY.replace("notify_on_complete: true", "notify_on_complete: false")
    assert policy != POLICY
    files = {FLOW_PATH: flow_at(75, T0), ".github/flagbot.yml": policy}
    with harness(files, tmp_path, clock=T0) as h:
        env = {"FLAGBOT_SLACK_WEBHOOK_URL": str(slack_url)}
        report = await asyncio.to_thread(h.run, T0 + HOUR, env=env)
        assert [r.outcome for r in report.results] == ["bumped"]
        assert report.deliveries == [] and slack.posts == []


async def test_a_failed_announcement_fails_the_run_but_keeps_the_bump(tmp_path, aiohttp_server):
    down = HttpReceiver(status=404)
    url = (await aiohttp_server(down.app())).make_url("/gone")
    policy = (
        'roles: {manager: ["@a/m"], qa: ["@a/q"]}\nnotifications:\n  s: {type: slack, url_env: U}\n'
    )
    files = {FLOW_PATH: flow_at(75, T0), ".github/flagbot.yml": policy}
    with harness(files, tmp_path, clock=T0) as h:
        report = await asyncio.to_thread(h.run, T0 + HOUR, env={"U": str(url)})
        assert [r.outcome for r in report.results] == ["bumped"]
        [delivery] = report.deliveries
        assert not delivery.ok and "HTTP 404" in delivery.detail
        assert not report.ok
        assert b"percentage: 100" in h.file(FLOW_PATH)

"""Duplicated, concurrent, replayed and failing traffic: still exactly one merge, one
announcement, and never a merge without approvals."""

import asyncio

import aiohttp

from bot.plan.facts import ANNOUNCE, ANNOUNCED, CLAIM_LEASE, claim_ref
from bot.plan.report import COMMENT_MARKER
from tests.emulator_harness import WebhookSink
from tests.service.conftest import NEW_FLAG, REPO, ROOT, add_replica

FLAG = (ROOT / NEW_FLAG).read_text()
MERGE = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"


async def opened(h, branch="b", files=None):
    n = h.open("dev", files or {NEW_FLAG: FLAG}, branch=branch, title="Create new checkout flow")
    await h.settle()
    return n


def announcements(h, n):
    return [c for c in h.comments(n) if COMMENT_MARKER in c["body"]]


async def diverted(h, action):
    """Run `action`; the deliveries it causes go to a sink instead of the bot. Returns them."""
    before = len(h.emulator.webhooks.deliveries)
    async with WebhookSink() as aside:
        with h.emulator.lock:
            [hook] = h.emulator.state.hooks.values()
            hook.url = aside.url
        action()
        await h.emulator.webhooks.drain()
        with h.emulator.lock:
            hook.url = h.bot_url
    return h.emulator.webhooks.deliveries[before:]


async def post_copies(urls, delivery, copies):
    headers = dict(delivery.request_headers)
    async with aiohttp.ClientSession() as session:

        async def post(url):
            async with session.post(url, data=delivery.body, headers=headers) as resp:
                return resp.status

        return await asyncio.gather(*(post(urls[i % len(urls)]) for i in range(copies)))


async def test_ten_concurrent_copies_of_a_delivery_merge_once(harness, aiohttp_server):
    h = harness
    second = await add_replica(h, aiohttp_server)
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    # The QA review's delivery is held back, then ten copies reach two replicas at once.
    [review] = await diverted(h, lambda: h.person("qa").approve(REPO, n))
    statuses = await post_copies([h.bot_url, second], review, 10)
    assert statuses == [202] * 10
    await h.settle()
    assert h.pull(n)["merged"]
    merges = [c for c in h.emulator.calls.calls("PUT", MERGE.split(" ", 1)[1]) if c.status == 200]
    assert len(merges) == 1
    assert len(announcements(h, n)) == 1
    assert len(h.slack.posts) == 1


async def test_two_approvals_arriving_at_once_merge_once(harness, aiohttp_server):
    h = harness
    second = await add_replica(h, aiohttp_server)
    n = await opened(h)

    def approve_both():
        h.person("mgr").approve(REPO, n)
        h.person("qa").approve(REPO, n)

    manager, qa = await diverted(h, approve_both)
    # Each approval reaches a different replica, at the same moment.
    await asyncio.gather(post_copies([h.bot_url], manager, 1), post_copies([second], qa, 1))
    await h.settle()
    assert h.pull(n)["merged"]
    assert len(announcements(h, n)) == 1


async def test_replayed_old_deliveries_do_no_harm(harness):
    h = harness
    n = await opened(h)
    opened_delivery = next(d for d in h.emulator.webhooks.deliveries if d.action == "opened")
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]
    comments = len(h.comments(n))
    # GitHub redelivers with the same GUID; an old "opened" arriving after the merge changes
    # nothing: the bot re-reads and finds the pull request merged and announced.
    assert await post_copies([h.bot_url], opened_delivery, 3) == [202] * 3
    await h.settle()
    assert len(h.comments(n)) == comments
    assert h.check_run(n)["output"]["title"] == "Merged"


def merged_unheard(h, n: int) -> None:
    """Approved and merged by the App while the webhooks were off: flagbot heard none of it
    (a process that died between the merge and its announcement)."""
    with h.emulator.lock:
        for hook in h.emulator.state.hooks.values():
            hook.active = False
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    h.emulator.as_app().merge(REPO, n, method="squash")
    with h.emulator.lock:
        for hook in h.emulator.state.hooks.values():
            hook.active = True


async def test_a_merge_whose_announcement_was_lost_is_announced_once(harness):
    # flagbot merged, then died before announcing: the next event recovers (after the
    # grace period in which the merging replica would still be announcing).
    h = harness
    n = await opened(h)
    merged_unheard(h, n)
    h.person("dev").comment(REPO, n, "thanks!")  # any later event
    h.person("dev").edit_pr(REPO, n, body="shipped")
    await h.settle()
    assert len(announcements(h, n)) == 1
    assert len(h.slack.posts) == 1


async def test_under_twenty_percent_failures_approved_merge_and_unapproved_do_not(harness):
    h = harness
    bot = "flagbot[bot]"
    mark = len(h.emulator.calls.calls())
    # About one call in five that flagbot makes fails: 5xx, 429, or a secondary rate limit.
    h.emulator.faults.fail("*", 502, times=None, rate=0.08, login=bot)
    h.emulator.faults.too_many_requests("*", retry_after=0, times=None, rate=0.07, login=bot)
    h.emulator.faults.secondary_rate_limit("*", retry_after=0, times=None, rate=0.07, login=bot)
    approved = [
        await opened(h, branch=f"ok-{i}", files={f"flags/f{i}.yaml": FLAG}) for i in range(6)
    ]
    pending = await opened(h, branch="pending", files={"flags/p.yaml": FLAG})
    untouched = await opened(h, branch="untouched", files={"flags/u.yaml": FLAG})
    for n in approved:
        h.person("mgr").approve(REPO, n)
        h.person("qa").approve(REPO, n)
    h.person("mgr").approve(REPO, pending)  # QA never validates this one
    await h.settle()
    bot_calls = [c for c in h.emulator.calls.calls()[mark:] if c.login == bot]
    faulted = sum(1 for c in bot_calls if c.fault)
    h.emulator.faults.clear()
    for n in approved:
        assert h.pull(n)["merged"], f"approved #{n} was not merged"
        assert len(announcements(h, n)) == 1
    assert not h.pull(pending)["merged"] and not h.pull(untouched)["merged"]
    assert faulted >= 0.1 * len(bot_calls) and faulted >= 8, (faulted, len(bot_calls))


async def test_github_failing_beyond_the_clients_retries_is_retried_later(harness):
    # Every try of the client fails for a while: the reconcile itself is tried again later,
    # since GitHub will not send another webhook for this pull request.
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    attempts = h.config.retry.attempts
    h.emulator.faults.fail(
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", 502, times=attempts * 2
    )
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]
    assert len(announcements(h, n)) == 1


async def test_a_lost_merge_answer_is_recognised_and_announced_once(harness):
    # GitHub merged, but its answer never arrived: the client's retry gets 405. flagbot sees
    # the pull request merged by itself at the sha it decided on, and announces it.
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    h.emulator.faults.before_call(
        MERGE, lambda: h.emulator.as_app().merge(REPO, n, method="squash")
    )
    h.person("qa").approve(REPO, n)
    await h.settle()
    merges = [c for c in h.emulator.calls.calls() if c.route == MERGE.split(" ", 1)[1]]
    assert [c.status for c in merges] == [405]
    assert h.pull(n)["merged"]
    assert len(announcements(h, n)) == 1 and len(h.slack.posts) == 1
    assert (h.check_run(n)["output"]["title"], h.check_run(n)["conclusion"]) == (
        "Merged",
        "success",
    )


async def test_base_branch_modified_is_decided_again_and_merged(harness):
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    h.emulator.faults.fail(
        MERGE, 405, times=1, message="Base branch was modified. Review and try the merge again."
    )
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]
    assert len(announcements(h, n)) == 1


async def test_an_unfinished_claim_is_its_claimants_until_its_lease_runs_out(harness):
    # Another replica merged and claimed the announcement (the ref exists, still on the head):
    # while it may still be announcing, sweeps leave it alone; once the lease has run out by
    # GitHub's clock, a sweep finishes it, once.
    h = harness
    n = await opened(h)
    with h.emulator.lock:
        for hook in h.emulator.state.hooks.values():
            hook.active = False
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    app = h.emulator.as_app()
    app.merge(REPO, n, method="squash")
    head = h.pull(n)["head"]["sha"]
    app.call("POST", f"/repos/{REPO}/git/refs", {"ref": claim_ref(n, head, ANNOUNCE), "sha": head})
    with h.emulator.lock:
        for hook in h.emulator.state.hooks.values():
            hook.active = True
    report = await h.service.sweep()
    await h.settle()
    assert report.unfinished == 1 and announcements(h, n) == []
    h.emulator.clock.advance(CLAIM_LEASE)
    await h.service.sweep()
    await h.settle()
    await h.service.sweep()
    await h.settle()
    assert len(announcements(h, n)) == 1 and len(h.slack.posts) == 1


async def test_a_merge_never_claimed_is_found_by_the_sweep_and_announced_once(harness):
    # The merging process died between GitHub's merge and its claim, and the merge's webhooks
    # were lost: no claim exists. A sweep finds the merge among recently closed pull requests,
    # claims it and announces it once; later sweeps leave it alone.
    h = harness
    n = await opened(h)
    merged_unheard(h, n)
    report = await h.service.sweep()
    await h.settle()
    assert report.unfinished == 1
    assert len(announcements(h, n)) == 1 and len(h.slack.posts) == 1
    assert h.check_run(n)["external_id"] == ANNOUNCED
    await h.service.sweep()
    await h.settle()
    assert len(announcements(h, n)) == 1 and len(h.slack.posts) == 1

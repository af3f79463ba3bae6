"""Defects found in review of the service's "nothing lost" paths, each proven against the
emulator over real HTTP (or directly, where the code is pure)."""

from bot.plan.facts import ANNOUNCE, ANNOUNCED, claim_ref
from bot.plan.report import COMMENT_MARKER
from tests.service.conftest import NEW_FLAG, REPO, ROOT, Harness

FLAG = (ROOT / NEW_FLAG).read_text()
REVIEWS = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"


async def test_a_rerequested_check_whose_reconcile_failed_still_gets_a_new_run(harness):
    # GitHub fails every try of the client's for the reconcile the re-request asked for: the
    # work queue tries the reconcile again later, and that retry still owes the new run.
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    await h.settle()
    first = h.check_run(n)
    fault = h.emulator.faults.fail(REVIEWS, 502, times=h.config.retry.attempts)
    h.person("dev").rerequest_check(REPO, first["id"])
    await h.settle()
    assert fault.fired == h.config.retry.attempts  # the first reconcile failed as a whole
    again = h.check_run(n)
    assert again["id"] != first["id"]
    assert again["output"]["title"] == "Waiting for manager approval"


def approved_unheard(h: Harness) -> int:
    """A flag pull request opened and approved while the webhooks were lost; minutes later."""
    from tests.service.test_sweep import deaf

    deaf(h, True)
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    deaf(h, False)
    h.emulator.clock.advance(5)
    return n


async def test_an_empty_repository_does_not_stop_the_sweep_of_the_others():
    # The App is installed on an organisation with a repository nobody pushed to yet (GitHub
    # has no branch to answer for it). A pull request approved while its webhooks were lost,
    # in another repository, is still found by the sweep.
    from bot.sandbox import sandbox
    from tests.service.conftest import FAST_RETRY, Backoff, seed

    world = seed()
    world["repos"].insert(0, {"full_name": "acme/aaa-empty", "default_branch": "main"})
    async with sandbox(world, retry=FAST_RETRY, sleep=Backoff()) as stack:
        h = Harness(stack, None, None, None)  # type: ignore[arg-type]
        n = approved_unheard(h)
        report = await h.service.sweep()
        await h.settle()
        assert (report.repositories, report.pulls, report.failed) == (2, 1, 1)
        assert h.pull(n)["merged"]


async def test_shutdown_logs_the_announcements_and_retries_its_drain_gave_up_on(caplog):
    # When the drain times out, an announcement in flight and a reconcile waiting to be
    # retried are unfinished: the shutdown log names both pull requests.
    import asyncio
    import logging

    from bot.service.app import Service
    from bot.service.config import ServiceConfig
    from bot.service.events import Work
    from bot.service.reconcile import Outcome

    stuck = asyncio.Event()

    async def backoff(seconds: float) -> None:  # the retry's wait outlasts the drain
        await stuck.wait()

    config = ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t")
    svc = Service(config, sleep=backoff)

    async def reconcile(repo, number, installation_id, *, fresh, recover):
        raise ConnectionError("GitHub is down")

    async def announcing() -> Outcome:
        await stuck.wait()
        return Outcome(9, None)

    svc.work.reconcile = reconcile
    await svc.start()
    try:
        svc.work.submit(Work("acme/flags", 7, None))
        svc.announcements.hand(("acme/flags", 9), announcing())
        for _ in range(5):
            await asyncio.sleep(0)
        assert svc.work.unfinished() == [("acme/flags", 7)]  # waiting to be retried
        with caplog.at_level(logging.WARNING, logger="flagbot.service"):
            left = await svc.shutdown(timeout=0.001)
        assert left == [("acme/flags", 7), ("acme/flags", 9)]
        assert "shutdown: acme/flags#9 not finished" in caplog.text
    finally:
        stuck.set()
        await svc.stop()


async def test_a_suspended_installation_does_not_stop_the_sweep_of_the_others():
    # The App is installed on two organisations; one suspended it (GitHub refuses its
    # installation token). The other's pull request, approved while its webhooks were lost, is
    # still found by the sweep.
    from bot.sandbox import sandbox
    from tests.service.conftest import FAST_RETRY, Backoff, seed

    world = seed()
    world["orgs"].append({"login": "other", "members": []})
    world["repos"].append({"full_name": "other/flags", "default_branch": "main"})
    world["apps"][0]["installations"].insert(0, {"id": 3003, "account": "other"})
    async with sandbox(world, retry=FAST_RETRY, sleep=Backoff()) as stack:
        h = Harness(stack, None, None, None)  # type: ignore[arg-type]
        n = approved_unheard(h)
        suspended = h.emulator.faults.fail(
            "POST /app/installations/{installation_id}/access_tokens",
            403,
            times=1,  # the first token asked for: the first installation listed, "other"
            message="This installation has been suspended",
        )
        report = await h.service.sweep()
        await h.settle()
        assert suspended.fired == 1
        assert report.pulls == 1
        assert h.pull(n)["merged"]


async def test_a_repository_github_fails_to_list_does_not_stop_a_team_change_re_deciding_others():
    # A team change re-decides the open pull requests of every repository of the
    # installation; GitHub failing to list the first repository's leaves the others' still to
    # be re-decided.
    from bot.sandbox import sandbox
    from tests.service.conftest import FAST_RETRY, Backoff, seed

    world = seed()
    world["repos"].insert(0, {"full_name": "acme/aaa", "default_branch": "main"})
    async with sandbox(world, retry=FAST_RETRY, sleep=Backoff()) as stack:
        h = Harness(stack, None, None, None)  # type: ignore[arg-type]
        with h.emulator.lock:  # admin runs the organization
            h.emulator.state.org("acme").owners.add("admin")
        n = h.open("dev", {NEW_FLAG: FLAG}, branch="leave", title="Create new checkout flow")
        await h.settle()
        h.person("mgr").approve(REPO, n)
        await h.settle()
        assert h.title(n) == "Waiting for QA validation"
        failing = h.emulator.faults.fail(
            "GET /repos/{owner}/{repo}/pulls", 502, times=h.config.retry.attempts
        )  # the first listing, acme/aaa's, fails as a whole
        h.person("admin").call("DELETE", "/orgs/acme/teams/eng-managers/memberships/mgr")
        await h.settle()
        assert failing.fired == h.config.retry.attempts
        assert h.title(n) == "Waiting for manager approval"


async def test_a_signed_payload_nested_too_deep_is_a_bad_delivery_not_an_error(caplog):
    # The decoder gives up on very deep nesting with RecursionError: acknowledged, the
    # delivery is logged in one line like any other unreadable one, and the rest routed.
    import logging

    from bot.service.app import Service
    from bot.service.config import ServiceConfig
    from bot.service.intake import Accepted

    svc = Service(ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t"))
    reconciled: list = []

    async def reconcile(key):
        reconciled.append(key)

    svc.queue._work = reconcile
    await svc.start()
    try:
        deep = b'{"sender": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        svc.accept(Accepted("pull_request", "deep", deep, "application/json"))
        good = b'{"action": "opened", "pull_request": {"number": 3}, '
        good += b'"repository": {"full_name": "acme/flags"}}'
        svc.accept(Accepted("pull_request", "good", good, "application/json"))
        with caplog.at_level(logging.WARNING, logger="flagbot.service"):
            await svc.drain()
        [bad] = [r for r in caplog.records if "deep" in r.getMessage()]
        assert bad.getMessage().startswith("bad delivery deep (pull_request): ")
        assert reconciled == [("acme/flags", 3)]
    finally:
        await svc.stop()


COMMENT = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"


async def test_an_announcement_that_failed_under_its_claim_is_finished_by_the_retry(harness):
    # GitHub fails every try of the completion comment once the claim is made: the merging
    # process still holds the claim, so the reconcile it hands the failure back to finishes
    # the announcement at once, instead of leaving it to a sweep after the claim's lease.
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    h.person("mgr").approve(REPO, n)
    await h.settle()
    fault = h.emulator.faults.fail(COMMENT, 502, times=h.config.retry.attempts)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert fault.fired == h.config.retry.attempts  # the first announcement failed
    assert h.pull(n)["merged"]
    assert len([c for c in h.comments(n) if COMMENT_MARKER in c["body"]]) == 1
    assert h.check_run(n)["external_id"] == ANNOUNCED
    claim = claim_ref(n, h.pull(n)["head"]["sha"], ANNOUNCE)
    assert h.emulator.repo(REPO).git.refs[claim] == h.pull(n)["merge_commit_sha"]  # done

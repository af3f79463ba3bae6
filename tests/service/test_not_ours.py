"""Deliveries naming what this App cannot see (a repository it is not installed on, an
installation that is gone, a pull request GitHub does not show it): one warning each, no
error, no retry; the service stays healthy. Other failures still count as failures."""

from __future__ import annotations

import logging

from bot.replay.deliveries import from_payload
from bot.replay.local import InProcess
from tests.service.conftest import NEW_FLAG, REPO, ROOT

PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"


def opened(repo: str, number: int, installation: int | None = None):
    payload = {
        "action": "opened",
        "number": number,
        "pull_request": {"number": number},
        "repository": {"full_name": repo},
    }
    if installation is not None:
        payload["installation"] = {"id": installation}
    return from_payload(payload, "pull_request", f"{repo}#{number}")


def push(repo: str):
    payload = {
        "ref": "refs/heads/main",
        "commits": [{"modified": [".github/flagbot.yml"]}],
        "repository": {"full_name": repo},
    }
    return from_payload(payload, "push", repo)


async def sent(h, delivery):
    async with InProcess(h.stack, rewrite=False) as runner:
        return await runner.send(delivery)


def messages(caplog, level):
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_a_repository_the_app_is_not_installed_on(harness, caplog):
    r = await sent(harness, opened("octo/elsewhere", 3))
    assert [(c.route, c.status) for c in r.calls] == [("/repos/{owner}/{repo}/installation", 404)]
    assert messages(caplog, logging.WARNING) == [
        "ignored octo/elsewhere#3: the App is not installed on octo/elsewhere (404)"
    ]
    assert messages(caplog, logging.ERROR) == []
    assert list(harness.service.outcomes) == []


async def test_an_installation_that_is_gone(harness, caplog):
    r = await sent(harness, opened("octo/elsewhere", 3, installation=999))
    assert [(c.route, c.status) for c in r.calls] == [
        ("/app/installations/{installation_id}/access_tokens", 404)
    ]
    assert messages(caplog, logging.WARNING) == [
        "ignored octo/elsewhere#3: the App has no installation 999 (404)"
    ]
    assert messages(caplog, logging.ERROR) == []


async def test_a_pull_request_github_does_not_show_then_a_real_one_works(harness, caplog):
    h = harness
    r = await sent(h, opened(REPO, 42))
    # The first round of reads asks for the pull request, its files and its reviews at once.
    assert (PULL, 404) in [(c.route, c.status) for c in r.calls]
    assert {c.status for c in r.calls if c.route.startswith(PULL)} == {404}
    assert messages(caplog, logging.WARNING) == [
        f"ignored {REPO}#42: GitHub has no such pull request (404)"
    ]
    n = h.open("dev", {NEW_FLAG: (ROOT / NEW_FLAG).read_text()}, branch="b", title="New flag")
    await h.settle()
    assert h.title(n) == "Waiting for manager approval"
    assert messages(caplog, logging.ERROR) == []


async def test_a_policy_push_to_a_repository_not_ours(harness, caplog):
    r = await sent(harness, push("octo/elsewhere"))
    assert len(r.calls) == 1
    assert messages(caplog, logging.WARNING) == [
        "ignored a push to octo/elsewhere:main: the App is not installed on octo/elsewhere (404)"
    ]
    assert messages(caplog, logging.ERROR) == []


async def test_github_failing_is_still_an_error_not_a_quiet_ignore(harness, caplog):
    h = harness
    n = h.open("dev", {NEW_FLAG: (ROOT / NEW_FLAG).read_text()}, branch="b", title="New flag")
    await h.settle()
    h.emulator.faults.fail(f"GET {PULL}", 502, times=None)
    h.person("dev").edit_pr(REPO, n, body="again")
    await h.settle()
    # Retried on the capped schedule, then left for the next sweep: never a quiet "ignored".
    warnings = messages(caplog, logging.WARNING)
    assert warnings and all("reconcile failed" in m for m in warnings), warnings
    assert [m for m in messages(caplog, logging.ERROR) if "left for the next sweep" in m]

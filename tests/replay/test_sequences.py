"""Sequences of real deliveries replayed to the bot and the emulated GitHub.

Each test acts on the emulated GitHub as people would (open, review, close...), sends the bot
the payload GitHub sends for that action (a vendored real one, adapted to the emulated
repository: see `tests.replay.adapt`), checks the outcome (check-run title, merged or not,
comments) and compares the REST calls the bot made with a golden transcript in
`tests/replay/golden/` (method, route template, status, 304s; no ids or times). Regenerate
the transcripts after a deliberate change, then review the diff:

    FLAGBOT_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/replay
"""

from bot.emulator.seeds import REPO
from tests.replay.golden import assert_golden

PULL = ("octokit-webhooks", "pull_request")
REVIEW = ("octokit-webhooks", "pull_request_review")
OPENED = (*PULL, "opened.payload.json")
SUBMITTED = (*REVIEW, "submitted.payload.json")
DISMISSED = (*REVIEW, "dismissed.payload.json")
TO_DRAFT = (*PULL, "converted_to_draft.with-installation.payload.json")
READY = (*PULL, "ready_for_review.with-installation.payload.json")
CLOSED = (*PULL, "closed.payload.json")
EDITED = ("webhooks-extra", "angular-github-robot", "pull_request.edited.json")

WAITING_MANAGER = "Waiting for manager approval"
WAITING_QA = "Waiting for QA validation"


def writes(replayed):
    return [c for c in replayed.calls if c.method != "GET"]


async def opened(replay):
    n = replay.open_flag_pull()
    await replay.send(replay.adapted(*OPENED, number=n, sender="dev"))
    assert replay.title(n) == WAITING_MANAGER
    return n


async def approved_by(replay, n, login):
    replay.person(login).approve(REPO, n)
    return await replay.send(replay.adapted(*SUBMITTED, number=n, sender=login, review_by=login))


async def test_open_manager_review_qa_review_merge(replay):
    n = await opened(replay)
    await approved_by(replay, n, "mgr")
    assert replay.title(n) == WAITING_QA
    last = await approved_by(replay, n, "qa")
    assert replay.h.pull(n)["merged"] is True
    assert replay.title(n) == "Merged"
    [comment] = replay.h.comments(n)
    assert "Applied `new_checkout_flow`" in comment["body"]
    assert [o.merge_status for o in last.outcomes] == [200]
    assert_golden("lifecycle", replay.transcript())


async def test_a_redelivery_changes_nothing(replay):
    # GitHub's "Redeliver" sends the same delivery (same GUID) again.
    n = replay.open_flag_pull()
    delivery = replay.adapted(*OPENED, number=n, sender="dev")
    first = await replay.send(delivery)
    again = await replay.send(delivery)
    assert again.delivery.guid == first.delivery.guid
    assert replay.title(n) == WAITING_MANAGER
    assert [o.wrote_check for o in again.outcomes] == [False]
    assert writes(again) == []
    assert_golden("redelivery", replay.transcript())


async def test_a_review_arriving_before_the_opened_event(replay):
    n = replay.open_flag_pull()
    replay.person("mgr").approve(REPO, n)
    review = replay.adapted(*SUBMITTED, number=n, sender="mgr", review_by="mgr")
    await replay.send(review)  # the bot reads the whole state: the approval counts at once
    assert replay.title(n) == WAITING_QA
    late = await replay.send(replay.adapted(*OPENED, number=n, sender="dev"))
    assert replay.title(n) == WAITING_QA
    assert writes(late) == []
    assert not replay.h.pull(n)["merged"]
    assert_golden("out_of_order", replay.transcript())


async def test_a_dismissed_approval_no_longer_counts(replay):
    n = await opened(replay)
    await approved_by(replay, n, "mgr")
    assert replay.title(n) == WAITING_QA
    review = replay.review_by(n, "mgr")
    replay.person("admin").dismiss(REPO, n, review["id"], "Approved the wrong pull request")
    await replay.send(replay.adapted(*DISMISSED, number=n, sender="admin", review_by="mgr"))
    assert replay.title(n) == WAITING_MANAGER
    assert not replay.h.pull(n)["merged"]
    assert_golden("dismissed", replay.transcript())


async def test_a_draft_is_not_merged_until_ready_for_review(replay):
    n = await opened(replay)
    await approved_by(replay, n, "mgr")
    replay.person("dev").convert_to_draft(REPO, n)
    await replay.send(replay.adapted(*TO_DRAFT, number=n, sender="dev"))
    assert replay.title(n) == WAITING_QA
    await approved_by(replay, n, "qa")
    assert replay.title(n) == "Approved; draft pull requests are never merged"
    assert not replay.h.pull(n)["merged"]
    replay.person("dev").ready_for_review(REPO, n)
    await replay.send(replay.adapted(*READY, number=n, sender="dev"))
    assert replay.h.pull(n)["merged"] is True
    assert replay.title(n) == "Merged"
    assert_golden("draft_then_ready", replay.transcript())


async def test_closed_without_merge_is_left_alone(replay):
    n = await opened(replay)
    replay.person("dev").close_pr(REPO, n)
    closed = await replay.send(replay.adapted(*CLOSED, number=n, sender="dev"))
    assert [o.decision for o in closed.outcomes] == [None]
    assert writes(closed) == []
    assert not replay.h.pull(n)["merged"]
    assert replay.title(n) == WAITING_MANAGER
    assert replay.h.comments(n) == []
    assert_golden("closed_without_merge", replay.transcript())


async def test_an_edited_title_is_read_again_and_changes_nothing(replay):
    n = await opened(replay)
    replay.person("dev").edit_pr(REPO, n, title="Create the new checkout flow flag")
    edited = await replay.send(replay.adapted(*EDITED, number=n, sender="dev"))
    assert edited.delivery.payload["changes"]["title"]["from"]  # GitHub's own `changes`
    assert [o.decision.title for o in edited.outcomes] == [WAITING_MANAGER]
    assert writes(edited) == []
    assert_golden("edited", replay.transcript())

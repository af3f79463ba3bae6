"""Each way a flag change could slip through without the approvals it needs, attempted
end-to-end against the local GitHub; each test fails if flagbot's guard for it breaks."""

import pytest

from bot.emulator import pulls as emulated_pulls
from bot.emulator.people import ApiCallFailed
from bot.emulator.state import Review as EmulatedReview
from tests.service.conftest import NEW_FLAG, REPO, ROOT

FLAG = (ROOT / NEW_FLAG).read_text()
RAMP = (ROOT / "flags/legacy_search.yaml").read_text()


async def opened(h, login="dev", files=None, title="Create new checkout flow"):
    n = h.open(login, files or {NEW_FLAG: FLAG}, branch=f"b-{len(h.prs)}", title=title)
    h.prs[str(n)] = n
    await h.settle()
    return n


def force_review(h, number, login, state="APPROVED"):
    """Record a review GitHub itself would refuse (e.g. an author approving their own pull
    request), as if GitHub's own rule were absent: flagbot must not rely on it."""
    world = h.emulator.world
    with h.emulator.lock:
        repo = h.emulator.repo(REPO)
        pr = repo.pull(number)
        review = EmulatedReview(
            id=world.state.ids.next("review"),
            user=login,
            state="PENDING",
            body="",
            commit_id=pr.head_sha,
            submitted_at=None,
        )
        pr.reviews.append(review)
        event = {"APPROVED": "APPROVE", "CHANGES_REQUESTED": "REQUEST_CHANGES"}[state]
        emulated_pulls._submit(world, repo, pr, review, h.emulator.state.user(login), event)


async def test_self_approval_never_counts(harness):
    h = harness
    n = await opened(h, login="mgr")  # a manager authors the change...
    force_review(h, n, "mgr")  # ...and "approves" it himself
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"


async def test_github_refuses_self_approval_too(harness):
    h = harness
    n = await opened(h, login="mgr")
    with pytest.raises(ApiCallFailed) as refused:
        h.person("mgr").approve(REPO, n)
    assert refused.value.status == 422


async def test_approval_on_an_older_commit_does_not_count_after_a_push(harness):
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    h.person("dev").commit_file(
        REPO, NEW_FLAG, FLAG.replace("percentage: 5 ", "percentage: 25"), branch="b-0"
    )
    h.person("qa").approve(REPO, n)  # on the new head, but the manager's is stale
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"
    assert "earlier commit" in h.check_run(n)["output"]["summary"]


async def test_approval_by_a_non_owner_does_not_count(harness):
    h = harness
    n = await opened(h)
    h.person("admin").approve(REPO, n)  # platform team: owns .github/, not flags/
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"


async def test_owner_in_another_role_does_not_count(harness):
    h = harness
    n = await opened(h)
    h.person("qa").approve(REPO, n)
    h.person("qa2").approve(REPO, n)  # two QA people are not a manager
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"


async def test_owner_of_another_file_does_not_count(harness):
    # On-call owns production flags only; a staging flag needs a manager, and on-call's
    # approval (an owner of other files) does not stand in for one.
    h = harness
    path = "flags/staging/search_ranking_v2.yaml"
    text = (ROOT / path).read_text().replace("value: 0.5", "value: 0.6")
    n = await opened(h, files={path: text}, title="Blend more v2 ranking in staging")
    h.person("oncall").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"


async def test_one_person_cannot_hold_both_roles(harness):
    h = harness
    with h.emulator.lock:  # mgr2 joins QA as well
        team = next(t for t in h.emulator.state.orgs["acme"].teams.values() if t.slug == "qa")
        team.members.add("mgr2")
    n = await opened(h)
    h.person("mgr2").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) in ("Waiting for QA validation", "Waiting for manager approval")
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]


async def test_pull_request_granting_itself_approval_is_never_merged(harness):
    h = harness
    codeowners = "/flags/ @dev\n"
    policy = 'roles:\n  manager: ["@dev"]\n  qa: ["@dev"]\n'
    n = await opened(
        h,
        files={NEW_FLAG: FLAG, ".github/CODEOWNERS": codeowners, ".github/flagbot.yml": policy},
        title="Create flag and make me the owner",
    )
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["conclusion"] == "failure"
    assert ".github/CODEOWNERS" in run["output"]["summary"]


async def test_policy_edited_on_the_branch_is_ignored_for_flag_files(harness):
    # Even if the head edits CODEOWNERS for its flag only, the base file decides owners.
    h = harness
    n = await opened(h, files={NEW_FLAG: FLAG, ".github/CODEOWNERS": "* @dev\n"})
    force_review(h, n, "dev")
    await h.settle()
    assert not h.pull(n)["merged"]


async def test_dismissed_approval_does_not_count(harness):
    h = harness
    n = await opened(h)
    review = h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    h.person("admin").dismiss(REPO, n, review["id"], "approved the wrong pull request")
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"


async def test_change_request_rejects_until_lifted(harness):
    h = harness
    n = await opened(h)
    h.person("qa").request_changes(REPO, n, "Not before the Black Friday freeze ends")
    h.person("mgr").approve(REPO, n)
    h.person("qa2").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["output"]["title"] == "Rejected by @qa"
    assert "Black Friday" in run["output"]["summary"]
    h.person("qa").approve(REPO, n)  # lifted
    await h.settle()
    assert h.pull(n)["merged"]


async def test_head_moving_between_decision_and_merge_is_refused_and_redecided(harness):
    h = harness
    n = await opened(h)
    h.person("mgr").approve(REPO, n)
    await h.settle()
    ramped = FLAG.replace("percentage: 5 ", "percentage: 50")

    def push_to_head():
        h.person("dev").commit_file(REPO, NEW_FLAG, ramped, branch="b-0")

    h.emulator.faults.before_call(
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", push_to_head, nth=1
    )
    h.person("qa").approve(REPO, n)
    await h.settle()
    pull = h.pull(n)
    assert not pull["merged"]  # GitHub refused: head moved; nobody approved 50 %
    assert h.title(n) == "Waiting for manager approval"
    merges = h.emulator.calls.calls("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
    assert [c.status for c in merges] == [409]


async def test_draft_is_validated_but_never_merged(harness):
    h = harness
    n = await opened(h)
    h.person("dev").convert_to_draft(REPO, n)
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert "draft" in h.title(n)
    h.person("dev").ready_for_review(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]


async def test_invalid_flag_fails_the_check_with_annotations_on_the_lines(harness):
    h = harness
    bad = FLAG.replace("percentage: 5 ", "percentage: 120").replace("every: 60m", "every: 1m")
    n = await opened(h, files={NEW_FLAG: bad})
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "Rejected: 2 validation errors"
    notes = h.person("dev").get(f"/repos/{REPO}/check-runs/{run['id']}/annotations")
    lines = {(a["path"], a["start_line"]) for a in notes}
    pct = 1 + FLAG.splitlines().index(next(x for x in FLAG.splitlines() if "percentage:" in x))
    every = 1 + FLAG.splitlines().index(next(x for x in FLAG.splitlines() if "every:" in x))
    assert lines == {(NEW_FLAG, pct), (NEW_FLAG, every)}


async def test_staging_needs_only_a_manager(harness):
    h = harness
    path = "flags/staging/search_ranking_v2.yaml"
    text = (ROOT / path).read_text().replace("value: 0.5", "value: 0.6")
    n = await opened(h, files={path: text}, title="Blend more v2 ranking in staging")
    h.person("mgr").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]


async def test_emergency_disable_needs_one_oncall_approval(harness):
    h = harness
    path = "flags/payments_kill_switch.yaml"
    text = (ROOT / path).read_text()
    assert "enabled: true" in text
    n = await opened(
        h,
        files={path: text.replace("enabled: true", "enabled: false", 1)},
        title="Kill payments provider X",
    )
    assert h.title(n) == "Waiting for oncall approval"
    h.person("oncall").approve(REPO, n)
    await h.settle()
    pull = h.pull(n)
    assert pull["merged"]
    merge = h.person("dev").get(f"/repos/{REPO}/commits/{pull['merge_commit_sha']}")
    assert "Oncall-approved-by: oncall" in merge["commit"]["message"]


async def test_a_merge_around_flagbot_is_marked_on_the_check_run(harness):
    h = harness
    n = await opened(h)
    h.person("admin").merge(REPO, n)  # an admin merges by hand, without approvals
    await h.settle()
    run = h.check_run(n)
    assert (run["output"]["title"], run["conclusion"]) == ("Merged outside flagbot", "neutral")
    assert h.comments(n) == []  # nothing is announced as approved

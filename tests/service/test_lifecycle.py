"""The whole lifecycle, bot and local GitHub over real HTTP: open → validate → manager → QA →
merged with trailers → comment and every channel notified."""

from tests.service.conftest import NEW_FLAG, REPO, ROOT

FLAG = (ROOT / NEW_FLAG).read_text()


async def test_create_flag_manager_then_qa_then_merged_and_announced(harness):
    h = harness
    n = h.open(
        "dev",
        {NEW_FLAG: FLAG},
        branch="new-checkout",
        title="Create new checkout flow",
        body="Ship behind a 5% rollout.",
    )
    await h.settle()
    assert h.title(n) == "Waiting for manager approval"
    assert h.check_run(n)["status"] == "in_progress"

    h.person("mgr").approve(REPO, n)
    await h.settle()
    assert h.title(n) == "Waiting for QA validation"

    h.person("qa").approve(REPO, n)
    await h.settle()
    pull = h.pull(n)
    assert pull["merged"] is True
    run = h.check_run(n)
    assert (run["output"]["title"], run["conclusion"]) == ("Merged", "success")

    merge = h.person("dev").get(f"/repos/{REPO}/commits/{pull['merge_commit_sha']}")
    message = merge["commit"]["message"]
    assert message.startswith("flagbot: create new_checkout_flow (#")
    assert "Requested-by: dev" in message
    assert "Manager-approved-by: mgr" in message
    assert "QA-validated-by: qa" in message
    assert h.file_on_main(NEW_FLAG) == FLAG

    [comment] = h.comments(n)
    assert "Applied `new_checkout_flow`" in comment["body"]
    assert comment["user"]["login"] == "flagbot[bot]"
    [slack] = h.slack.posts
    assert "new_checkout_flow" in slack["json"]["text"]
    assert f"{pull['html_url']}|Open on GitHub" in slack["json"]["text"]
    [audit] = h.audit.posts
    record = audit["json"]["records"][0]
    assert (record["flag_key"], record["change_type"], record["requested_by"]) == (
        "new_checkout_flow",
        "create",
        "dev",
    )
    assert (record["approver"], record["validator"]) == ("mgr", "qa")
    [mail] = h.mailbox.messages
    assert "new_checkout_flow" in mail["Subject"]


async def test_base_moving_on_does_not_show_as_part_of_the_change(harness):
    # The PR edits a flag's description; meanwhile the rollout job bumps that flag on main.
    # What reviewers see (and the change type) is the pull request's own diff.
    h = harness
    path = "flags/legacy_search.yaml"
    text = (ROOT / path).read_text()
    edited = text.replace("Route search to the old Solr cluster.", "Clearer words.")
    n = h.open("dev", {path: edited}, branch="describe", title="Describe legacy search")
    await h.settle()
    on_main = text.replace("tags: [search]", "tags: [search, legacy]")
    h.emulator.push_files(REPO, "main", {path: on_main}, message="tag it on main")
    h.person("dev").edit_pr(REPO, n, body="rebased? no")
    await h.settle()
    summary = h.check_run(n)["output"]["summary"]
    assert (
        "| `legacy_search` | production | update | `description`: "
        '`"Route search to the old Solr cluster."` → `"Clearer words."` |'
    ) in summary
    assert "tags" not in summary  # main's own change is not this pull request's


async def test_a_policy_change_on_the_base_re_decides_open_pull_requests(harness):
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    h.person("mgr").approve(REPO, n)
    await h.settle()
    assert h.title(n) == "Waiting for QA validation"
    policy = (ROOT / ".github/flagbot.yml").read_text()
    relaxed = policy.replace("default: [manager, qa]", "default: [manager]")
    assert relaxed != policy
    h.emulator.push_files(REPO, "main", {".github/flagbot.yml": relaxed}, message="relax")
    await h.settle()  # the push re-decides every open pull request into main
    assert h.pull(n)["merged"]


async def test_rerequested_check_run_is_decided_again_on_a_new_run(harness):
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    await h.settle()
    first = h.check_run(n)
    h.person("dev").rerequest_check(REPO, first["id"])
    await h.settle()
    again = h.check_run(n)
    assert again["id"] != first["id"]
    assert again["output"]["title"] == "Waiting for manager approval"


async def test_re_run_all_checks_rerequests_the_suite_and_gets_a_new_run(harness):
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    await h.settle()
    first = h.check_run(n)
    suite = first["check_suite"]["id"]
    h.person("dev").call("POST", f"/repos/{REPO}/check-suites/{suite}/rerequest")
    await h.settle()
    assert [d.action for d in h.emulator.webhooks.events("check_suite")][-1] == "rerequested"
    again = h.check_run(n)
    assert again["id"] != first["id"]
    assert again["output"]["title"] == "Waiting for manager approval"


async def test_a_failing_channel_is_reported_and_the_merge_stands(harness):
    h = harness
    h.slack.status = 500
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"]
    run = h.check_run(n)
    assert (run["output"]["title"], run["conclusion"]) == ("Merged", "success")
    assert "Notification failed: releases-slack" in run["output"]["summary"]
    [comment] = h.comments(n)
    assert "Could not notify: releases-slack" in comment["body"]
    assert len(h.audit.posts) == 1 and len(h.mailbox.messages) == 1  # the others still went
    merges = h.emulator.calls.calls("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
    assert [c.status for c in merges] == [200]


async def test_conflicting_pull_request_is_not_merged_and_says_so(harness):
    h = harness
    path = "flags/legacy_search.yaml"
    text = (ROOT / path).read_text()
    ours = text.replace("Route search to the old Solr cluster.", "Ours.")
    theirs = text.replace("Route search to the old Solr cluster.", "Theirs.")
    n = h.open("dev", {path: ours}, branch="ours", title="Describe legacy search")
    h.emulator.push_files(REPO, "main", {path: theirs}, message="a conflicting change on main")
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["output"]["title"] == "Approved, but it conflicts with the base branch"
    assert run["conclusion"] == "action_required"


async def test_merge_refused_by_github_is_reported(harness):
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    h.emulator.faults.fail(
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
        405,
        times=None,
        message='Required status check "ci" is expected.',
    )
    h.person("mgr").approve(REPO, n)
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["output"]["title"] == "Approved, but GitHub refused the merge"
    assert "Required status check" in run["output"]["summary"]


async def test_more_than_fifty_annotations_arrive_in_batches(harness):
    h = harness
    bad = "name: Broken\nrollout:\n  percentage: 120\n"
    files = {f"flags/broken_{i:02d}.yaml": bad for i in range(60)}
    n = h.open("dev", files, branch="broken", title="Sixty broken flags")
    await h.settle()
    run = h.check_run(n)
    assert run["conclusion"] == "failure"
    notes = h.person("dev").get(f"/repos/{REPO}/check-runs/{run['id']}/annotations?per_page=100")
    assert len(notes) == 60
    assert {(a["start_line"], a["annotation_level"]) for a in notes} == {(3, "failure")}

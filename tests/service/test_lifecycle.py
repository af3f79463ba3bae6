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

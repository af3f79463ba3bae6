"""Defects found in review of the service's "nothing lost" paths, each proven against the
emulator over real HTTP (or directly, where the code is pure)."""

from tests.service.conftest import NEW_FLAG, REPO, ROOT

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

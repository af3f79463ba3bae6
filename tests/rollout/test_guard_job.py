"""Guards in the rollout job, against the local GitHub over HTTP: check runs and commit
statuses on the head, and HTTP probes of a local endpoint. A failure pauses (or rolls back)
with one commit and one notice; anything unclear holds; nothing unclear ever bumps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.emulator_harness import REPO
from tests.rollout.guarding import (
    POLICY_WITH_CHANNEL,
    Recorder,
    guarded_flow,
    health_endpoint,
)
from tests.rollout.harness import Harness, harness
from tests.rollout.test_job_github import FLOW_PATH, flow_at

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CHECK_GUARD = 'guard:\n  checks:\n    - check: "synthetics / checkout"\n'
HTTP_GUARD = "guard:\n  checks:\n    - http: {url_env: CHECKOUT_HEALTH_URL, expect: 200}\n"


def rollout_of(h: Harness, path: str = FLOW_PATH) -> dict:
    return yaml.safe_load(h.file(path))["rollout"]


def check_run(h: Harness, status: str, conclusion: str | None = None) -> None:
    body = {"name": "synthetics / checkout", "head_sha": h.head(), "status": status}
    if conclusion:
        body["conclusion"] = conclusion
    h.emulator.as_app().call("POST", f"/repos/{REPO}/check-runs", body)


def commit_status(h: Harness, state: str, context: str = "synthetics / checkout") -> None:
    result = h.emulator.request(
        "POST",
        f"/repos/{REPO}/statuses/{h.head()}",
        json_body={"state": state, "context": context},
        login="flagbot",
    )
    assert result.status == 201, result


@pytest.fixture
def checked(tmp_path):
    files = {
        FLOW_PATH: guarded_flow(25, T0, CHECK_GUARD),
        ".github/flagbot.yml": POLICY_WITH_CHANNEL,
    }
    with harness(files, tmp_path, clock=T0) as h:
        yield h


def test_a_passing_check_run_lets_the_due_bump_happen(checked):
    h = checked
    check_run(h, "completed", "success")
    start = h.head()
    report = h.run(T0 + HOUR)
    assert [r.outcome for r in report.results] == ["bumped"]
    [outcome] = report.guards[FLOW_PATH].outcomes
    assert (outcome.verdict, outcome.value) == ("pass", "success")
    [c] = h.commits_since(start)
    assert c.title == "rollout: new_checkout_flow 25% → 50% (half)"


def test_a_successful_commit_status_passes_too(checked):
    h = checked
    commit_status(h, "success")
    commit_status(h, "failure", context="something else")  # other contexts do not count
    assert [r.outcome for r in h.run(T0 + HOUR).results] == ["bumped"]


@pytest.mark.parametrize(
    ("make", "value"),
    [
        (lambda h: check_run(h, "in_progress"), "in_progress"),
        (lambda h: commit_status(h, "pending"), "pending"),
        (lambda h: None, "missing"),
    ],
    ids=["pending check run", "pending status", "missing"],
)
def test_a_pending_or_missing_check_holds_without_writing(checked, make, value):
    h = checked
    make(h)
    start = h.head()
    notes = Recorder()
    report = h.run(T0 + HOUR, notifier=notes)
    [result] = report.results
    assert result.outcome == "held" and result.action.due
    assert f"guard check 'synthetics / checkout': {value}, needs success" in result.detail
    assert h.commits_since(start) == [] and notes.notices == []
    assert report.ok  # holding is not a failure of the run


def test_a_failed_check_pauses_with_one_commit_and_one_notice(checked):
    h = checked
    check_run(h, "completed", "failure")
    start = h.head()
    notes = Recorder()
    report = h.run(T0 + 20 * 60 * timedelta(seconds=1), notifier=notes)  # not even due
    [result] = report.results
    assert result.outcome == "paused"
    [c] = h.commits_since(start)
    assert c.title == (
        "rollout: new_checkout_flow paused at 25% "
        "(guard check 'synthetics / checkout': failure, needs success)"
    )
    r = rollout_of(h)
    assert r["paused"] is True and r["percentage"] == 25
    assert r["paused_reason"] == "guard check 'synthetics / checkout': failure, needs success"
    [notice] = notes.notices
    assert notice.event == "rollout_paused"
    assert notice.records[0]["guards"] == [
        {"guard": "check 'synthetics / checkout'", "value": "failure", "threshold": "success"}
    ]
    assert "paused at 25%" in notice.subject
    # Paused: later runs leave it alone, whatever the check says now.
    check_run(h, "completed", "success")
    assert h.run(T0 + 3 * HOUR).results == [] and len(h.commits_since(start)) == 1


def test_two_jobs_at_once_write_one_pause_and_send_one_notice(checked):
    h = checked
    commit_status(h, "error")
    start = h.head()
    checkout = h.checkout()
    notes = Recorder()
    barrier = threading.Barrier(2)
    reports = []

    def one(i: int) -> None:
        barrier.wait()
        reports.append(h.run(T0 + HOUR, checkout=checkout, job_id=f"job-{i}", notifier=notes))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r.ok for r in reports), [r.results for r in reports]
    outcomes = sorted(r.outcome for rep in reports for r in rep.results)
    # The other job lost the race (settled), or looked after the pause commit became the head,
    # which has no status yet (held).
    assert outcomes in (["paused", "settled"], ["held", "paused"])
    assert len(h.commits_since(start)) == 1 and len(notes.notices) == 1
    assert rollout_of(h)["paused"] is True


def test_rollback_goes_back_one_stage_records_it_and_pauses(tmp_path):
    guard = CHECK_GUARD.replace("guard:\n", "guard:\n  on_failure: rollback\n")
    files = {FLOW_PATH: guarded_flow(50, T0, guard), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with harness(files, tmp_path, clock=T0) as h:
        check_run(h, "completed", "timed_out")
        start = h.head()
        now = T0 + 30 * timedelta(minutes=1)
        notes = Recorder()
        [result] = h.run(now, notifier=notes).results
        assert result.outcome == "paused" and result.action.rollback
        [c] = h.commits_since(start)
        assert c.title.startswith("rollout: new_checkout_flow rolled back 50% → 25% and paused (")
        r = rollout_of(h)
        assert (r["percentage"], r["paused"]) == (25, True)
        assert r["stage_started"] == {"percentage": 25, "at": now}
        assert "timed_out" in r["paused_reason"]
        [notice] = notes.notices
        assert notice.records[0]["percentage"] == 25
        assert notice.records[0]["previous_percentage"] == 50


def test_rollback_from_the_first_stage_goes_to_zero(tmp_path):
    guard = HTTP_GUARD.replace("guard:\n", "guard:\n  on_failure: rollback\n")
    files = {FLOW_PATH: guarded_flow(5, T0, guard), ".github/flagbot.yml": POLICY_WITH_CHANNEL}
    with health_endpoint() as (endpoint, url), harness(files, tmp_path, clock=T0) as h:
        endpoint.status = 404
        [result] = h.run(T0 + HOUR, env={"CHECKOUT_HEALTH_URL": url}).results
        assert result.outcome == "paused"
        r = rollout_of(h)
        assert (r["percentage"], r["paused"]) == (0, True)
        assert "HTTP 404, needs HTTP 200" in r["paused_reason"]


@pytest.mark.parametrize(
    ("status", "hang", "outcome", "said"),
    [
        (200, False, "bumped", ""),
        (500, False, "held", "HTTP 500, needs HTTP 200"),
        (200, True, "held", "no answer, needs HTTP 200 (no answer within 0.2 s)"),
        (403, False, "paused", ""),
    ],
    ids=["200", "500", "timeout", "403"],
)
def test_http_guard(tmp_path, status, hang, outcome, said):
    files = {
        FLOW_PATH: guarded_flow(25, T0, HTTP_GUARD),
        ".github/flagbot.yml": POLICY_WITH_CHANNEL,
    }
    with health_endpoint() as (endpoint, url), harness(files, tmp_path, clock=T0) as h:
        endpoint.status, endpoint.hang = status, hang
        start = h.head()
        env = {"CHECKOUT_HEALTH_URL": url}
        timeout = 0.2 if hang else 10.0  # a short wait only where nothing will answer
        report = h.run(T0 + HOUR, env=env, guard_timeout=timeout, notifier=Recorder())
        [result] = report.results
        assert result.outcome == outcome
        assert said in result.detail
        commits = h.commits_since(start)
        assert len(commits) == (0 if outcome == "held" else 1)
        expected_pct = 50 if outcome == "bumped" else 25
        assert rollout_of(h)["percentage"] == expected_pct  # never more on trouble


def test_an_unset_url_variable_holds_and_says_which(tmp_path):
    files = {
        FLOW_PATH: guarded_flow(25, T0, HTTP_GUARD),
        ".github/flagbot.yml": POLICY_WITH_CHANNEL,
    }
    with harness(files, tmp_path, clock=T0) as h:
        [result] = h.run(T0 + HOUR, env={}).results
        assert result.outcome == "held"
        assert "CHECKOUT_HEALTH_URL is not set where the job runs" in result.detail


def test_identical_questions_are_asked_once_per_run(tmp_path):
    other = "flags/staging/new_checkout_flow.yaml"
    files = {
        FLOW_PATH: guarded_flow(25, T0, HTTP_GUARD + '    - check: "synthetics / checkout"\n'),
        other: guarded_flow(50, T0, HTTP_GUARD + '    - check: "synthetics / checkout"\n'),
        ".github/flagbot.yml": POLICY_WITH_CHANNEL,
    }
    with health_endpoint() as (endpoint, url), harness(files, tmp_path, clock=T0) as h:
        check_run(h, "completed", "success")
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(T0 + HOUR, env={"CHECKOUT_HEALTH_URL": url})
        assert sorted(r.outcome for r in report.results) == ["bumped", "bumped"]
        assert endpoint.hits == 1
        assert h.emulator.calls.count("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs") == 1
        assert h.emulator.calls.count("GET", "/repos/{owner}/{repo}/commits/{ref}/status") == 1
        [c] = h.commits_since(start)  # both bumps, one commit
        assert "2 flags (2 bumped)" in c.title


def test_guards_default_from_flagbot_yml(tmp_path):
    policy = POLICY_WITH_CHANNEL + "rollout:\n  " + CHECK_GUARD.replace("\n  ", "\n    ")
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": policy}
    with harness(files, tmp_path, clock=T0) as h:
        [result] = h.run(T0 + HOUR).results
        assert result.outcome == "held"  # the default guard's check is missing
        check_run(h, "completed", "success")
        [result] = h.run(T0 + HOUR).results
        assert result.outcome == "bumped"


def test_a_merge_landing_before_the_bump_holds_until_its_check_has_run(checked):
    """The check guard passed on the head the job read; then a merge became the head (no check
    run on it yet) and the bump's first write was refused. The bump is written on that merge,
    so it is the merge's check that counts: hold (README: every commit is a new head)."""
    h = checked
    check_run(h, "completed", "success")
    now = T0 + HOUR
    merged = h.emulator.faults.before_call(
        "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
        lambda: h.push({"flags/banner.yaml": "name: Banner\n"}, now, "Add a banner (#7)"),
    )
    start = h.head()
    report = h.run(now)
    assert merged.done
    [result] = report.results
    assert result.outcome == "held", (result.outcome, result.detail)
    assert "guard check 'synthetics / checkout': missing, needs success" in result.detail
    [person] = h.commits_since(start)
    assert person.title == "Add a banner (#7)" and rollout_of(h)["percentage"] == 25

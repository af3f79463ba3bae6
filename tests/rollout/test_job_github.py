"""The rollout job end to end: the real job code, through PyGithub, against the local GitHub.

The clock is simulated: each run gets `now` (what `--now` sets) and a fresh checkout of the
branch, as a scheduled Actions run would. The repository's first commit (the merge of the flag)
is dated T0.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.emulator.git.objects import Signature
from bot.rollout.job import JobReport, commit_message
from bot.rollout.remote import ACTIONS_BOT, Identity
from bot.rollout.schedule import Bump
from tests.emulator_harness import REPO
from tests.rollout.harness import ROOT, Harness, harness

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
FLOW_PATH = "flags/new_checkout_flow.yaml"
FLOW = (ROOT / FLOW_PATH).read_text()  # this repository's own example flag
POLICY = 'roles: {manager: ["@acme/eng-managers"], qa: ["@acme/qa"]}\n'
PATCH_REF = "PATCH /repos/{owner}/{repo}/git/refs/{ref}"
POST_TREE = "POST /repos/{owner}/{repo}/git/trees"
GET_BLOB = "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"
GET_REF = "GET /repos/{owner}/{repo}/git/ref/{ref}"
LIST_COMMITS = "GET /repos/{owner}/{repo}/commits"
COMPARE = "GET /repos/{owner}/{repo}/compare/{basehead}"
STAGE_NAMES = {25: "early", 50: "half", 75: "majority", 100: "full"}


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def flow_at(pct: int, since: datetime | None) -> str:
    """The example flag at `pct`, written independently of the job's edit: the percentage
    line changed, the stage record appended to the rollout block; every other byte as merged."""
    # The value grows, its trailing comment keeps its column (at least one space before it).
    text, n = re.subn(
        r"^  percentage: 5( +)#",
        lambda m: f"  percentage: {pct}" + " " * max(1, len(m[1]) + 1 - len(str(pct))) + "#",
        FLOW,
        count=1,
        flags=re.M,
    )
    assert n == 1
    if since is not None:
        text += f"  stage_started:\n    percentage: {pct}\n    at: {iso(since)}\n"
    return text


def ticks(start: datetime, end: datetime) -> list[datetime]:
    """The workflow's schedule, `7,22,37,52 * * * *`, between two instants."""
    at = start.replace(minute=0, second=0)
    out = []
    while at <= end:
        out += [
            at + timedelta(minutes=m)
            for m in (7, 22, 37, 52)
            if start <= at + timedelta(minutes=m) <= end
        ]
        at += HOUR
    return out


@pytest.fixture
def github(tmp_path):
    with harness({FLOW_PATH: FLOW, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:
        yield h


def run_together(h: Harness, now: datetime, jobs: int) -> list[JobReport]:
    """`jobs` runs on the same checkout, released at the same instant (threads)."""
    checkout = h.checkout()
    barrier = threading.Barrier(jobs)

    def one(i: int) -> JobReport:
        barrier.wait()
        return h.run(now, checkout=checkout, job_id=f"job-{i}")

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, range(jobs)))


@pytest.mark.parametrize("jobs", [1, 2], ids=["one job", "two jobs at once"])
def test_walks_new_checkout_flow_from_5_to_100_on_a_simulated_clock(github, jobs):
    h = github
    stages = iter([25, 50, 75, 100])
    pct, expected_text = 5, FLOW
    next_due = T0 + HOUR  # the merge at T0 plus `every`
    bumped_at = []
    for now in ticks(T0, T0 + 6 * HOUR):
        before_head, before_files = h.head(), h.files()
        reports = run_together(h, now, jobs)
        assert all(r.ok for r in reports), [r.results for r in reports]
        new = h.commits_since(before_head)
        if pct < 100 and now >= next_due:
            to = next(stages)
            [c] = new  # exactly one commit, whatever the number of jobs
            assert c.title == f"rollout: new_checkout_flow {pct}% → {to}% ({STAGE_NAMES[to]})"
            assert c.committer.when == now and c.author.when == now
            assert (c.committer.name, c.committer.email) == (ACTIONS_BOT.name, ACTIONS_BOT.email)
            expected_text = flow_at(to, now)
            after = h.files()
            assert after[FLOW_PATH] == expected_text.encode()  # byte for byte
            assert {p for p in after if after[p] != before_files.get(p)} == {FLOW_PATH}
            outcomes = sorted(r.outcome for report in reports for r in report.results)
            # A second job either loses the compare-and-swap (settled) or, asking GitHub when
            # the file last changed after the bump landed, finds nothing due.
            assert outcomes in (["bumped"], ["bumped"] + ["settled"] * (jobs - 1))
            pct, next_due = to, now + HOUR
            bumped_at.append(now)
        else:
            assert new == []  # nothing moves early
            assert h.file(FLOW_PATH) == expected_text.encode()
            assert all(r.results == [] for r in reports)
    assert pct == 100
    assert bumped_at == [T0 + timedelta(hours=h, minutes=7) for h in (1, 2, 3, 4)]


def test_a_job_late_by_three_intervals_bumps_one_stage(tmp_path):
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        late = T0 + 3 * HOUR + 5 * MINUTE
        start = h.head()
        [result] = h.run(late).results
        assert (result.bump.from_percentage, result.bump.to_percentage) == (25, 50)
        assert h.file(FLOW_PATH) == flow_at(50, late).encode()
        assert h.run(late).results == []  # the new stage waits its full hour
        assert h.run(late + HOUR - MINUTE).results == []
        assert len(h.commits_since(start)) == 1
        [result] = h.run(late + HOUR).results
        assert result.bump.to_percentage == 75


def test_a_rollback_merged_mid_plan_restarts_the_clock_from_its_merge(tmp_path):
    files = {FLOW_PATH: flow_at(75, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        # A person rolls back to 25 % by pull request, merged at T0 + 30 min. The job's record
        # still says 75 %: the file no longer describes itself, so the merge dates the stage.
        rollback = flow_at(75, T0).replace("  percentage: 75 ", "  percentage: 25 ", 1)
        merged_at = T0 + 30 * MINUTE
        h.push({FLOW_PATH: rollback}, merged_at, "Roll new_checkout_flow back to 25% (#12)")
        start = h.head()
        h.emulator.calls.reset()
        assert h.run(T0 + HOUR + MINUTE).results == []  # 75 % would have been due: not any more
        assert h.emulator.calls.count("GET", "/repos/{owner}/{repo}/commits") == 1
        assert h.run(merged_at + HOUR - MINUTE).results == []
        assert h.commits_since(start) == []
        [result] = h.run(merged_at + HOUR).results
        assert (result.bump.from_percentage, result.bump.to_percentage) == (25, 50)
        text = h.file(FLOW_PATH).decode()
        assert "  percentage: 50 " in text
        assert f"    percentage: 50\n    at: {iso(merged_at + HOUR)}\n" in text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("  every: 60m", "  every: 60m\n  paused: true"),
        ("enabled: true ", "enabled: false "),
    ],
    ids=["paused", "disabled"],
)
def test_a_paused_or_disabled_flag_stays(tmp_path, change, why):
    text = flow_at(25, T0).replace(change, why, 1)
    with harness({FLOW_PATH: text, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(T0 + 48 * HOUR)
        assert report.ok and report.results == []
        assert h.commits_since(start) == []
        assert len(h.emulator.calls) == 0  # decided from the file alone


def test_nothing_due_makes_no_write_and_a_handful_of_reads(tmp_path):
    files = {
        FLOW_PATH: flow_at(25, T0),  # recorded: no question to ask
        "flags/staging/beta.yaml": FLOW,  # merged by a person: one question
        "flags/done.yaml": flow_at(100, T0),  # complete
        "flags/switch.yaml": "name: Switch\n",  # no plan
        ".github/flagbot.yml": POLICY,
    }
    with harness(files, tmp_path, clock=T0) as h:
        h.emulator.calls.reset()
        report = h.run(T0 + 30 * MINUTE)
        assert report.ok and report.results == []
        one = {"calls": 1, "charged": 1, "not_modified": 0, "faults": 0, "statuses": {"200": 1}}
        # The newest commit touching the file, and whether a merge commit put it on the branch.
        assert h.emulator.calls.stats() == {LIST_COMMITS: one, COMPARE: one}
        call = h.emulator.calls.calls()[0]
        assert call.query == {"sha": "main", "path": "flags/staging/beta.yaml", "per_page": "1"}
        h.emulator.calls.reset()
        h.run(T0 + 30 * MINUTE, branch=None)  # no GITHUB_REF_NAME: ask for the default branch
        assert h.emulator.calls.count("GET") == 3 and h.emulator.calls.count("PATCH") == 0


def test_two_processes_started_together_bump_once(github):
    import os
    import subprocess
    import sys

    h = github
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FLAGBOT_"))}
    env.update(
        GITHUB_TOKEN="bot-token",
        GITHUB_REPOSITORY=REPO,
        GITHUB_API_URL=h.url,
        GITHUB_REF_NAME="main",
        FLAGBOT_WRITE_PAUSE="0",
        FLAGBOT_REQUEST_PAUSE="0",
        FLAGBOT_RETRY_BACKOFF="0",
    )
    for pct, to, now in ((5, 25, T0 + HOUR + 7 * MINUTE), (25, 50, T0 + 2 * HOUR + 7 * MINUTE)):
        checkout = h.checkout()
        start = h.head()
        cmd = [sys.executable, "-m", "bot", "rollout", "--repo-dir", str(checkout)]
        procs = [
            subprocess.Popen(
                [*cmd, "--now", iso(now)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        [c] = h.commits_since(start)
        assert c.title == f"rollout: new_checkout_flow {pct}% → {to}% ({STAGE_NAMES[to]})"
        assert c.committer.when == now
        stdout = sorted(out for out, _ in outs)
        assert sum(line.startswith("bumped") for s in stdout for line in s.splitlines()) == 1
        # The other one either lost the compare-and-swap, or asked GitHub when the file last
        # changed after the bump had landed and found nothing due.
        assert any("skipped" in s for s in stdout) or "0 due" in outs[0][1] + outs[1][1]
        assert h.file(FLOW_PATH) == flow_at(to, now).encode()


def test_head_moving_between_read_and_write_is_decided_again(tmp_path):
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        now = T0 + HOUR
        edited = flow_at(25, T0).replace("  The single-page", "  The one-page", 1)
        person = h.emulator.faults.before_call(
            PATCH_REF,
            lambda: h.push({FLOW_PATH: edited}, now - MINUTE, "Reword the description (#13)"),
        )
        start = h.head()
        h.emulator.calls.reset()
        [result] = h.run(now).results
        assert person.done and result.outcome == "bumped"
        statuses = h.emulator.calls.stats()[PATCH_REF]["statuses"]
        assert statuses == {"422": 1, "200": 1}  # not a fast-forward, then one
        assert h.emulator.calls.count("GET", GET_BLOB.split(" ", 1)[1]) == 1  # read again
        titles = [c.title for c in h.commits_since(start)]
        assert titles == [
            "Reword the description (#13)",
            "rollout: new_checkout_flow 25% → 50% (half)",
        ]
        assert (
            h.file(FLOW_PATH)
            == flow_at(50, now).replace("  The single-page", "  The one-page", 1).encode()
        )


def test_another_jobs_bump_landing_first_is_not_repeated(tmp_path):
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        now = T0 + HOUR
        bump = Bump("new_checkout_flow", "production", FLOW_PATH, 25, 50, "half", False)
        other = Signature(ACTIONS_BOT.name, ACTIONS_BOT.email, now)
        h.emulator.faults.before_call(
            PATCH_REF,
            lambda: h.emulator.push_files(
                REPO,
                "main",
                {FLOW_PATH: flow_at(50, now)},
                message=commit_message(bump, "production", "other-job"),
                author=other,
            ),
        )
        start = h.head()
        report = h.run(now)
        [result] = report.results
        assert report.ok and result.outcome == "settled"
        assert result.detail == "changed meanwhile; no longer needs this run's change"
        [c] = h.commits_since(start)
        assert "Flagbot-Job: other-job" in c.message


def test_a_write_that_landed_behind_a_server_error_counts_once(tmp_path):
    """The branch moves to the job's commit on GitHub, but the client sees a 502. The job reads
    the head again, finds its own commit there, and reports the bump (and would announce it)."""
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        now = T0 + HOUR

        def lands_anyway():
            repo = h.emulator.repo(REPO)
            [mine] = [
                sha
                for sha, c in repo.git.store.commits.items()
                if "Flagbot-Job: test-job" in c.message
            ]
            repo.git.refs["refs/heads/main"] = mine

        # A faulted call changes nothing, so the landing is staged before the job's next look.
        h.emulator.faults.fail(PATCH_REF, 502, times=1)
        h.emulator.faults.before_call(GET_REF, lands_anyway, nth=2)
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(now, job_id="test-job", connection=h.connection(retries=0))
        [result] = report.results
        assert report.ok and result.outcome == "bumped"
        [c] = h.commits_since(start)
        assert result.commit_sha == c.sha == report.commit_sha
        assert h.emulator.calls.stats()[PATCH_REF]["statuses"] == {"502": 1}  # not tried again
        assert h.file(FLOW_PATH) == flow_at(50, now).encode()


def test_injected_server_errors_and_rate_limits_are_survived(tmp_path):
    files = {FLOW_PATH: FLOW, ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        faults = h.emulator.faults
        faults.fail(LIST_COMMITS, 503, times=1)
        faults.too_many_requests(LIST_COMMITS, retry_after=0, times=1)
        faults.fail(POST_TREE, 502, times=2)
        faults.secondary_rate_limit(POST_TREE, retry_after=0, times=1)
        start = h.head()
        report = h.run(T0 + HOUR)
        assert report.ok, report.results
        [c] = h.commits_since(start)
        assert c.title == "rollout: new_checkout_flow 5% → 25% (early)"
        stats = h.emulator.calls.stats()
        assert stats[LIST_COMMITS]["statuses"] == {"503": 1, "429": 1, "200": 1}
        assert stats[POST_TREE]["statuses"] == {"502": 2, "403": 1, "201": 1}


def test_a_github_outage_fails_the_run_without_crashing_it(tmp_path):
    files = {FLOW_PATH: flow_at(25, T0), "flags/other.yaml": flow_at(25, T0)}
    with harness({**files, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:
        h.emulator.faults.fail(PATCH_REF, 502, times=None)
        start = h.head()
        report = h.run(T0 + HOUR, connection=h.connection(retries=1))
        assert not report.ok
        assert [r.outcome for r in report.results] == ["failed", "failed"]  # both were tried
        assert "not written after 3 attempts" in report.results[0].detail
        assert h.emulator.calls.count("PATCH") == 3  # three attempts (a PATCH is not retried)
        assert h.commits_since(start) == []


def test_invalid_flag_file_is_reported_and_the_others_still_move(tmp_path):
    files = {
        FLOW_PATH: flow_at(25, T0),
        "flags/broken.yaml": "name: Broken\nrollout:\n  percentage: 120\n  stages: [5, 100]\n",
        ".github/flagbot.yml": POLICY,
    }
    with harness(files, tmp_path, clock=T0) as h:
        report = h.run(T0 + HOUR)
        assert [r.outcome for r in report.results] == ["bumped"]
        assert [str(d) for d in report.diagnostics] == [
            "flags/broken.yaml:3:15: rollout.percentage must be between 0 and 100, got 120"
        ]
        assert not report.ok  # the run says something needs fixing


def test_dry_run_reads_but_never_writes(tmp_path):
    with harness({FLOW_PATH: FLOW, ".github/flagbot.yml": POLICY}, tmp_path, clock=T0) as h:
        start = h.head()
        h.emulator.calls.reset()
        report = h.run(T0 + HOUR, dry_run=True)
        assert [r.outcome for r in report.results] == ["would-bump"]
        assert h.commits_since(start) == []
        assert h.emulator.calls.count("POST") == h.emulator.calls.count("PATCH") == 0


def test_committer_is_configurable(github):
    me = Identity("flagbot[bot]", "1001+flagbot[bot]@users.noreply.github.com")
    github.run(T0 + HOUR, committer=me)
    c = github.commit()
    assert (c.author.name, c.author.email) == (me.name, me.email)
    assert (c.committer.name, c.committer.email) == (me.name, me.email)


def test_invalid_policy_stops_the_run(tmp_path):
    with harness({FLOW_PATH: FLOW, ".github/flagbot.yml": "roles: 3\n"}, tmp_path, clock=T0) as h:
        start = h.head()
        report = h.run(T0 + HOUR)
        assert not report.ok and report.results == []
        assert "flagbot.yml is not valid" in report.problems[0]
        assert h.commits_since(start) == []


def test_plan_asks_github_when_the_checkout_has_no_history(github, monkeypatch, capsys):
    import json

    from bot.cli import main

    h = github
    monkeypatch.setenv("GITHUB_TOKEN", "bot-token")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", h.url)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("FLAGBOT_REQUEST_PAUSE", "0")
    checkout = h.checkout()  # files only, like Actions' shallow checkout without .git
    args = ["plan", "--repo-dir", str(checkout), "--now", iso(T0 + 30 * MINUTE)]
    assert main([*args, "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["started_from"], row["started_at"]) == ("github", iso(T0))
    assert (row["state"], row["next_due"]) == ("waiting", iso(T0 + HOUR))
    assert row["completes_at"] == iso(T0 + 4 * HOUR)
    assert h.emulator.calls.count("GET", LIST_COMMITS.split(" ", 1)[1]) == 1


def test_a_refusal_that_is_not_a_race_fails_fast_with_what_to_do(tmp_path):
    # A branch rule answering 422 though nothing moved: re-deciding would not help.
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        h.emulator.faults.fail(
            PATCH_REF,
            422,
            times=None,
            message="Protected branch update failed for refs/heads/main.",
        )
        h.emulator.calls.reset()
        report = h.run(T0 + HOUR)
        [result] = report.results
        assert not report.ok and result.outcome == "failed"
        assert "refused to move the branch though it had not moved" in result.detail
        assert "GitHub App token" in result.detail
        assert h.emulator.calls.count("PATCH") == 1


def test_a_write_refused_for_lack_of_permission_says_what_to_grant(tmp_path):
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        h.emulator.faults.fail(
            POST_TREE, 403, times=None, message="Resource not accessible by integration"
        )
        [result] = h.run(T0 + HOUR).results
        assert result.outcome == "failed"
        assert "HTTP 403: Resource not accessible by integration" in result.detail
        assert "permissions: contents: write" in result.detail


def test_a_commit_that_landed_unseen_with_a_merge_on_top_counts_once(tmp_path):
    """The branch moved to the job's commit but the answer was lost, and a person's merge landed
    on top before the job looked again: the job finds its commit among the head's ancestors."""
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        now = T0 + HOUR

        def lands_then_a_merge():
            repo = h.emulator.repo(REPO)
            [mine] = [
                sha
                for sha, c in repo.git.store.commits.items()
                if "Flagbot-Job: test-job" in c.message
            ]
            repo.git.refs["refs/heads/main"] = mine
            h.push({"flags/other.yaml": "name: Other\n"}, now, "Add other (#7)")

        h.emulator.faults.fail(PATCH_REF, 502, times=1)
        h.emulator.faults.before_call(GET_REF, lands_then_a_merge, nth=2)
        start = h.head()
        report = h.run(now, job_id="test-job", connection=h.connection(retries=0))
        [result] = report.results
        assert report.ok and result.outcome == "bumped"
        mine, person = h.commits_since(start)
        assert result.commit_sha == mine.sha and person.title == "Add other (#7)"
        assert h.emulator.calls.count("GET", "/repos/{owner}/{repo}/compare/{basehead}") == 1
        assert h.file(FLOW_PATH) == flow_at(50, now).encode()


def test_a_pull_request_merged_with_a_merge_commit_starts_its_stage_at_the_merge(tmp_path):
    """merge_method: merge. The newest commit touching the file is the pull request's own,
    written hours before the merge; the stage took effect when the merge commit put it on the
    branch, so the clock starts there (SPEC: the merge of the pull request that set it)."""
    opened, merged = T0, T0 + 3 * HOUR
    with harness(
        {FLOW_PATH: flow_at(5, None), ".github/flagbot.yml": POLICY}, tmp_path, clock=T0 - HOUR
    ) as h:

        def call(method: str, path: str, body: dict) -> dict:
            result = h.emulator.request(method, f"/repos/{REPO}{path}", json_body=body, login="dev")
            assert result.status < 300, result
            return result.body

        def who(at: datetime) -> dict:
            return {"name": "Dev", "email": "dev@example.com", "date": iso(at)}

        base = h.head()
        base_tree = h.emulator.repo(REPO).git.store.commit(base).tree
        change = {"path": FLOW_PATH, "mode": "100644", "type": "blob", "content": flow_at(25, None)}
        tree = call("POST", "/git/trees", {"base_tree": base_tree, "tree": [change]})["sha"]
        pr_commit = call(
            "POST",
            "/git/commits",
            {"message": "Go to 25 %", "tree": tree, "parents": [base],
             "author": who(opened), "committer": who(opened)},
        )  # fmt: skip
        merge = call(
            "POST",
            "/git/commits",
            {"message": "Merge pull request #5", "tree": tree,
             "parents": [base, pr_commit["sha"]], "author": who(merged), "committer": who(merged)},
        )  # fmt: skip
        call("PATCH", "/git/refs/heads/main", {"sha": merge["sha"]})
        start = h.head()
        report = h.run(merged + 15 * MINUTE)  # 4h15 after the pull request's commit
        assert report.results == [] and h.commits_since(start) == []
        [result] = h.run(merged + HOUR).results  # one `every` after the merge
        assert result.outcome == "bumped" and result.bump.to_percentage == 50


def test_a_reverted_bump_restarts_the_clock_from_the_revert(tmp_path):
    """Reverting the job's bump (git revert, merged by pull request) restores the file bytes of
    the stage before, stage record included. It is a person's rollback all the same: the clock
    restarts from its merge (SPEC §7), not from the restored record's time."""
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        [bumped] = h.run(T0 + HOUR).results
        assert bumped.outcome == "bumped" and bumped.bump.to_percentage == 50
        reverted_at = T0 + HOUR + 20 * MINUTE
        h.push({FLOW_PATH: flow_at(25, T0)}, reverted_at, 'Revert "rollout: 25% → 50%" (#9)')
        start = h.head()
        assert h.run(T0 + HOUR + 30 * MINUTE).results == []
        assert h.run(reverted_at + HOUR - MINUTE).results == []
        assert h.commits_since(start) == []
        [again] = h.run(reverted_at + HOUR).results
        assert again.outcome == "bumped" and again.bump.to_percentage == 50


def test_the_jobs_own_bump_committed_after_its_record_does_not_restart_the_clock(tmp_path):
    """GitHub dates the job's commit a little after the stage record it writes (the run's own
    `now`): that commit changed the percentage, but it is the job's, not a person's
    rollback, so the next stage is due from the record, on time."""
    files = {FLOW_PATH: flow_at(25, T0), ".github/flagbot.yml": POLICY}
    with harness(files, tmp_path, clock=T0) as h:
        h.emulator.clock.set(T0 + HOUR + 2 * MINUTE)  # GitHub's time when the commit lands
        [bumped] = h.run(T0 + HOUR).results
        assert bumped.outcome == "bumped" and bumped.bump.to_percentage == 50
        h.emulator.clock.set(T0 + 2 * HOUR)
        [again] = h.run(T0 + 2 * HOUR).results
        assert again.outcome == "bumped" and again.bump.to_percentage == 75


def test_due_flags_only_the_jobs_own_commits_touched_cost_one_listing_not_a_read_each(tmp_path):
    """Whether a person changed a due flag since its record (a revert) is asked of the
    branch's commits since the oldest record, the job's own left out: with only the job's
    bump since, no flag's own history is read."""
    other = FLOW_PATH.replace("new_checkout_flow", "other_flow")
    files = {
        FLOW_PATH: flow_at(25, T0),
        other: flow_at(25, T0).replace("New checkout flow", "Other flow"),
        ".github/flagbot.yml": POLICY,
    }
    with harness(files, tmp_path, clock=T0) as h:
        assert [r.outcome for r in h.run(T0 + HOUR).results] == ["bumped", "bumped"]
        mark = len(h.emulator.calls.calls())
        results = h.run(T0 + 2 * HOUR).results
        assert [r.bump.to_percentage for r in results] == [75, 75]
        listings = [
            c
            for c in h.emulator.calls.calls()[mark:]
            if (c.method, c.route) == ("GET", "/repos/{owner}/{repo}/commits")
        ]
        assert len(listings) == 1 and "path" not in listings[0].query

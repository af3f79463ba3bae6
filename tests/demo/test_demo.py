"""`flagbot demo` end to end: the story it prints, and the emulated repository it leaves.

The demo runs once per test worker (a module fixture, in process, with `--keep`); the tests
read its output and query the emulated GitHub it left behind. One test runs it as users do,
`python -m bot demo`, in a subprocess.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from bot.demo.page import Page
from bot.demo.play import Outcome, play
from bot.demo.seed import KILL_SWITCH, NEW_FLAG, REPO
from bot.demo.style import Style
from bot.emulator.people import Person
from tests.conftest import ROOT

TRAILER = re.compile(r"^[A-Z][A-Za-z-]*-by: \S+$", re.MULTILINE)
CHANNELS = ("releases-slack", "stakeholders", "audit-log")


@dataclass
class Played:
    outcome: Outcome
    text: str
    kept: Path

    @property
    def github(self) -> Person:
        assert self.outcome.emulator is not None
        return self.outcome.emulator.person("dev")

    def commits_on_main(self, path: str) -> list[dict]:
        return self.github.get(f"/repos/{REPO}/commits?sha=main&path={path}&per_page=100")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    kept = tmp_path_factory.mktemp("kept") / "acme-flags"
    out = io.StringIO()
    outcome = asyncio.run(play(Page(out, Style(color=False)), ROOT, kept))
    return Played(outcome, out.getvalue(), kept)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --- what it prints ----------------------------------------------------------------------------


def test_the_story_shows_each_check_run_title_in_order(played: Played) -> None:
    titles = [
        "Waiting for manager approval",
        "Waiting for QA validation",
        "Merged",
        "Rejected: 2 validation errors",
        "Waiting for oncall approval",
        "Merged",
    ]
    at = 0
    for title in titles:
        found = played.text.find(title, at)
        assert found > at, f"{title!r} not shown after offset {at}"
        at = found


def test_who_may_approve_is_shown_from_the_check_run(played: Played) -> None:
    step_one = played.text.split("── 2")[0]
    assert re.search(r"○ manager approval\s+—\s+@acme/eng-managers \(mgr\)", step_one)
    assert re.search(r"○ QA validation\s+—\s+@acme/qa \(qa\)", step_one)


def test_the_merge_commit_and_its_trailers_are_shown(played: Played) -> None:
    merged = played.outcome.pulls[0]
    assert merged.merge_sha
    assert f"{merged.merge_sha[:7]} flagbot: create new_checkout_flow (#1)" in played.text
    for trailer in ("Requested-by: dev", "Manager-approved-by: mgr", "QA-validated-by: qa"):
        assert trailer in played.text
    assert "Oncall-approved-by: oncall" in played.text


def test_the_notifications_are_shown_as_their_receivers_got_them(played: Played) -> None:
    step_three = played.text.split("── 3")[1].split("── 4")[0]
    assert "“[acme/flags] flag change applied: create new_checkout_flow (production)”" in step_three
    assert re.search(r"releases-slack\s+Slack: create new_checkout_flow \(production\)", step_three)
    assert re.search(r"stakeholders\s+e-mail to product@acme.example, support-leads@", step_three)
    assert re.search(
        r"audit-log\s+JSON flag_change_applied, signed ✓: flag_key new_chec", step_three
    )


def test_the_rejection_names_file_line_and_column(played: Played) -> None:
    flag = (ROOT / NEW_FLAG).read_text()
    pct = line_of(flag, "percentage:")
    every = line_of(flag, "every:")
    assert (
        f"{NEW_FLAG}:{pct}:15  rollout.percentage must be between 0 and 100, got 120" in played.text
    )
    assert f"{NEW_FLAG}:{every}:10  rollout.every must be at least 5m, got 1m" in played.text
    assert re.search(rf"\n\s+{pct} \|   percentage: 120 ", played.text)


def test_the_timeline_walks_every_stage_with_a_bar(played: Played) -> None:
    rows = re.findall(r"^  (\d\d:\d\d)  ([█░]{20})\s+(\d+)%  (\w+)", played.text, re.MULTILINE)
    assert [(pct, stage) for _, _, pct, stage in rows] == [
        ("5", "initial"),
        ("25", "early"),
        ("50", "half"),
        ("75", "majority"),
        ("100", "full"),
    ]
    assert [bar.count("█") for _, bar, _, _ in rows] == [1, 5, 10, 15, 20]
    times = [datetime.strptime(t, "%H:%M") for t, _, _, _ in rows]
    assert all(b - a >= timedelta(minutes=60) for a, b in pairwise(times))
    assert "nothing due: 5% for 52m of 60m" in played.text
    assert "nothing due: the rollout is complete, and nobody is told twice" in played.text


def test_the_completion_notice_is_shown_once_at_the_end(played: Played) -> None:
    timeline = played.text.split("── 6")[1].split("── what happened")[0]
    notice = "rollout complete: new_checkout_flow (production) at 100%"
    assert timeline.count(notice) == 1
    assert line_of(timeline, notice) == line_of(timeline, "75% → 100% (full)") + 1


def test_the_summary_counts_what_happened(played: Played) -> None:
    assert "15 received (releases-slack 5, stakeholders 5, audit-log 5)" in played.text
    assert re.search(r"job\s+rollout new_checkout_flow\s+5% → 100%\s+4 commits", played.text)
    assert f"git -C {played.kept} log --format=fuller" in played.text


# --- what it left on the emulated GitHub -------------------------------------------------------


def test_the_new_flag_was_merged_with_its_approvals(played: Played) -> None:
    pull = played.github.pr(REPO, 1)
    assert pull["merged"] and pull["merged_by"]["login"] == "flagbot[bot]"
    message = played.github.get(f"/repos/{REPO}/commits/{pull['merge_commit_sha']}")["commit"][
        "message"
    ]
    assert TRAILER.findall(message) == [
        "Requested-by: dev",
        "Manager-approved-by: mgr",
        "QA-validated-by: qa",
    ]


def test_the_bad_change_stays_open_with_annotations_on_its_lines(played: Played) -> None:
    pull = played.github.pr(REPO, 2)
    assert pull["state"] == "open" and not pull["merged"]
    head = pull["head"]["sha"]
    [run] = played.github.get(f"/repos/{REPO}/commits/{head}/check-runs")["check_runs"]
    assert (run["conclusion"], run["output"]["title"]) == (
        "failure",
        "Rejected: 2 validation errors",
    )
    notes = played.github.get(f"/repos/{REPO}/check-runs/{run['id']}/annotations")
    text = base64.b64decode(
        played.github.get(f"/repos/{REPO}/contents/{NEW_FLAG}?ref={head}")["content"]
    ).decode()
    lines = text.splitlines()
    found = {(n["path"], lines[n["start_line"] - 1].split("#")[0].strip()) for n in notes}
    assert found == {(NEW_FLAG, "percentage: 120"), (NEW_FLAG, "every: 1m")}


def test_the_emergency_needed_only_on_call(played: Played) -> None:
    pull = played.github.pr(REPO, 3)
    assert pull["merged"]
    message = played.github.get(f"/repos/{REPO}/commits/{pull['merge_commit_sha']}")["commit"][
        "message"
    ]
    assert TRAILER.findall(message) == ["Requested-by: dev", "Oncall-approved-by: oncall"]
    reviews = played.github.get(f"/repos/{REPO}/pulls/3/reviews")
    assert [r["user"]["login"] for r in reviews] == ["oncall"]
    assert played.github.file_sha(REPO, KILL_SWITCH, "main") is not None


def test_main_ends_at_100_percent_after_exactly_four_bumps_an_hour_apart(played: Played) -> None:
    commits = played.commits_on_main(NEW_FLAG)  # newest first
    titles = [c["commit"]["message"].splitlines()[0] for c in commits]
    bumps = [t for t in titles if t.startswith("rollout: new_checkout_flow")]
    assert bumps == [
        "rollout: new_checkout_flow 75% → 100% (full)",
        "rollout: new_checkout_flow 50% → 75% (majority)",
        "rollout: new_checkout_flow 25% → 50% (half)",
        "rollout: new_checkout_flow 5% → 25% (early)",
    ]
    assert titles[-1] == "flagbot: create new_checkout_flow (#1)"
    assert titles[0] == "flagbot: toggle new_checkout_flow (#4)"  # the last chapter's switch-off
    walked = [c for c in commits if not c["commit"]["message"].startswith("flagbot: toggle")]
    dates = [datetime.fromisoformat(c["commit"]["committer"]["date"]) for c in walked]
    assert all(a - b >= timedelta(minutes=60) for a, b in pairwise(dates))
    content = played.github.get(f"/repos/{REPO}/contents/{NEW_FLAG}?ref=main")["content"]
    text = base64.b64decode(content).decode()
    assert "percentage: 100 " in text and "enabled: false" in text


def test_each_channel_got_each_announcement_once(played: Played) -> None:
    assert played.outcome.received == dict.fromkeys(CHANNELS, 5)  # 3 merges, 2 rollouts


def test_the_shops_unleash_sdk_follows_each_stage_and_the_switch_off_in_one_poll(
    played: Played,
) -> None:
    app = played.outcome.application
    if app is None:
        pytest.skip("the Unleash SDK is not installed (the demo extra)")
    seen = [(s.percentage, s.served) for s in app.seen]
    # each count was checked against flagbot's evaluator as the demo ran (StoryFailed if not)
    assert [p for p, _ in seen] == [5, 25, 50, 75, 100, 100]
    served = [n for _, n in seen]
    assert all(abs(n - 100 * p) <= 100 for p, n in seen[:5]), seen  # within 1 point
    assert served[4] == 10_000 and served[5] == 0
    chapter = played.text.split("── 7")[1]
    assert "0 of 10,000 customers get new_checkout_flow" in chapter
    assert "Oncall-approved-by: oncall" in chapter


# --- --keep --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_keep_writes_a_git_repository_with_the_bumps_and_trailers(played: Played) -> None:
    assert played.outcome.kept is not None and played.outcome.kept.checked_out

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(played.kept), *args], capture_output=True, text=True, check=True
        ).stdout

    subjects = git("log", "--format=%s", "main").splitlines()
    assert sum(s.startswith("rollout: new_checkout_flow") for s in subjects) == 4
    full = git("log", "--format=full", "main")
    assert "Manager-approved-by: mgr" in full and "Flagbot-Job: demo-run-" in full
    assert git("status", "--porcelain") == ""
    assert "percentage: 100 " in (played.kept / NEW_FLAG).read_text()
    assert "enabled: false" in (played.kept / NEW_FLAG).read_text()
    assert {"main", "new-checkout-flow", "faster-checkout", "payments-off"} <= set(
        git("branch", "--format=%(refname:short)").split()
    )


# --- as users run it -----------------------------------------------------------------------------


def test_python_m_bot_demo_exits_0_with_the_story_and_no_log_noise(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the files come from the checkout holding `bot/`, wherever it runs
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "\x1b[" not in done.stdout
    assert "── what happened" in done.stdout
    assert "100%  full" in done.stdout

"""`flagbot plan`: each staged rollout's stage, next bump and completion, as text and JSON."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from tests.rollout.gitrepo import commit_files

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

RECORDED = """\
name: New checkout flow
rollout:
  percentage: 25
  stages: [5, 25, 50, 75, 100]
  every: 60m
  stage_started:
    percentage: 25
    at: 2026-11-27T09:00:00Z
"""
MERGED = "name: Beta\nrollout:\n  percentage: 5\n  stages: [initial, early, full]\n  every: 30m\n"
PAUSED = RECORDED.replace("every: 60m", "every: 60m\n  paused: true").replace("New", "Old")
NO_PLAN = "name: Switch\n"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)


def repo(tmp_path, *, history=True):
    files = {
        "flags/new_checkout_flow.yaml": RECORDED,
        "flags/staging/beta.yaml": MERGED,
        "flags/old_flow.yaml": PAUSED,
        "flags/switch.yaml": NO_PLAN,
    }
    if history:
        commit_files(tmp_path, files, T0 - HOUR / 2)
    else:
        for path, text in files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text)
    return tmp_path


def plan_json(capsys, root, now):
    assert main(["plan", "--repo-dir", str(root), "--now", now, "--format", "json"]) == 0
    return {row["key"]: row for row in json.loads(capsys.readouterr().out)}


def test_json_gives_stage_next_bump_and_completion(tmp_path, capsys):
    rows = plan_json(capsys, repo(tmp_path), "2026-11-27T09:15:00Z")
    assert set(rows) == {"new_checkout_flow", "beta", "old_flow"}
    flow = rows["new_checkout_flow"]
    assert flow["state"] == "waiting"
    assert (flow["percentage"], flow["stage"], flow["stage_number"]) == (25, "early", 2)
    assert (flow["started_at"], flow["started_from"]) == ("2026-11-27T09:00:00Z", "recorded")
    assert (flow["next_percentage"], flow["next_due"]) == (50, "2026-11-27T10:00:00Z")
    assert flow["completes_at"] == "2026-11-27T12:00:00Z"  # 50 at 10, 75 at 11, 100 at 12
    beta = rows["beta"]
    assert (beta["environment"], beta["started_from"]) == ("staging", "git")
    assert (beta["started_at"], beta["next_due"]) == (
        "2026-11-27T08:30:00Z",
        "2026-11-27T09:00:00Z",
    )
    assert beta["state"] == "due"
    assert rows["old_flow"]["state"] == "paused" and rows["old_flow"]["next_due"] is None


def test_without_history_or_credentials_the_start_is_unknown(tmp_path, capsys):
    rows = plan_json(capsys, repo(tmp_path, history=False), "2026-11-27T09:15:00Z")
    assert rows["beta"]["state"] == "unknown-start" and rows["beta"]["started_at"] is None
    assert rows["new_checkout_flow"]["state"] == "waiting"  # its record is enough


def test_text_table(tmp_path, capsys):
    root = repo(tmp_path, history=False)
    assert main(["plan", "--repo-dir", str(root), "--now", "2026-11-27T09:15:00Z"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "flag", "stage", "state", "since", "next", "due", "(UTC)", "completes", "(UTC)", "guard",
    ]  # fmt: skip
    flow = next(line for line in lines if line.startswith("new_checkout_flow"))
    assert flow.split() == [
        "new_checkout_flow", "25%", "early", "(2/5)", "waiting", "2026-11-27", "09:00", "50%",
        "2026-11-27", "10:00", "2026-11-27", "12:00", "-",
    ]  # fmt: skip
    assert any(line.startswith("staging/beta") and " unknown " in line for line in lines)
    assert "set GITHUB_TOKEN and GITHUB_REPOSITORY" in out


def test_invalid_file_is_reported_and_exit_is_1(tmp_path, capsys):
    root = repo(tmp_path, history=False)
    (root / "flags" / "bad.yaml").write_text(
        "name: Bad\nrollout:\n  percentage: 120\n  stages: [5, 100]\n"
    )
    assert main(["plan", "--repo-dir", str(root)]) == 1
    assert "flags/bad.yaml:3:15: rollout.percentage" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("now", "message"),
    [("tomorrow", "not an ISO 8601 time"), ("2026-11-27T09:00", "has no time zone")],
)
def test_bad_now_is_a_usage_error(tmp_path, capsys, now, message):
    assert main(["plan", "--repo-dir", str(repo(tmp_path, history=False)), "--now", now]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLAGBOT_RETRIES", "three", "FLAGBOT_RETRIES='three' is not a number"),
        ("GITHUB_API_URL", "api.github.com", "is not an http(s) URL"),
    ],
)
def test_bad_github_settings_are_a_usage_error(tmp_path, capsys, monkeypatch, name, value, message):
    """Asking GitHub for a start time: a setting that cannot work is one line, not a traceback."""
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flags")
    monkeypatch.setenv(name, value)
    assert main(["plan", "--repo-dir", str(repo(tmp_path, history=False))]) == 2
    assert message in capsys.readouterr().err


def test_outside_a_repository_is_a_usage_error(tmp_path, capsys):
    assert main(["plan", "--repo-dir", str(tmp_path)]) == 2
    assert "no flags/ folder" in capsys.readouterr().err


def test_json_shows_the_guard_and_why_a_flag_was_paused(tmp_path, capsys):
    root = repo(tmp_path, history=False)
    path = root / "flags" / "new_checkout_flow.yaml"
    text = path.read_text().replace(
        "  every: 60m",
        "  every: 60m\n  paused: true\n  paused_reason: 'guard http $H: HTTP 404, needs HTTP 200'\n"
        "  guard: {on_failure: rollback, checks: [{http: {url_env: H}}, {check: smoke}]}",
        1,
    )
    path.write_text(text)
    rows = plan_json(capsys, root, "2026-11-27T09:15:00Z")
    row = rows["new_checkout_flow"]
    assert row["state"] == "paused"
    assert row["paused_reason"] == "guard http $H: HTTP 404, needs HTTP 200"
    assert row["guard"] == {
        "on_failure": "rollback",
        "checks": [
            {"kind": "http", "url_env": "H", "expect": 200},
            {"kind": "check", "name": "smoke"},
        ],
    }
    assert main(["plan", "--repo-dir", str(root), "--now", "2026-11-27T09:15:00Z"]) == 0
    out = capsys.readouterr().out
    assert "http $H 200; check 'smoke' → rollback" in out
    assert "flags/new_checkout_flow.yaml paused: guard http $H: HTTP 404, needs HTTP 200" in out


def test_times_from_a_commit_in_another_time_zone_are_shown_in_utc(tmp_path, capsys):
    """A merge committed at 10:30+02:00 (08:30 UTC): plan prints UTC, as its columns say."""
    from datetime import timezone

    cest = timezone(timedelta(hours=2))
    commit_files(tmp_path, {"flags/staging/beta.yaml": MERGED}, (T0 - HOUR / 2).astimezone(cest))
    rows = plan_json(capsys, tmp_path, "2026-11-27T09:15:00Z")
    beta = rows["beta"]
    assert (beta["started_at"], beta["next_due"]) == (
        "2026-11-27T08:30:00Z",
        "2026-11-27T09:00:00Z",
    )
    assert main(["plan", "--repo-dir", str(tmp_path), "--now", "2026-11-27T09:15:00Z"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("staging/beta"))
    assert "2026-11-27 08:30 (merge)" in line and "2026-11-27 09:00" in line

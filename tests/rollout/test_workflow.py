"""The rollout workflows keep the properties the job relies on (SPEC §7)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def test_every_15_minutes_off_the_hour_and_by_hand():
    on = load("rollout.yml")["on"]
    [entry] = on["schedule"]
    minutes, *rest = entry["cron"].split()
    assert rest == ["*", "*", "*", "*"]
    ticks = sorted(int(m) for m in minutes.split(","))
    assert [b - a for a, b in pairwise(ticks)] == [15, 15, 15]
    assert 0 not in ticks
    assert on["workflow_dispatch"]["inputs"]["dry_run"]["type"] == "boolean"


def test_this_repository_bumps_its_example_flags_only_when_a_variable_says_so():
    data = load("rollout.yml")
    assert data["permissions"] == {}
    [job] = data["jobs"].values()
    assert job["if"] == "vars.FLAGBOT_ROLLOUT == 'enabled'"
    assert job["uses"] == "./.github/workflows/flagbot-rollout.yml"
    assert job["permissions"] == {"contents": "write", "checks": "read", "statuses": "read"}


def test_one_run_at_a_time_queued_not_cancelled_with_write_access_only():
    data = load("flagbot-rollout.yml")
    assert "workflow_call" in data["on"]
    assert data["permissions"] == {}
    [job] = data["jobs"].values()
    assert job["concurrency"]["cancel-in-progress"] is False
    # contents to commit; checks and statuses for `check:` guards, read only
    assert job["permissions"] == {"contents": "write", "checks": "read", "statuses": "read"}
    [run] = [s for s in job["steps"] if s.get("uses") == "./.flagbot/.github/actions/flagbot"]
    assert run["with"]["command"] == "rollout"
    assert {"FLAGBOT_SLACK_WEBHOOK_URL", "FLAGBOT_SMTP_URL", "FLAGBOT_GUARD_ENV"} <= set(run["env"])

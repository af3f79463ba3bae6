"""The rollout workflow keeps the properties the job relies on (SPEC §7)."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "rollout.yml"


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def test_every_15_minutes_off_the_hour_and_by_hand():
    on = load()["on"]
    [entry] = on["schedule"]
    minutes, *rest = entry["cron"].split()
    assert rest == ["*", "*", "*", "*"]
    ticks = sorted(int(m) for m in minutes.split(","))
    assert [b - a for a, b in pairwise(ticks)] == [15, 15, 15]
    assert 0 not in ticks
    assert on["workflow_dispatch"]["inputs"]["dry_run"]["type"] == "boolean"


def test_one_run_at_a_time_queued_not_cancelled_with_write_access():
    data = load()
    assert data["concurrency"]["cancel-in-progress"] is False
    # contents to commit; checks and statuses for `check:` guards, read only
    assert data["permissions"] == {"contents": "write", "checks": "read", "statuses": "read"}


def test_actions_and_python_are_pinned():
    [job] = load()["jobs"].values()
    uses = [step["uses"] for step in job["steps"] if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+\.\d+\.\d+", u) for u in uses), uses
    [python] = [
        s["with"]["python-version"] for s in job["steps"] if "setup-python" in s.get("uses", "")
    ]
    assert re.fullmatch(r"3\.\d+", python)
    run = next(s for s in job["steps"] if "flagbot rollout" in s.get("run", ""))
    assert {"GITHUB_TOKEN", "FLAGBOT_COMMITTER"} <= set(run["env"])

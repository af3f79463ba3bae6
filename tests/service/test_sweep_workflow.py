"""The sweep workflow keeps what the sweep relies on: off-the-hour cron, one run at a time,
flagbot's own App credentials, the command it runs accepting its arguments."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import yaml

from bot.cli import build_parser

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "sweep.yml"


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def test_every_15_minutes_off_the_hour_one_run_at_a_time_read_only():
    data = load()
    [entry] = data["on"]["schedule"]
    minutes, *rest = entry["cron"].split()
    ticks = sorted(int(m) for m in minutes.split(","))
    assert rest == ["*"] * 4 and 0 not in ticks
    assert [b - a for a, b in pairwise(ticks)] == [15, 15, 15]
    assert "workflow_dispatch" in data["on"]
    assert data["concurrency"]["cancel-in-progress"] is False
    assert data["permissions"] == {"contents": "read"}  # it acts as the App, not as the job


def test_runs_flagbot_sweep_as_the_app_with_pinned_actions():
    [job] = load()["jobs"].values()
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+\.\d+\.\d+", u) for u in uses), uses
    [step] = [s for s in job["steps"] if "flagbot sweep" in s.get("run", "")]
    assert {"GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_API_URL"} <= set(step["env"])
    argv = step["run"].replace('"${{ github.repository }}"', "acme/flags").split()[1:]
    args = build_parser().parse_args(argv)
    assert args.command == "sweep" and args.repo == ["acme/flags"]

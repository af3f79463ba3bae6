"""The sweep workflow keeps what the sweep relies on: off-the-hour cron, one run at a time,
flagbot's own App credentials, the command it runs accepting its arguments.

This repository's `sweep.yml` calls the reusable `flagbot-sweep.yml`, which mints the App's
token and runs the composite action's `sweep` command."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import yaml

from bot.cli import build_parser

GITHUB = Path(__file__).resolve().parents[2] / ".github"


def load(name: str) -> dict:
    data = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def test_every_15_minutes_off_the_hour_one_run_at_a_time_read_only():
    data = load("sweep.yml")
    [entry] = data["on"]["schedule"]
    minutes, *rest = entry["cron"].split()
    ticks = sorted(int(m) for m in minutes.split(","))
    assert rest == ["*"] * 4 and 0 not in ticks
    assert [b - a for a, b in pairwise(ticks)] == [15, 15, 15]
    assert "workflow_dispatch" in data["on"]
    [caller] = data["jobs"].values()
    assert caller["uses"] == "./.github/workflows/flagbot-sweep.yml"
    assert caller["permissions"] == {"contents": "read"}  # it acts as the App, not as the job
    [job] = load("flagbot-sweep.yml")["jobs"].values()
    assert job["concurrency"]["cancel-in-progress"] is False
    assert job["permissions"] == {"contents": "read"}


def test_runs_flagbot_sweep_as_the_app():
    [job] = load("flagbot-sweep.yml")["jobs"].values()
    [app] = [s for s in job["steps"] if "create-github-app-token" in s.get("uses", "")]
    assert app["with"]["private-key"] == "${{ secrets.FLAGBOT_APP_PRIVATE_KEY }}"
    [run] = [s for s in job["steps"] if s.get("uses") == "./.flagbot/.github/actions/flagbot"]
    assert run["with"]["command"] == "sweep"
    assert run["with"]["github-token"] == "${{ steps.app.outputs.token }}"
    action = (GITHUB / "actions" / "flagbot" / "action.yml").read_text()
    [command] = re.findall(r"exec (flagbot sweep .*)", action)
    argv = command.replace('"$GITHUB_REPOSITORY"', "acme/flags").split()[1:]
    args = build_parser().parse_args(argv)
    assert args.command == "sweep" and args.repo == ["acme/flags"]

"""`flagbot plan`: where every staged rollout stands, when it moves next, when it completes.

When a file does not record when its stage began (a person set the percentage), the time is
the newest commit touching it: from the local git history if it is complete, else from GitHub
if `GITHUB_TOKEN` and `GITHUB_REPOSITORY` are set, else it is shown as unknown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

HELP = "show each staged rollout: current stage, next bump, completion"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo-dir", metavar="DIR", help="the checkout (default: .)")
    parser.add_argument("--now", metavar="ISO", help="show the plan as of this moment")
    parser.add_argument("--format", choices=("text", "json"), default="text")


@dataclass(frozen=True, slots=True)
class Row:
    status: Any  # bot.rollout.schedule.PlanStatus
    source: str | None  # recorded | git | github | None (unknown)


def run(args: argparse.Namespace) -> int:
    from bot.commands.rollout import UsageError, parse_now, repo_dir
    from bot.diagnostics import format_text, has_errors
    from bot.rollout.checkout import read_checkout
    from bot.rollout.history import has_full_history, last_changes
    from bot.rollout.preflight import reader_from_env
    from bot.rollout.remote import RemoteError
    from bot.rollout.schedule import needs_start_time, recorded_start, status

    try:
        root = repo_dir(args.repo_dir)
        now = parse_now(args.now)
    except UsageError as exc:
        print(f"flagbot plan: {exc}", file=sys.stderr)
        return 2
    checkout = read_checkout(root)
    asking = [f.path for f in checkout.planned if needs_start_time(f)]
    started: dict[str, datetime] = {}
    source: dict[str, str] = {}
    if asking and has_full_history(root):
        started = last_changes(root, asking)
        source = dict.fromkeys(started, "git")
    missing = [p for p in asking if p not in started]
    env = os.environ
    if missing and env.get("GITHUB_TOKEN") and env.get("GITHUB_REPOSITORY"):
        try:
            remote = reader_from_env(env)
        except ValueError as exc:
            print(f"flagbot plan: {exc}", file=sys.stderr)
            return 2
        try:
            for path in missing:
                change = remote.last_change(path)
                if change is not None:
                    started[path] = change.committed_at
                    source[path] = "github"
        except RemoteError as exc:
            print(f"flagbot plan: could not ask GitHub: {exc}", file=sys.stderr)
    rows = []
    for flag in checkout.planned:
        st = status(flag, started.get(flag.path), now)
        src = "recorded" if recorded_start(flag) else source.get(flag.path)
        rows.append(Row(st, src if st.started_at else None))
    if args.format == "json":
        print(json.dumps([as_json(r) for r in rows], indent=2))
    else:
        print(render(rows, now, checkout.default_environment))
    if checkout.diagnostics:
        print(format_text(checkout.diagnostics), file=sys.stderr)
    return 1 if has_errors(checkout.diagnostics) else 0


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "-"


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


STATE_WORDS = {
    "due": "due now",
    "waiting": "waiting",
    "complete": "complete",
    "paused": "paused",
    "disabled": "disabled",
    "inactive": "inactive",
    "unknown-start": "unknown",
}


def render(rows: Sequence[Row], now: datetime, default_environment: str) -> str:
    """A plain table, times in UTC."""
    from bot.rollout.schedule import fmt_pct, stage_label

    if not rows:
        return "no flag has a staged rollout plan (rollout.stages)"
    from bot.flags.guard import describe_guard

    header = (
        "flag", "stage", "state", "since", "next", "due (UTC)", "completes (UTC)", "guard",
    )  # fmt: skip
    table = [header]
    for row in rows:
        st = row.status
        flag = st.flag
        stages = flag.rollout.stages
        name = flag.key
        if flag.environment != default_environment:
            name = f"{flag.environment}/{flag.key}"
        stage = f"{fmt_pct(st.percentage)}% {stage_label(stages, st.stage_index)}"
        stage += f" ({st.stage_index + 1}/{len(stages)})"
        since = _time(st.started_at) + (" (merge)" if row.source in ("git", "github") else "")
        table.append(
            (
                name,
                stage,
                STATE_WORDS[st.state],
                since,
                f"{fmt_pct(st.next_percentage)}%" if st.next_percentage is not None else "-",
                _time(st.next_due),
                _time(st.completes_at),
                describe_guard(flag.rollout.guard),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"as of {_time(now)} UTC"]
    for row in rows:
        reason = row.status.flag.rollout.paused_reason
        if row.status.state == "paused" and reason:
            notes.append(f"{row.status.flag.path} paused: {reason}")
    if any(r.status.state == "unknown-start" for r in rows):
        notes.append(
            "unknown: the file does not record when its stage began and no history dates it "
            "here (shallow clone?); set GITHUB_TOKEN and GITHUB_REPOSITORY to ask GitHub"
        )
    return "\n".join([*lines, "", *notes])


def as_json(row: Row) -> dict[str, Any]:
    from bot.rollout.schedule import stage_label

    st = row.status
    flag = st.flag
    r = flag.rollout
    return {
        "path": flag.path,
        "key": flag.key,
        "environment": flag.environment,
        "percentage": st.percentage,
        "stage": stage_label(r.stages, st.stage_index),
        "stage_number": st.stage_index + 1,
        "stages": list(r.stages),
        "every_minutes": int(r.every.total_seconds() // 60),
        "state": st.state,
        "started_at": _iso(st.started_at),
        "started_from": row.source,
        "next_percentage": st.next_percentage,
        "next_due": _iso(st.next_due),
        "completes_at": _iso(st.completes_at),
        "paused_reason": r.paused_reason,
        "guard": {
            "on_failure": r.guard.on_failure,
            "checks": [guard_json(c) for c in r.guard.checks],
        },
    }


def guard_json(check: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from bot.flags.guard import CheckGuard, PrometheusGuard

    kind = (
        "check"
        if isinstance(check, CheckGuard)
        else "prometheus"
        if isinstance(check, PrometheusGuard)
        else "http"
    )
    return {"kind": kind, **{k: v for k, v in asdict(check).items() if v is not None}}

"""`flagbot rollout`: evaluate the guards of every staged rollout in progress, then move each
due one a stage (or pause it when a guard failed), all in one commit.

Runs in the checkout of the branch it commits to (Actions: `GITHUB_TOKEN`, `GITHUB_REPOSITORY`,
`GITHUB_API_URL`, `GITHUB_REF_NAME`). Exit 0 when everything due was bumped (or found done by
another run) and every announcement went out; 1 when something failed or a flag file or
flagbot.yml is invalid; 2 on a usage problem.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.rollout.job import JobReport

HELP = (
    "check the guards and commit the staged rollout bumps that are due "
    "(run on a schedule by GitHub Actions)"
)


class UsageError(Exception):
    pass


def parse_now(text: str | None) -> datetime:
    """`--now` as an aware UTC datetime, whole seconds (what the job records)."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO 8601 time; write e.g. 2026-11-27T10:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise UsageError(f"--now {text!r} has no time zone; add Z (UTC) or an offset like +01:00")
    return value.astimezone(UTC).replace(microsecond=0)


def repo_dir(raw: str | None) -> Path:
    root = Path(raw or ".").resolve()
    if not (root / "flags").is_dir():
        raise UsageError(f"no flags/ folder in {root}; run it in the repository or pass --repo-dir")
    return root


def job_id(env: Mapping[str, str]) -> str:
    """The workflow run (unique per attempt) when in Actions; a random id otherwise."""
    run = env.get("GITHUB_RUN_ID")
    if run and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{run}/attempts/{attempt}"
    return f"local-{uuid.uuid4().hex[:16]}"


def seconds(text: str) -> float:
    """A pause: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo-dir", metavar="DIR", help="the checkout (default: .)")
    parser.add_argument(
        "--now",
        metavar="ISO",
        help="act as if it were this moment (recorded in the file and as the commit date)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be bumped; write nothing"
    )
    parser.add_argument(
        "--branch",
        help="branch to commit to (default: GITHUB_REF_NAME, else the repository's default)",
    )
    parser.add_argument(
        "--committer",
        metavar="'NAME <EMAIL>'",
        help="author and committer of bump commits (default: FLAGBOT_COMMITTER, else "
        "github-actions[bot])",
    )
    parser.add_argument(
        "--write-pause",
        type=seconds,
        metavar="SECONDS",
        help="pause between writes (default: FLAGBOT_WRITE_PAUSE, else 1; GitHub asks for >= 1)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="how to print problems in flag files: text, or github (Actions annotations)",
    )


def run(args: argparse.Namespace) -> int:
    from bot.diagnostics import FORMATTERS
    from bot.rollout.checkout import read_checkout
    from bot.rollout.history import has_full_history, last_changes
    from bot.rollout.job import JobOptions, remote_start_times, run_job
    from bot.rollout.preflight import check_remote, check_settings
    from bot.rollout.remote import ACTIONS_BOT, Connection, Identity, RemoteRepo, env_branch

    env = dict(os.environ)
    try:
        root = repo_dir(args.repo_dir)
        now = parse_now(args.now)
        committer = (
            Identity.parse(args.committer or env["FLAGBOT_COMMITTER"])
            if args.committer or env.get("FLAGBOT_COMMITTER")
            else ACTIONS_BOT
        )
        connection = Connection.from_env(env, write_pause=args.write_pause)
        check_settings(connection)
    except (UsageError, ValueError) as exc:
        print(f"flagbot rollout: {exc}", file=sys.stderr)
        return 2
    online = bool(connection.token and connection.repository)
    if not online and not args.dry_run:
        print(
            "flagbot rollout: GITHUB_TOKEN and GITHUB_REPOSITORY must be set to commit bumps "
            "(Actions sets them; give the job `permissions: contents: write`); "
            "use --dry-run to only see what is due",
            file=sys.stderr,
        )
        return 2

    problem = check_remote(connection) if online else None
    if problem:
        print(f"flagbot rollout: {problem}", file=sys.stderr)
        return 2

    checkout = read_checkout(root)
    remote = RemoteRepo.connect(connection, args.branch or env_branch(env)) if online else None
    start_times = None
    if remote is None and has_full_history(root):
        start_times = lambda paths: last_changes(root, paths)  # noqa: E731
    elif remote is not None:
        start_times = remote_start_times(remote)
    options = JobOptions(
        now=now, job_id=job_id(env), committer=committer, dry_run=args.dry_run, env=env
    )
    report = run_job(
        checkout,
        remote,  # a dry run still reads (check guards, dates), and writes nothing
        options,
        start_times=start_times,
        log=lambda line: print(line, flush=True),
    )
    if report.diagnostics:
        print(FORMATTERS[args.format](report.diagnostics), file=sys.stderr)
    for note in report.notes:
        print(f"flagbot rollout: note: {note}", file=sys.stderr)
    for problem in report.problems:
        print(f"flagbot rollout: {problem}", file=sys.stderr)
    print(summary(report, args.dry_run, now), file=sys.stderr)
    write_step_summary(report, checkout.default_environment, env, args.dry_run)
    return 0 if report.ok else 1


def write_step_summary(
    report: JobReport, default_environment: str, env: Mapping[str, str], dry_run: bool
) -> None:
    """Append the run's table to `$GITHUB_STEP_SUMMARY` when Actions set it."""
    from bot.rollout.summary import render

    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    title = "flagbot rollout (dry run)" if dry_run else "flagbot rollout"
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(render(report, default_environment, title))
    except OSError as exc:
        print(f"flagbot rollout: could not write the job summary: {exc}", file=sys.stderr)


def summary(report: JobReport, dry_run: bool, now: datetime) -> str:
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    parts = [f"{n} {outcome}" for outcome, n in sorted(counts.items())]
    due = len(report.results)
    when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    head = (
        f"{report.planned} flag(s) with a plan at {when}, {len(report.tracked)} in progress: "
        f"{due} due"
    )
    tail = f" ({', '.join(parts)})" if parts else ""
    note = "; dry run, nothing written" if dry_run else ""
    return head + tail + note

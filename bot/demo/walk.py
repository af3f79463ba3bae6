"""The rollout half of the demo: the real rollout job (`bot.rollout.job.run_job`), run as the
scheduled workflow would run it, on a simulated clock, until the new flag is at 100 %.

Each run gets a fresh checkout of main and a fresh App installation token, acts as of its
scheduled minute (`JobOptions.now`, which also dates its commits), and commits through
PyGithub over HTTP to the emulated GitHub, exactly as `flagbot rollout` does in Actions. The
job is synchronous, so it runs in a worker thread while the event loop keeps serving GitHub,
the bot and the notification receivers.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from bot.demo.checkout import checkout
from bot.demo.receivers import Inbox
from bot.demo.seed import INSTALLATION_ID, REPO
from bot.demo.story import StoryFailed, expect
from bot.demo.timeline import Bumped, Run, runs_after
from bot.rollout.checkout import Checkout, read_checkout
from bot.rollout.job import JobOptions, JobReport, run_job
from bot.rollout.remote import Connection, Identity, RemoteRepo
from bot.sandbox import Sandbox

STEP = "6"
MAX_RUNS = 4 * 24  # a day of runs every 15 minutes


@dataclass
class Walk:
    runs: list[Run] = field(default_factory=list)
    calls: int = 0  # GitHub API calls the job made

    def bumps_of(self, path: str) -> list[Bumped]:
        return [b for r in self.runs for b in r.bumps if b.path == path]


async def walk(
    stack: Sandbox,
    inbox: Inbox,
    featured: str,
    start: datetime,
    minutes: tuple[int, ...],
    after_run: Callable[[Run], Awaitable[None]] | None = None,
) -> Walk:
    """Run the job at each scheduled time after `start` until `featured` is complete, and once
    more (to show nothing moves, and nobody is told twice). `after_run` sees each run once its
    commits and their webhooks have settled (the demo's application polls there)."""
    emulator = stack.emulator
    bot = emulator.state.app(next(iter(emulator.private_keys))).bot
    committer = Identity(bot.login, bot.noreply_email)
    app = emulator.as_app(INSTALLATION_ID)
    result = Walk()
    first_call = len(emulator.calls) + 1
    complete_at: datetime | None = None
    with tempfile.TemporaryDirectory(prefix="flagbot-demo-") as tmp:
        for number, at in enumerate(runs_after(start, minutes), start=1):
            if number > MAX_RUNS:
                raise StoryFailed(STEP, f"{featured} is not at 100% after {MAX_RUNS} runs")
            emulator.clock.set(at)
            root = Path(tmp) / f"run-{number}"
            checkout(app, REPO, "main", root)
            files = read_checkout(root)
            connection = Connection(
                REPO,
                emulator.installation_token(INSTALLATION_ID),
                stack.api_url,
                write_pause=0,
                request_pause=0,
                backoff=0,
            )
            options = JobOptions(
                now=at, job_id=f"demo-run-{number}", committer=committer, env=dict(inbox.env)
            )
            mark = len(inbox.received)
            report = await asyncio.to_thread(_run_job, files, connection, options)
            await stack.settle()
            problems = [*report.problems, *(str(d) for d in report.diagnostics)]
            problems += [f"{r.path}: {r.detail}" for r in report.results if r.outcome == "failed"]
            problems += [f"{d.channel}: {d.detail}" for d in report.deliveries if not d.ok]
            expect(report.ok, STEP, f"the rollout job at {at:%H:%M} failed: {'; '.join(problems)}")
            bumps = tuple(
                Bumped(
                    r.path,
                    r.bump.from_percentage,
                    r.bump.to_percentage,
                    r.bump.stage,
                    r.commit_sha or "",
                    r.bump.message(files.default_environment),
                )
                for r in report.bumped()
            )
            order = [c.name for c in inbox.channels]
            arrived = sorted(inbox.since(mark), key=lambda n: order.index(n.channel))
            run = Run(at, bumps, tuple((n.channel, n.subject) for n in arrived))
            result.runs.append(run)
            if after_run is not None:
                await after_run(run)
            if complete_at is not None:
                break
            if any(b.path == featured and b.to_percentage >= 100 for b in bumps):
                complete_at = at
    result.calls = len(emulator.calls.calls(since=first_call))
    return result


def _run_job(files: Checkout, connection: Connection, options: JobOptions) -> JobReport:
    return run_job(files, RemoteRepo.connect(connection, "main"), options)


def check_walk(
    result: Walk,
    featured: str,
    key: str,
    stages: tuple[float, ...],
    every: timedelta,
    start: datetime,
    channels: list[str],
) -> None:
    """The story's claims about the rollout, checked on what happened."""
    bumps = result.bumps_of(featured)
    steps = [(b.from_percentage, b.to_percentage) for b in bumps]
    wanted = list(pairwise(stages))
    expect(steps == wanted, STEP, f"{featured} went {steps}, expected {wanted}")
    times = [start] + [r.at for r in result.runs for b in r.bumps if b.path == featured]
    early = [f"{t:%H:%M}" for a, t in pairwise(times) if t - a < every]
    expect(not early, STEP, f"bumped before a stage had lasted {every}: {early}")
    final = next(r for r in result.runs for b in r.bumps if b.path == featured and b is bumps[-1])
    announced = [c for c, what in final.notices if "rollout complete" in what and key in what]
    expect(
        sorted(announced) == sorted(channels),
        STEP,
        f"{key} completion reached {announced}, expected each of {channels} once",
    )
    early_notice = [n for r in result.runs if r.at < final.at for n in r.notices if key in n[1]]
    expect(not early_notice, STEP, f"{key} announced before completing: {early_notice}")
    later = [n for r in result.runs if r.at > final.at for n in r.notices]
    expect(not later, STEP, f"announced again after completing: {later}")

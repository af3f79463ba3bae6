"""The demo from start to end: the stack, the story, the rollout, the summary, `--keep`."""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.demo.application import (
    Application,
    application,
    read_token,
    sdk_available,
    seen_lines,
    switch_off,
)
from bot.demo.keep import Kept, check_target, keep
from bot.demo.page import Page
from bot.demo.receivers import Inbox, receivers
from bot.demo.render import columns, wrap
from bot.demo.seed import (
    CAST,
    NEW_FLAG,
    POLICY,
    REPO,
    WORKFLOW,
    build_seed,
    repository_files,
)
from bot.demo.story import Pull, Story, StoryFailed
from bot.demo.timeline import Run, Start, timeline, workflow_minutes
from bot.demo.walk import Walk, check_walk, walk
from bot.emulator.emulator import Emulator
from bot.exports.access import ReadTokens
from bot.flags.model import Flag
from bot.flags.repository import load_with_policy
from bot.policy.config import load_policy
from bot.policy.model import Policy
from bot.rollout.schedule import fmt_pct, stage_label
from bot.sandbox import Sandbox

DAY = datetime(2026, 12, 1, tzinfo=UTC)  # the simulated day (a Tuesday)
FIRST_COMMIT = DAY + timedelta(hours=8, minutes=30)


@dataclass
class Outcome:
    """What the demo did, for the summary and for tests."""

    pulls: list[Pull] = field(default_factory=list)
    walk: Walk | None = None
    application: Application | None = None  # the shop reading the flags (Unleash SDK)
    received: dict[str, int] = field(default_factory=dict)  # channel -> notifications
    service_calls: int = 0
    deliveries: int = 0
    kept: Kept | None = None
    seconds: float = 0.0
    emulator: Emulator | None = None  # the emulated GitHub as the story left it (not serving)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """The service logs through `logging`; the demo shows its own story instead and keeps the
    records (warnings and worse) to print if a step fails."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


async def play(page: Page, root: Path, keep_dir: Path | None = None) -> Outcome:
    started = clock.perf_counter()
    if keep_dir is not None:
        check_target(keep_dir)
    files = repository_files(root)
    source = {p: (root / p).read_text(encoding="utf-8") for p in (NEW_FLAG,)}
    policy = _policy(files[POLICY])
    flag = _flag(source[NEW_FLAG], policy)
    seed = build_seed(files, clock=DAY + timedelta(hours=9), first_commit=FIRST_COMMIT)
    outcome = Outcome()
    token = read_token() if sdk_available() else None
    tokens = ReadTokens.parse(f"{token}={REPO}/production" if token else "")
    async with receivers(policy.channels) as inbox:
        from bot.sandbox import sandbox

        async with sandbox(seed, channel_env=inbox.env, read_tokens=tokens) as stack:
            _introduce(page, stack.api_url, stack.bot_url, files, inbox)
            story = Story(stack, inbox, page, {**files, **source}, policy, DAY)
            n = await story.create_flag()
            await story.manager_approves(n)
            created = await story.qa_validates(n)
            await story.bad_change()
            await story.emergency()
            service_calls = len(stack.emulator.calls.calls())

            assert flag.rollout is not None and created.merged_at is not None
            minutes = workflow_minutes(files.get(WORKFLOW))
            shop: AbstractAsyncContextManager[Application | None] = (
                application(stack.bot_url.removesuffix("/webhook"), token, flag.key)
                if token
                else nullcontext(None)
            )
            async with shop as app:
                result = await _walk_watched(stack, inbox, created.merged_at, minutes, app, flag)
                _rollout_intro(page, flag, minutes, result)
                _chapter_6(page, flag, created, result, policy)
                if app is not None:
                    page.line()
                    text = (
                        "acme's shop reads the flags from flagbot serve (GET /api/client/"
                        "features) with the Unleash SDK, polling after each run of the job; of "
                        "its 10,000 customers:"
                    )
                    page.lines("  " + page.style.dim(line) for line in wrap(text, 92))
                    page.lines(seen_lines(app.seen, flag.key, page.style))
                    last = result.runs[-1].at
                    await switch_off(story, app, last + timedelta(minutes=8))
                    outcome.application = app
                else:
                    page.heading("7  applications: skipped")
                    page.line("  the Unleash SDK is not installed: pip install 'flagbot[demo]'")
            outcome.pulls = story.pulls
            outcome.walk = result
            outcome.received = {c.name: inbox.count(c.name) for c in policy.channels}
            outcome.service_calls = service_calls
            outcome.deliveries = len(stack.emulator.webhooks.deliveries)
            outcome.emulator = stack.emulator
            if keep_dir is not None:
                outcome.kept = keep(stack.emulator, REPO, keep_dir)
    outcome.seconds = clock.perf_counter() - started
    _summarise(page, outcome, flag)
    return outcome


async def _walk_watched(
    stack: Sandbox,
    inbox: Inbox,
    start: datetime,
    minutes: tuple[int, ...],
    app: Application | None,
    flag: Flag,
) -> Walk:
    """The rollout job's walk; the shop's application looks after the merge and each bump."""
    if app is None:
        return await walk(stack, inbox, NEW_FLAG, start, minutes)
    assert flag.rollout is not None
    await app.look(flag.rollout.percentage)

    async def after_run(run: Run) -> None:
        for bump in run.bumps:
            if bump.path == NEW_FLAG:
                await app.look(bump.to_percentage)

    return await walk(stack, inbox, NEW_FLAG, start, minutes, after_run)


def _chapter_6(page: Page, flag: Flag, created: Pull, result: Walk, policy: Policy) -> None:
    """The walk checked against the story's claims, then its timeline."""
    rollout = flag.rollout
    assert rollout is not None and created.merged_at is not None
    check_walk(
        result,
        NEW_FLAG,
        flag.key,
        rollout.stages,
        rollout.every,
        created.merged_at,
        [c.name for c in policy.channels],
    )
    start = Start(
        created.merged_at,
        rollout.percentage,
        stage_label(rollout.stages, rollout.stages.index(rollout.percentage)),
        created.merge_sha or "",
        f"merged with #{created.number}",
    )
    page.lines(timeline(NEW_FLAG, start, result.runs, rollout.every, page.style))


def _policy(text: str) -> Policy:
    policy, problems = load_policy(text.encode(), POLICY)
    if policy.is_null:
        raise StoryFailed("0", f"{POLICY} is not valid: " + "; ".join(map(str, problems)))
    return policy


def _flag(text: str, policy: Policy) -> Flag:
    flag, problems = load_with_policy(text.encode(), NEW_FLAG, policy)
    if flag is None or flag.rollout is None or not flag.rollout.stages:
        why = "; ".join(map(str, problems)) or "it has no staged rollout"
        raise StoryFailed("0", f"{NEW_FLAG} cannot star in the demo: {why}")
    return flag


def _introduce(page: Page, api: str, bot: str, files: dict[str, str], inbox: Inbox) -> None:
    s = page.style
    flags = sum(1 for p in files if p.startswith("flags/"))
    page.line(
        s.bold("flagbot demo") + ": a flag's life on this repository's own flags/, "
        "CODEOWNERS and flagbot.yml"
    )
    page.lines(
        s.dim(line)
        for line in wrap(
            "Everything runs here, offline: an emulated GitHub, the real flagbot service and "
            "rollout job, local receivers for the notifications. The clock is simulated: "
            f"{DAY:%A} {DAY.day} {DAY:%B %Y}, UTC.",
            94,
        )
    )
    page.line()
    kinds = {"slack": "Slack", "email": "e-mail", "webhook": "webhook"}
    rows = [
        ["GitHub (emulated)", api, f"{REPO}, {flags} flags"],
        ["flagbot service", bot, "GitHub App flagbot"],
    ]
    for c in inbox.channels:
        signed = ", signed" if c.options.get("secret_env") else ""
        rows.append([c.name, inbox.where[c.name], f"{kinds[c.type]}{signed}"])
    page.lines("  " + line for line in columns(rows))
    people = ", ".join(
        f"{m.login} ({m.name}{', @acme/' + m.team if m.team else ''})"
        for m in CAST
        if m.login != "admin"
    )
    page.lines(wrap(f"  people  {people}", 96, "          "))


def _rollout_intro(page: Page, flag: Flag, minutes: tuple[int, ...], result: Walk) -> None:
    r = flag.rollout
    assert r is not None
    plan = " → ".join(fmt_pct(p) for p in r.stages)
    at = " ".join(f":{m:02d}" for m in minutes)
    every = int(r.every.total_seconds() // 60)
    span = f"{result.runs[0].at:%H:%M}–{result.runs[-1].at:%H:%M}"
    page.heading(f"6  the rollout job walks {flag.key} {plan} %", span)
    text = (
        f"{WORKFLOW} runs `flagbot rollout` at {at} each hour: each run below is the real job "
        f"on a fresh checkout of main, committing through the API. A stage lasts at least "
        f"{every}m."
    )
    page.lines("  " + page.style.dim(line) for line in wrap(text, 92))
    page.line()


def _summarise(page: Page, outcome: Outcome, flag: Flag) -> None:
    s = page.style
    page.heading("what happened")
    rows = []
    for p in outcome.pulls:
        when = f" {p.merged_at:%H:%M}" if p.merged_at else ""
        state = s.paint(p.outcome + when, "green" if p.outcome == "merged" else "red")
        rows.append([f"#{p.number}", p.change, state, p.people])
    walked = outcome.walk
    if walked is not None:
        mine = walked.bumps_of(NEW_FLAG)
        times = [r.at for r in walked.runs if any(b.path == NEW_FLAG for b in r.bumps)]
        rows.append(
            [
                "job",
                f"rollout {flag.key}",
                s.paint(f"{fmt_pct(mine[0].from_percentage)}% → 100%", "green"),
                f"{len(mine)} commits, {times[0]:%H:%M} to {times[-1]:%H:%M}",
            ]
        )
        for other in sorted({b.path for r in walked.runs for b in r.bumps} - {NEW_FLAG}):
            bumps = walked.bumps_of(other)
            name = other.removeprefix("flags/").rsplit(".", 1)[0]
            rows.append(
                [
                    "job",
                    f"rollout {name}",
                    f"{fmt_pct(bumps[0].from_percentage)}% → {fmt_pct(bumps[-1].to_percentage)}%",
                    "was under way on main",
                ]
            )
    page.lines("  " + line for line in columns(rows))
    total = sum(outcome.received.values())
    per = ", ".join(f"{name} {n}" for name, n in outcome.received.items())
    page.line()
    job_calls = walked.calls if walked else 0
    facts = [
        ["notifications", f"{total} received ({per})"],
        [
            "GitHub",
            f"{outcome.service_calls} API calls by the service, {job_calls} by the "
            f"rollout job; {outcome.deliveries} webhooks delivered",
        ],
        ["time", f"{outcome.seconds:.1f} s, no network"],
    ]
    page.lines("  " + line for line in columns(facts))
    page.line()
    kept = outcome.kept
    if kept is None:
        page.line(f"  Keep the result as a git repository: {s.bold('flagbot demo --keep DIR')}")
        return
    page.line(f"  Kept {REPO} as a git repository in {s.bold(str(kept.path))}")
    if kept.note:
        page.line(f"  ({kept.note})")
    page.line("  Try:")
    page.line(f"    git -C {kept.path} log --format=fuller -7 main")
    page.line(f"    git -C {kept.path} show main:{NEW_FLAG}")
    page.line(f"    git -C {kept.path} log --oneline --graph --all")

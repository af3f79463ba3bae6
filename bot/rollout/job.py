"""The scheduled rollout job: checkout → due bumps (pure) → compare-and-swap writes → notify.

Each bump is written with the blob sha of the bytes the decision was made on. When GitHub
refuses (409: the file moved) or the outcome is unknown (a server error, perhaps after the write
landed), the job re-reads the file and decides again for that flag, a bounded number of times:
- the file now holds exactly what this job meant to write and the newest commit touching it
  carries this job's id: the write landed, it counts as this job's bump;
- same content written by another job: that job bumped it; nothing to do;
- anything else: load it again and ask the schedule; usually it is no longer due.
So two jobs at once bump a stage once, and only the job whose write made the final bump
announces the completed rollout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.diagnostics import Diagnostic, has_errors
from bot.flags.load import load_flag
from bot.flags.model import DEFAULT_EVERY, Flag
from bot.notify.channels import Delivery, notify_all
from bot.notify.notice import Notice, rollout_complete
from bot.policy.model import Channel
from bot.rollout.checkout import Checkout, blob_sha
from bot.rollout.edit import EditError, bump_text
from bot.rollout.remote import (
    ACTIONS_BOT,
    WRITE_HINT,
    Conflict,
    Identity,
    RemoteError,
    RemoteRepo,
)
from bot.rollout.schedule import Bump, due_bumps, needs_start_time

JOB_TRAILER = "Flagbot-Job"
MAX_ATTEMPTS = 3

Outcome = Literal["bumped", "would-bump", "settled", "failed"]
"""bumped: this job's write landed. would-bump: dry run. settled: nothing left to do (another
job made the bump, or the file changed and is no longer due). failed: see `detail`."""

Notifier = Callable[[Sequence[Channel], Sequence[Notice], Mapping[str, str]], list[Delivery]]


@dataclass(frozen=True, slots=True)
class JobOptions:
    now: datetime
    job_id: str  # unique per run: lets a job recognise its own commit after an ambiguous write
    committer: Identity = ACTIONS_BOT
    dry_run: bool = False
    max_attempts: int = MAX_ATTEMPTS
    env: Mapping[str, str] = field(default_factory=dict)  # notification channel secrets


@dataclass(frozen=True, slots=True)
class Result:
    path: str
    flag: Flag  # as last read: the checkout's, or the branch's after a conflict
    bump: Bump
    outcome: Outcome
    detail: str = ""
    commit_sha: str | None = None
    html_url: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass
class JobReport:
    planned: int
    results: list[Result] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # flags the job could not decide about
    notes: list[str] = field(default_factory=list)  # worth saying, not a failure
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything due was bumped (or found done), every announcement went out."""
        return (
            not self.problems
            and not has_errors(self.diagnostics)
            and all(r.outcome != "failed" for r in self.results)
            and all(d.ok for d in self.deliveries)
        )

    def bumped(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "bumped"]


def commit_message(bump: Bump, default_environment: str, job_id: str) -> str:
    return f"{bump.message(default_environment)}\n\n{JOB_TRAILER}: {job_id}\n"


def written_by(message: str, job_id: str) -> bool:
    return f"{JOB_TRAILER}: {job_id}" in (line.strip() for line in message.splitlines())


def send_notices(
    channels: Sequence[Channel], notices: Sequence[Notice], env: Mapping[str, str]
) -> list[Delivery]:
    async def all_of() -> list[Delivery]:
        sent = await asyncio.gather(*(notify_all(channels, n, env) for n in notices))
        return [d for batch in sent for d in batch]

    return asyncio.run(all_of())


StartTimes = Callable[[Sequence[str]], dict[str, datetime]]


def remote_start_times(remote: RemoteRepo) -> StartTimes:
    """When each path's current content took effect: its newest commit on the branch."""

    def ask(paths: Sequence[str]) -> dict[str, datetime]:
        found = {}
        for path in paths:
            change = remote.last_change(path)
            if change is not None:
                found[path] = change.committed_at
        return found

    return ask


class _Run:
    def __init__(
        self,
        checkout: Checkout,
        remote: RemoteRepo | None,
        options: JobOptions,
        log: Callable[[str], None],
    ) -> None:
        self.checkout = checkout
        self.remote = remote
        self.options = options
        self.log = log
        self.default_environment = checkout.default_environment
        policy = checkout.policy
        self.default_every = policy.rollout.every if policy else DEFAULT_EVERY

    def apply(self, flag: Flag, bump: Bump) -> Result:
        data = self.checkout.texts[flag.path]
        sha = blob_sha(data)
        now = self.options.now

        def result(outcome: Outcome, detail: str = "", **kw: object) -> Result:
            return Result(flag.path, flag, bump, outcome, detail, **kw)  # type: ignore[arg-type]

        why, refused = "", False
        for _ in range(self.options.max_attempts):
            try:
                new = bump_text(data.decode("utf-8"), bump.to_percentage, now).encode("utf-8")
            except EditError as exc:
                return result("failed", f"cannot edit the file safely: {exc}")
            if self.options.dry_run or self.remote is None:
                return result("would-bump")
            message = commit_message(bump, self.default_environment, self.options.job_id)
            try:
                written = self.remote.write(
                    flag.path, new, sha, message, self.options.committer, now
                )
                return result("bumped", commit_sha=written.commit_sha, html_url=written.html_url)
            except Conflict as exc:
                why, refused = str(exc), exc.status == 409
                self.log(f"{flag.path}: write not confirmed ({why}); reading it again")
            except RemoteError as exc:
                return result("failed", str(exc))
            try:
                verdict = self._after_conflict(flag.path, new, sha if refused else None)
            except RemoteError as exc:
                return result("failed", str(exc))
            if isinstance(verdict, _Verdict):
                return result(
                    verdict.outcome,
                    verdict.detail,
                    commit_sha=verdict.commit_sha,
                    html_url=verdict.html_url,
                    diagnostics=verdict.diagnostics,
                )
            flag, bump, data, sha = verdict
        return result("failed", f"not written after {self.options.max_attempts} attempts: {why}")

    def _after_conflict(
        self, path: str, intended: bytes, refused_sha: str | None
    ) -> _Verdict | tuple[Flag, Bump, bytes, str]:
        """Re-read and decide again: how it ended, or the next attempt's inputs.
        `refused_sha`: the blob sha a write GitHub refused with 409 was based on."""
        assert self.remote is not None
        current = self.remote.read(path)
        if current is None:
            return _Verdict("settled", "the file is gone from the branch")
        if current.sha == refused_sha:
            # Not a race: nothing moved, GitHub refuses the write itself (a branch rule).
            return _Verdict(
                "failed", "GitHub refused the write though the file had not changed" + WRITE_HINT
            )
        if current.data == intended:
            last = self.remote.last_change(path)
            if last is not None and written_by(last.message, self.options.job_id):
                return _Verdict("bumped", "confirmed after a retry", last.sha, last.html_url)
            return _Verdict("settled", "another job made this bump")
        flag, problems = load_flag(
            current.data,
            path,
            default_environment=self.default_environment,
            default_every=self.default_every,
        )
        if flag is None:
            return _Verdict(
                "failed", "the file on the branch is not valid", diagnostics=tuple(problems)
            )
        started: dict[str, datetime] = {}
        if flag.rollout and flag.rollout.has_plan and needs_start_time(flag):
            last = self.remote.last_change(path)
            if last is not None:
                started[path] = last.committed_at
        bumps = due_bumps([flag], started, self.options.now)
        if not bumps:
            return _Verdict("settled", "changed on the branch meanwhile; no longer due")
        return flag, bumps[0], current.data, current.sha


@dataclass(frozen=True, slots=True)
class _Verdict:
    outcome: Outcome
    detail: str
    commit_sha: str | None = None
    html_url: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


def run_job(
    checkout: Checkout,
    remote: RemoteRepo | None,
    options: JobOptions,
    *,
    start_times: StartTimes | None = None,
    notifier: Notifier = send_notices,
    log: Callable[[str], None] = lambda line: None,
) -> JobReport:
    """One tick. `remote` None (or a dry run) writes nothing. `start_times` dates the flags
    whose file does not record when their stage began (default: ask `remote`)."""
    report = JobReport(planned=len(checkout.planned), diagnostics=list(checkout.diagnostics))
    if not checkout.policy_ok:
        report.problems.append(
            ".github/flagbot.yml is not valid; fix it first (the rollout waits and channels "
            "come from it), nothing was bumped"
        )
        return report
    if start_times is None and remote is not None:
        start_times = remote_start_times(remote)
    asking = [f.path for f in checkout.planned if needs_start_time(f)]
    started: dict[str, datetime] = {}
    if asking and start_times is not None:
        try:
            started = start_times(asking)
        except RemoteError as exc:
            report.problems.append(f"could not learn when flags last changed: {exc}")
            return report
    for path in asking:
        if path in started:
            continue
        if start_times is None:
            report.notes.append(
                f"{path}: the file does not record when its stage began and there is no "
                "history here to date it (set GITHUB_TOKEN and GITHUB_REPOSITORY to ask "
                "GitHub); left where it is"
            )
        else:
            report.problems.append(
                f"{path}: no stage record and no commit dates it; cannot tell when its stage "
                "began, so it does not move"
            )
    run = _Run(checkout, remote, options, log)
    by_path = {f.path: f for f in checkout.planned}
    for bump in due_bumps(checkout.planned, started, options.now):
        result = run.apply(by_path[bump.path], bump)
        report.results.append(result)
        log(describe(result, checkout.default_environment))
    policy = checkout.policy
    finals = [r for r in report.bumped() if r.bump.final]
    if finals and policy is not None and policy.notify_on_complete and policy.channels:
        repository = (
            remote.full_name
            if remote is not None
            else options.env.get("GITHUB_REPOSITORY") or checkout.root.name
        )
        notices = [_notice(repository, options.now, r) for r in finals]
        report.deliveries = notifier(policy.channels, notices, options.env)
        for d in report.deliveries:
            if not d.ok:
                log(f"notification over {d.channel} failed: {d.detail}")
    return report


def _notice(repository: str, now: datetime, result: Result) -> Notice:
    flag = result.flag
    assert flag.rollout is not None
    return rollout_complete(
        repository=repository,
        key=flag.key,
        environment=flag.environment,
        stages=flag.rollout.stages,
        commit_sha=result.commit_sha or "",
        completed_at=now,
        link=result.html_url,
    )


def describe(result: Result, default_environment: str) -> str:
    what = result.bump.message(default_environment)
    if result.outcome == "bumped":
        return f"bumped  {what} [{(result.commit_sha or '')[:7]}]"
    if result.outcome == "would-bump":
        return f"would bump  {what}"
    if result.outcome == "settled":
        return f"skipped {what}: {result.detail}"
    lines = [f"FAILED  {what}: {result.detail}"]
    lines += (f"  {d}" for d in result.diagnostics)
    return "\n".join(lines)

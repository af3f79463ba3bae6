"""The scheduled rollout job: checkout → guards → decisions (pure) → one commit → notify.

Each run evaluates the guards of every flag in progress, decides per flag (bump if due and
every guard passed; hold when a guard was inconclusive; pause or roll back when one failed),
and writes all of it as ONE commit through the git data API: one tree on the head's tree, one
commit, the branch moved only as a fast-forward. So a run's writes do not grow with the number
of flags it moves, and the commit message lists each flag's change (`git log -- flags/x.yaml`
shows it).

The compare-and-swap: the decisions were made on the checkout's bytes. Before committing, the
job lists the head's files; a flag whose file differs there is read again and decided again.
When GitHub refuses to move the branch (422: not a fast-forward, someone committed in
between) or the outcome is unknown (a server error), the job reads the head again and repeats,
a bounded number of times. So two jobs at once write a bump or a pause once, and only the job
whose commit landed announces it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from bot.diagnostics import Diagnostic, has_errors
from bot.flags.guard import CheckGuard
from bot.flags.model import Flag
from bot.flags.repository import load_with_policy
from bot.notify.channels import Delivery, notify_all
from bot.notify.notice import Notice, guard_tripped, rollout_complete
from bot.policy.model import Channel, Policy
from bot.rollout.checkout import Checkout, blob_sha
from bot.rollout.decide import Action, GuardReport, Hold, Pause, decide, in_progress
from bot.rollout.edit import EditError, bump_text, pause_text
from bot.rollout.probes import TIMEOUT, Prober, guard_reports
from bot.rollout.remote import (
    ACTIONS_BOT,
    WRITE_HINT,
    Conflict,
    Identity,
    RemoteError,
    RemoteRepo,
    Tree,
)
from bot.rollout.schedule import Bump, due_by_record, needs_start_time, recorded_start
from bot.rollout.verdict import RunState, StatusState

JOB_TRAILER = "Flagbot-Job"
REGULAR_FILE = ("100644", "100755")  # a symlink or submodule at a flag's path is not edited
MAX_ATTEMPTS = 3

Outcome = Literal["bumped", "would-bump", "paused", "would-pause", "held", "settled", "failed"]
"""bumped / paused: this job's commit landed (paused includes a rollback). would-*: dry run.
held: a guard was inconclusive, nothing written. settled: nothing left to do (another job
wrote it, or the file changed and needs nothing now). failed: see `detail`."""

Notifier = Callable[[Sequence[Channel], Sequence[Notice], Mapping[str, str]], list[Delivery]]


@dataclass(frozen=True, slots=True)
class JobOptions:
    now: datetime
    job_id: str  # unique per run: lets a job recognise its own commit after an ambiguous write
    committer: Identity = ACTIONS_BOT
    dry_run: bool = False
    max_attempts: int = MAX_ATTEMPTS
    env: Mapping[str, str] = field(default_factory=dict)  # channel secrets, guard URLs
    guard_timeout: float = TIMEOUT


@dataclass(frozen=True, slots=True)
class Result:
    path: str
    flag: Flag  # as last read: the checkout's, or the branch's after a conflict
    action: Action
    outcome: Outcome
    detail: str = ""
    commit_sha: str | None = None
    html_url: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def bump(self) -> Bump | None:
        return self.action if isinstance(self.action, Bump) else None


@dataclass
class JobReport:
    planned: int
    results: list[Result] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # flags the job could not decide about
    notes: list[str] = field(default_factory=list)  # worth saying, not a failure
    deliveries: list[Delivery] = field(default_factory=list)
    tracked: list[Flag] = field(default_factory=list)  # every flag in progress, as read
    guards: dict[str, GuardReport] = field(default_factory=dict)  # path -> this run's outcomes
    commit_sha: str | None = None  # the run's one commit, when it made one

    @property
    def ok(self) -> bool:
        """Everything decided was written (or found done), every announcement went out."""
        return (
            not self.problems
            and not has_errors(self.diagnostics)
            and all(r.outcome != "failed" for r in self.results)
            and all(d.ok for d in self.deliveries)
        )

    def bumped(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "bumped"]

    def paused(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "paused"]


def run_message(actions: Sequence[Action], default_environment: str, job_id: str) -> str:
    """The run's commit message: one line per flag (the title itself when there is one)."""
    lines = [a.message(default_environment) for a in actions]
    if len(lines) == 1:
        return f"{lines[0]}\n\n{JOB_TRAILER}: {job_id}\n"
    bumps = sum(isinstance(a, Bump) for a in actions)
    paused = len(actions) - bumps
    parts = ([f"{bumps} bumped"] if bumps else []) + ([f"{paused} paused"] if paused else [])
    title = f"rollout: {len(actions)} flags ({', '.join(parts)})"
    body = "\n".join(f"- {line}" for line in lines)
    return f"{title}\n\n{body}\n\n{JOB_TRAILER}: {job_id}\n"


def commit_message(bump: Bump, default_environment: str, job_id: str) -> str:
    return run_message([bump], default_environment, job_id)


def edited(text: bytes, action: Action, now: datetime) -> bytes:
    """The file after `action` (a bump, or a pause with its rollback). Raises EditError."""
    out = text.decode("utf-8")
    if isinstance(action, Bump):
        return bump_text(out, action.to_percentage, now).encode("utf-8")
    assert isinstance(action, Pause)
    if action.rollback:
        out = bump_text(out, action.to_percentage, now)
    return pause_text(out, action.reason).encode("utf-8")


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


class _Commit:
    """Writes a run's actions as one commit, re-reading and re-deciding on conflict."""

    def __init__(
        self,
        checkout: Checkout,
        remote: RemoteRepo,
        options: JobOptions,
        prober: Prober,
        log: Callable[[str], None],
        moved: Callable[[str], None] = lambda head: None,
    ) -> None:
        self.remote = remote
        self.options = options
        self.prober = prober
        self.log = log
        self.moved = moved  # the branch has a new head: check guards must read that one
        self.policy = checkout.policy
        self.default_environment = checkout.default_environment
        self.texts = dict(checkout.texts)
        self.flags = {f.path: f for f in checkout.planned}
        self.done: list[Result] = []  # flags settled or failed on the way
        self.guards: dict[str, GuardReport] = {}  # outcomes of flags decided again

    def run(self, actions: list[Action], head: str) -> tuple[list[Result], str | None]:
        """The results, and the sha of the run's commit if it landed."""
        why = ""
        recheck = False
        for _ in range(self.options.max_attempts):
            try:
                tree = self.remote.tree(head)
                actions = self._refresh(actions, tree, recheck)
            except RemoteError as exc:
                return self.done + [self._result(a, "failed", str(exc)) for a in actions], None
            writes: dict[str, bytes] = {}
            for action in list(actions):
                try:
                    writes[action.path] = edited(self.texts[action.path], action, self.options.now)
                except EditError as exc:
                    actions.remove(action)
                    self.done.append(
                        self._result(action, "failed", f"cannot edit the file safely: {exc}")
                    )
            if not actions:
                return self.done, None
            message = run_message(actions, self.default_environment, self.options.job_id)
            parent = head
            try:
                written = self.remote.commit_files(
                    tree, head, writes, message, self.options.committer, self.options.now
                )
            except Conflict as exc:
                why = str(exc)
                self.log(f"the commit did not certainly land ({why}); reading the branch again")
                try:
                    head = self.remote.head()
                    # Landed after all (a lost answer), perhaps with commits on top already.
                    landed = exc.commit_sha is not None and (
                        head == exc.commit_sha or self.remote.contains(head, exc.commit_sha)
                    )
                except RemoteError as again:
                    return self.done + [
                        self._result(a, "failed", str(again)) for a in actions
                    ], None
                if landed:
                    assert exc.commit_sha is not None
                    return self._landed(actions, exc.commit_sha, None), exc.commit_sha
                if exc.status == 422 and head == parent:
                    # Not a race: nothing moved, GitHub refuses the update itself (a rule).
                    detail = f"GitHub refused to move the branch though it had not moved: {why}"
                    return self.done + [
                        self._result(a, "failed", detail + WRITE_HINT) for a in actions
                    ], None
                if head != parent:
                    self.moved(head)
                    recheck = True
                continue
            except RemoteError as exc:
                return self.done + [self._result(a, "failed", str(exc)) for a in actions], None
            return self._landed(actions, written.commit_sha, written.html_url), written.commit_sha
        detail = f"not written after {self.options.max_attempts} attempts: {why}"
        return self.done + [self._result(a, "failed", detail) for a in actions], None

    def _landed(self, actions: list[Action], sha: str, url: str | None) -> list[Result]:
        out = []
        for a in actions:
            outcome: Outcome = "bumped" if isinstance(a, Bump) else "paused"
            out.append(self._result(a, outcome, commit_sha=sha, html_url=url))
        return self.done + out

    def _result(self, action: Action, outcome: Outcome, detail: str = "", **kw: object) -> Result:
        return Result(action.path, self.flags[action.path], action, outcome, detail, **kw)  # type: ignore[arg-type]

    def _refresh(self, actions: list[Action], tree: Tree, recheck: bool) -> list[Action]:
        """Decide again for every flag whose file on the head is not what was decided on, and
        (`recheck`: the branch moved) for every flag whose guard reads the head's checks."""
        kept: list[Action] = []
        for action in actions:
            path = action.path
            on_head = tree.files.get(path)
            same = on_head is not None and on_head[1] == blob_sha(self.texts[path])
            if same and not (recheck and _reads_checks(self.flags[path])):
                kept.append(action)
                continue
            if on_head is None:
                self.done.append(
                    self._result(action, "settled", "the file is gone from the branch")
                )
                continue
            if on_head[0] not in REGULAR_FILE:
                why = f"it is no regular file on the branch (mode {on_head[0]}); left alone"
                self.done.append(self._result(action, "failed", why))
                continue
            data = self.texts[path] if same else self.remote.blob(on_head[1])
            again = self._decide_again(action, path, data)
            if again is not None:
                kept.append(again)
        return kept

    def _decide_again(self, action: Action, path: str, data: bytes) -> Action | None:
        flag, problems = load_with_policy(data, path, self.policy)
        if flag is None:
            self.done.append(
                replace(
                    self._result(action, "failed", "the file on the branch is not valid"),
                    diagnostics=tuple(problems),
                )
            )
            return None
        self.texts[path], self.flags[path] = data, flag
        started: dict[str, datetime] = {}
        if needs_start_time(flag):
            last = self.remote.last_change(path)
            if last is not None:
                started[path] = last.committed_at
        restarted = person_restart(self.remote, flag, self.policy, self.options.now)
        if restarted is not None:
            started[path] = restarted
        reports = guard_reports([flag], self.prober)
        self.guards.update(reports)
        found = decide([flag], started, reports, self.options.now)
        if not found or isinstance(found[0], Hold):
            what = found[0].reason if found else "no longer needs this run's change"
            outcome: Outcome = "held" if found else "settled"
            self.done.append(
                Result(
                    path, flag, found[0] if found else action, outcome, f"changed meanwhile; {what}"
                )
            )
            return None
        return found[0]


def person_restarts(
    remote: RemoteRepo, flags: Sequence[Flag], policy: Policy, now: datetime
) -> dict[str, datetime]:
    """`person_restart` for each flag whose record says a bump is due, asked only of those a
    person's commit touched since the oldest of their records: one listing of the branch's
    commits since then, the job's own left out, and one read per person's commit."""
    due = [f for f in flags if due_by_record(f, now)]
    if not due:
        return {}
    since = min(s for f in due if (s := recorded_start(f)) is not None)
    touched = remote.paths_changed_since(since, skip=lambda message: JOB_TRAILER in message)
    found: dict[str, datetime] = {}
    for flag in due:
        if flag.path in touched:
            restarted = person_restart(remote, flag, policy, now)
            if restarted is not None:
                found[flag.path] = restarted
    return found


def person_restart(
    remote: RemoteRepo, flag: Flag, policy: Policy, now: datetime
) -> datetime | None:
    """For a flag whose stage record says a bump is due: when a person's change to its
    percentage landed after that record (a revert of the job's bump brings the old record
    back), else None. Changes that leave the percentage alone (a reworded description, a
    resume) do not restart the clock."""
    recorded = recorded_start(flag)
    if recorded is None or not due_by_record(flag, now):
        return None
    for sha, parent in remote.changes_since(flag.path, recorded):
        after = remote.text_at(sha, flag.path)
        before = remote.text_at(parent, flag.path) if parent else None
        if _percentage(after, flag.path, policy) != _percentage(before, flag.path, policy):
            last = remote.last_change(flag.path)
            return last.committed_at if last is not None else now
    return None


def _percentage(data: bytes | None, path: str, policy: Policy) -> float | None:
    if data is None:
        return None
    flag, _ = load_with_policy(data, path, policy)
    return flag.rollout.percentage if flag is not None and flag.rollout is not None else None


def _reads_checks(flag: Flag) -> bool:
    """A guard of the flag reads check runs or statuses of the branch's head."""
    r = flag.rollout
    return r is not None and any(isinstance(c, CheckGuard) for c in r.guard.checks)


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
            ".github/flagbot.yml is not valid; fix it first (the rollout waits, guards and "
            "channels come from it), nothing was bumped"
        )
        return report
    report.tracked = [f for f in checkout.planned if in_progress(f)]
    if start_times is None and remote is not None:
        start_times = remote_start_times(remote)
    asking = [f.path for f in checkout.planned if needs_start_time(f)]
    started: dict[str, datetime] = {}
    try:
        if asking and start_times is not None:
            started = start_times(asking)
        if remote is not None:
            started.update(person_restarts(remote, checkout.planned, checkout.policy, options.now))
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
    heads: list[str] = []  # the branch head, read once when first needed (then where it moved)

    def head_checks(names: Sequence[str]) -> tuple[list[RunState], list[StatusState]]:
        assert remote is not None
        if not heads:
            heads.append(remote.head())
        return remote.head_checks(heads[-1], names)

    def moved(head: str) -> None:
        heads[:] = [head]
        prober.forget_checks()

    prober = Prober(options.env, head_checks if remote is not None else None, options.guard_timeout)
    report.guards = guard_reports(report.tracked, prober)
    actions = decide(checkout.planned, started, report.guards, options.now)
    by_path = {f.path: f for f in checkout.planned}
    writes: list[Action] = []
    for action in actions:
        if isinstance(action, Hold):
            report.results.append(
                Result(action.path, by_path[action.path], action, "held", action.reason)
            )
        else:
            writes.append(action)
    if writes and (options.dry_run or remote is None):
        for action in writes:
            outcome: Outcome = "would-bump" if isinstance(action, Bump) else "would-pause"
            try:
                edited(checkout.texts[action.path], action, options.now)
            except EditError as exc:
                outcome = "failed"
                detail = f"cannot edit the file safely: {exc}"
            report.results.append(
                Result(
                    action.path,
                    by_path[action.path],
                    action,
                    outcome,
                    detail if outcome == "failed" else "",
                )
            )
    elif writes:
        assert remote is not None
        committer = _Commit(checkout, remote, options, prober, log, moved)
        try:
            head = heads[0] if heads else remote.head()
        except RemoteError as exc:
            report.problems.append(f"could not read the branch: {exc}")
            return report
        results, report.commit_sha = committer.run(writes, head)
        report.results += results
        report.guards.update(committer.guards)
    for result in report.results:
        log(describe(result, checkout.default_environment))
    _announce(report, checkout, remote, options, notifier, log)
    return report


def _announce(
    report: JobReport,
    checkout: Checkout,
    remote: RemoteRepo | None,
    options: JobOptions,
    notifier: Notifier,
    log: Callable[[str], None],
) -> None:
    policy = checkout.policy
    if not policy.channels:  # the null policy has none
        return
    repository = (
        remote.full_name
        if remote is not None
        else options.env.get("GITHUB_REPOSITORY") or checkout.root.name
    )
    notices = []
    if policy.notify_on_complete:
        notices += [
            _complete_notice(repository, options.now, r)
            for r in report.bumped()
            if r.bump is not None and r.bump.final
        ]
    notices += [_pause_notice(repository, options.now, r, report.guards) for r in report.paused()]
    if not notices:
        return
    report.deliveries = notifier(policy.channels, notices, options.env)
    for d in report.deliveries:
        if not d.ok:
            log(f"notification over {d.channel} failed: {d.detail}")


def _complete_notice(repository: str, now: datetime, result: Result) -> Notice:
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


def _pause_notice(
    repository: str, now: datetime, result: Result, guards: Mapping[str, GuardReport]
) -> Notice:
    action = result.action
    assert isinstance(action, Pause)
    report = guards.get(result.path)
    failures = [
        {"guard": o.title, "value": o.value, "threshold": o.threshold}
        for o in (report.failed() if report else [])
    ]
    return guard_tripped(
        repository=repository,
        key=action.key,
        environment=action.environment,
        from_percentage=action.from_percentage,
        to_percentage=action.to_percentage,
        failures=failures,
        commit_sha=result.commit_sha or "",
        at=now,
        link=result.html_url,
    )


def describe(result: Result, default_environment: str) -> str:
    what = result.action.message(default_environment)
    sha = f" [{(result.commit_sha or '')[:7]}]"
    if result.outcome in ("bumped", "paused"):
        return f"{result.outcome}  {what}{sha}"
    if result.outcome in ("would-bump", "would-pause"):
        return f"would {result.outcome[6:]}  {what}"
    if result.outcome == "held":
        return f"held    {what}"
    if result.outcome == "settled":
        return f"skipped {what}: {result.detail}"
    lines = [f"FAILED  {what}: {result.detail}"]
    lines += (f"  {d}" for d in result.diagnostics)
    return "\n".join(lines)

"""The sweep: every open pull request into a repository's default branch, and every merge
whose announcement a crash left unfinished, reconciled again.

GitHub does not redeliver a failed webhook, so without a sweep a pull request whose delivery
was lost (the service down, killed, or GitHub's retries exhausted) waits for an event that
may never come. Listing is conditional: when nothing changed GitHub answers 304, which costs
no rate limit, and so does each pull request's reconcile when nothing changed on it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.gh.errors import NotOurs
from bot.service.events import Work
from bot.service.pool import ClientPool
from bot.service.reconcile import Outcome

log = logging.getLogger("flagbot.sweep")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SweepReport:
    repositories: int
    pulls: int  # open pull requests into a default branch
    unfinished: int  # merges whose announcement was not completed (or never claimed)
    unchanged: int = 0  # pull requests skipped: nothing changed since they were reconciled
    failed: int = 0  # repositories that could not be read (the next sweep tries them again)


Key = tuple[str, int]
SETTLED = timedelta(seconds=2)
# What a listing does not show (a team's members changed while the webhook was lost) is caught
# by reading every pull request again at least this often.
REREAD_AFTER = timedelta(hours=1)
Signature = tuple[str, str, str]  # the pull request's updated_at and head, the base's tip


class SweepMemo:
    """What each open pull request looked like (`Signature`) when a sweep last had it
    reconciled successfully, and when its approval clock next wants a reconcile: while both
    hold (for at most `REREAD_AFTER`), reconciling it again would read the same and do
    nothing, so a sweep skips it. A failed reconcile forgets it. Kept in memory only; a new
    process reconciles everything once."""

    def __init__(self) -> None:
        self._queued: dict[Key, tuple[Signature, datetime] | None] = {}
        # signature, when the approval clock next wants it, when it was listed (GitHub's time)
        self._seen: dict[Key, tuple[Signature, datetime | None, datetime]] = {}

    def unchanged(self, key: Key, signature: Signature, now: datetime | None) -> bool:
        seen = self._seen.get(key)
        if seen is None or seen[0] != signature or now is None:
            return False
        wake_at = seen[1]
        return now < seen[2] + REREAD_AFTER and (wake_at is None or now < wake_at)

    def queued(self, key: Key, listed: tuple[Signature, datetime] | None) -> None:
        """A sweep queued the pull request as it listed it, and when (None: do not remember
        it)."""
        self._queued[key] = listed

    def finished(self, key: Key, outcome: Outcome | None) -> None:
        """The work queue's report: a successful reconcile (`outcome`) or a failed one (then
        the next sweep reconciles it whatever its listing says)."""
        listed = self._queued.pop(key, None)
        if outcome is None or outcome.retry:
            self._seen.pop(key, None)
        elif listed is not None:
            self._seen[key] = (listed[0], outcome.wake_at, listed[1])


async def sweep(
    pool: ClientPool,
    submit: Callable[[Work], None],
    repositories: list[tuple[str, int | None]] | None = None,
    memo: SweepMemo | None = None,
) -> SweepReport:
    """Queue every open pull request into each repository's default branch, and each
    unfinished announcement, for a recovering reconcile; with a `memo`, skip those unchanged
    since their last reconcile. `repositories` default: every repository the App is
    installed on."""
    repos = repositories if repositories is not None else await pool.repositories()
    pulls = unfinished = skipped = failed = 0
    for repo, installation in repos:
        try:
            gw = await pool.gateway_for(repo, installation)
            default = await gw.default_branch()
            tip, listed, claims, merged = await asyncio.gather(
                gw.branch_tip(default),
                gw.open_pulls(default),
                gw.announcement_claims(),
                gw.recently_merged(default),
            )
        except NotOurs as exc:
            log.warning("sweep: skipped %s: %s", repo, exc)
            continue
        except Exception as exc:  # one repository (empty, GitHub failing) does not stop the rest
            log.warning("sweep: could not read %s (the next sweep tries again): %r", repo, exc)
            failed += 1
            continue
        now = gw.now()
        for pull in listed:
            number = int(pull["number"])
            signature = (str(pull.get("updated_at")), str(pull["head"]["sha"]), tip)
            if memo is not None:
                if memo.unchanged((repo, number), signature, now):
                    skipped += 1
                    continue
                # GitHub's timestamps have whole seconds: a change in the second the listing
                # was made might not show, so such a pull request is not remembered as seen.
                settled = now is not None and _time(signature[0]) < now - SETTLED
                memo.queued((repo, number), (signature, now) if settled and now else None)
            submit(Work(repo, number, installation, recover=True))
        open_numbers = {int(p["number"]) for p in listed}
        # Claimed and not complete, or merged and never claimed (a crash between the merge
        # and its claim; merges by people and without announcements are read once, then
        # known final); open ones were just queued.
        owed = {n for (n, _), done in claims.items() if not done}
        owed |= {n for n, head in merged if (n, head) not in claims}
        closed = sorted(owed - open_numbers)
        for number in closed:
            submit(Work(repo, number, installation, recover=True))
        pulls += len(listed)
        unfinished += len(closed)
    return SweepReport(len(repos), pulls, unfinished, skipped, failed)


class Sweeper:
    """Sweeps at start-up and every `interval` seconds (jittered by up to a tenth, so replicas
    drift apart), one at a time per process."""

    def __init__(
        self,
        run: Callable[[], Awaitable[SweepReport]],
        interval: float,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.run = run
        self.interval = interval
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.lock = asyncio.Lock()
        self.sweeps = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def once(self) -> SweepReport | None:
        """One sweep, unless one is running (then None)."""
        if self.lock.locked():
            return None
        async with self.lock:
            report = await self.run()
            self.sweeps += 1
            log.info(
                "sweep: %d open pull requests (%d unchanged) and %d unfinished announcements "
                "in %d repositories",
                report.pulls,
                report.unchanged,
                report.unfinished,
                report.repositories,
            )
            return report

    def next_delay(self) -> float:
        return self.interval * (1 + self.rng.uniform(-0.1, 0.1))

    async def _loop(self) -> None:
        while True:
            try:
                await self.once()
            except Exception as exc:  # GitHub down: the next sweep tries again
                log.warning("sweep failed: %s: %s", type(exc).__name__, str(exc)[:200])
            await self.sleep(self.next_delay())


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)  # unreadable: never settled

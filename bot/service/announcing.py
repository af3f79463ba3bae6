"""Announcements in flight: what follows a merge (the claim, the comment, the channels, the
check run) runs here, off the work queue, so a pull request's worker is free for the next
merge as soon as GitHub answers. Shutdown drains them with the work queue; one that fails is
handed back to the work queue (a fresh reconcile claims or finds the claim), and a crash is
recovered by the sweep (a merge with no claim, or a claim never completed).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from bot.service.reconcile import Outcome

log = logging.getLogger("flagbot.service")

Key = tuple[str, int]


class Announcements:
    def __init__(self, failed: Callable[[Key], None]) -> None:
        self.failed = failed  # told of an announcement that raised: reconcile it again
        self.finished: deque[Outcome] = deque(maxlen=100)  # the latest, for logs and tests
        self._tasks: dict[asyncio.Task[None], Key] = {}

    def hand(self, key: Key, work: Coroutine[Any, Any, Outcome]) -> None:
        task = asyncio.create_task(self._run(key, work))
        self._tasks[task] = key
        task.add_done_callback(lambda t: self._tasks.pop(t, None))

    async def _run(self, key: Key, work: Coroutine[Any, Any, Outcome]) -> None:
        repo, number = key
        try:
            outcome = await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # GitHub failing past the client's retries
            log.warning("%s#%s: announcing failed (%s); reconciling again", repo, number, exc)
            self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self.failed(key)  # not in flight any more: the reconcile reads it
            return
        log.info("%s#%s: %s", repo, number, ", ".join(outcome.actions) or "announced elsewhere")
        self.finished.append(outcome)

    def holds(self, key: Key) -> bool:
        """An announcement for this pull request is in flight."""
        return key in self._tasks.values()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def unfinished(self) -> list[Key]:
        return sorted(set(self._tasks.values()))

    async def drain(self) -> None:
        while self._tasks:  # `wait`, not `gather`: a drain given up on cancels nothing
            await asyncio.wait(list(self._tasks))

    async def stop(self) -> None:
        """Cancel what is in flight (after a drain timed out): the sweep finishes it."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

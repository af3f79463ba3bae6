"""What the service remembers between webhooks, so a pull request's lifecycle stays cheap.

Contents and trees at a commit sha never change: cached until evicted. Team membership can
change at any time: each team's member list is cached briefly (a minute), then read again
conditionally. gidgethub's conditional-request cache (ETags) makes
repeated reads of unchanged resources cost a 304, which GitHub does not charge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache, TTLCache

MEMBERSHIP_TTL = 60.0  # seconds; a removed team member stops counting within a minute


@dataclass
class Caches:
    contents: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=8192))
    trees: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=512))
    # flagbot's check runs per commit, with its own writes applied (sweeps read them fresh)
    check_runs: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=4096))
    reading: dict[Any, Any] = field(default_factory=dict)  # blob reads in flight, by id
    # the teams each repository's decisions asked about, read again alongside a pull request
    repo_teams: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=1024))
    timer: Callable[[], float] = time.monotonic  # what "briefly" is measured on
    memberships: TTLCache[Any, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.memberships = TTLCache(maxsize=1024, ttl=MEMBERSHIP_TTL, timer=self.timer)

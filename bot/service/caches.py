"""What the service remembers between webhooks, so a pull request's lifecycle stays cheap.

Contents and trees at a commit sha never change: cached until evicted. Team membership can
change at any time: cached briefly. gidgethub's conditional-request cache (ETags) makes
repeated reads of unchanged resources cost a 304, which GitHub does not charge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache, TTLCache

MEMBERSHIP_TTL = 60.0  # seconds; a removed team member stops counting within a minute


@dataclass
class Caches:
    contents: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=8192))
    trees: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=512))
    memberships: TTLCache[Any, Any] = field(
        default_factory=lambda: TTLCache(maxsize=8192, ttl=MEMBERSHIP_TTL)
    )
    # flagbot's check runs per commit, with its own writes applied (sweeps read them fresh)
    check_runs: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=4096))

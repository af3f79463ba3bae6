"""Reads shared between coroutines: asked once however many wait, or made ahead of need."""

from __future__ import annotations

import asyncio
from typing import Any


async def once(cache: Any, key: Any, fetch: Any) -> Any:
    """Fetch a value once, even when several coroutines ask at the same moment."""
    task = cache.get(key)
    if task is None:
        task = cache[key] = asyncio.ensure_future(fetch())
    try:
        return await asyncio.shield(task)
    except Exception:
        if cache.get(key) is task:
            del cache[key]
        raise


def quiet(task: asyncio.Task[Any]) -> None:
    """A read made ahead and never asked for: its failure is retrieved, not logged as lost."""
    if not task.cancelled():
        task.exception()

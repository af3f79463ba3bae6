"""What the export service reads from GitHub: a repository's default branch head, and the
files of a commit. Plain data out; conditional requests (ETag → 304, which GitHub does not
charge) through the gateway's client, immutable blobs and trees through its caches."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from bot.flags.filemode import KINDS
from bot.gh.pulls import RepoGateway

CONCURRENT_READS = 8  # blob reads in flight while a commit's files are fetched


async def default_branch(gw: RepoGateway) -> str:
    data = await gw.gh.getitem(f"/repos/{gw.repo}", oauth_token=gw.token)
    return str(data["default_branch"])


async def branch_head(gw: RepoGateway, branch: str) -> str:
    ref = await gw.gh.getitem(f"/repos/{gw.repo}/git/ref/heads/{branch}", oauth_token=gw.token)
    return str(ref["object"]["sha"])


async def odd_modes(gw: RepoGateway, commit: str, folder: str) -> dict[str, str]:
    """Path -> git mode of the symlinks and submodules under `folder` at `commit`."""
    modes = await gw.modes_under(commit, folder)
    if modes is None:
        raise TruncatedTree(f"GitHub truncated the listing of {gw.repo}:{folder} at {commit}")
    return {path: mode for path, mode in modes.items() if mode in KINDS}


class TruncatedTree(Exception):
    """GitHub cut the recursive listing (a very large repository)."""


async def files_at(
    gw: RepoGateway, commit: str, wanted: Callable[[str], bool], skip: Iterable[str] = ()
) -> dict[str, bytes]:
    """Path -> bytes of the files `wanted` selects at `commit`, but not those in `skip` (a
    blob read once per id)."""
    blobs = await gw.blobs(commit)
    if blobs is None:
        raise TruncatedTree(f"GitHub truncated the file listing of {gw.repo} at {commit}")
    left_out = set(skip)
    chosen = {p: sha for p, sha in blobs.items() if wanted(p) and p not in left_out}
    gate = asyncio.Semaphore(CONCURRENT_READS)

    async def read(sha: str) -> bytes:
        async with gate:
            return await gw.blob(sha)

    datas = await asyncio.gather(*(read(sha) for sha in chosen.values()))
    return dict(zip(chosen, datas, strict=True))

"""A checkout of a branch's files, fetched through GitHub's REST API.

The rollout job reads flags from a checkout, as `actions/checkout` makes one. The emulator
speaks REST, not git's wire protocol, so this does what `actions/checkout` itself falls back to
without git: the commit the branch points at, its tree, each blob, written to a directory.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from urllib.parse import quote

from bot.emulator.people import Person


def checkout(api: Person, repo: str, branch: str, dest: Path) -> str:
    """Write `branch`'s files into `dest` (emptied first); returns the commit checked out."""
    sha = api.get(f"/repos/{repo}/git/ref/heads/{quote(branch, safe='/')}")["object"]["sha"]
    tree = api.get(f"/repos/{repo}/git/trees/{sha}?recursive=1")
    if tree.get("truncated"):
        raise RuntimeError(f"{repo}@{branch}: the tree listing is truncated")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for entry in tree["tree"]:
        if entry["type"] != "blob":
            continue
        blob = api.get(f"/repos/{repo}/git/blobs/{entry['sha']}")
        target = dest / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(blob["content"]))
    return sha

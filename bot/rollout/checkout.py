"""The flags as the checkout holds them: what the rollout job and `flagbot plan` start from.

The job runs in Actions' shallow checkout, so the files are all it has locally; it keeps each
planned flag's bytes because the bump is an edit of exactly those bytes, and their git blob id
is the compare-and-swap token for the write (computed here, so the write needs no extra read).

Only files that mention `stages` are loaded: without that key a flag has no plan, and most
flags (kill switches, finished rollouts) have none. Checking every file is `flagbot validate`'s
job, run on each pull request; the job reports problems in the files it reads. (A key spelled
with YAML escapes, `"st\x61ges"`, would slip past; nobody writes that.)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.diagnostics import Diagnostic
from bot.flags.load import MAX_FLAG_BYTES
from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.flags.model import Flag
from bot.flags.repository import load_flagset
from bot.local.filemodes import checkout_problems
from bot.policy.config import POLICY_PATH
from bot.policy.model import Policy
from bot.rollout.schedule import has_plan

# One byte past the loader's limit is enough for it to say "too large" without reading more.
_READ_LIMIT = MAX_FLAG_BYTES + 1
_PLAN_KEY = b"stages"


def blob_sha(data: bytes) -> str:
    """The git blob id of `data`: what the contents API calls the file's `sha`."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Checkout:
    root: Path
    policy: Policy  # NULL_POLICY when flagbot.yml is missing or invalid
    policy_found: bool
    planned: tuple[Flag, ...]  # valid flags with a staged plan, sorted by path
    texts: dict[str, bytes] = field(repr=False)  # path -> bytes, for every planned flag
    diagnostics: tuple[Diagnostic, ...] = ()
    flag_count: int = 0  # flag files found, valid or not

    @property
    def default_environment(self) -> str:
        return self.policy.default_environment

    @property
    def policy_ok(self) -> bool:
        """The policy is usable: valid, or absent (then the defaults apply)."""
        return not self.policy.is_null or not self.policy_found


def flag_paths(root: Path) -> list[str]:
    """Every flag file under `root/flags`, as sorted repository paths (symlinks are never
    followed: `read_checkout` reports them)."""
    base = root / FLAGS_DIR
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root).as_posix()
        found += (
            f"{rel}/{name}"
            for name in filenames
            if is_flag_path(f"{rel}/{name}") and not os.path.islink(os.path.join(dirpath, name))
        )
    return sorted(found)


def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(_READ_LIMIT)


def read_checkout(root: Path) -> Checkout:
    """Load flagbot.yml and every flag file; invalid files become diagnostics, never errors."""
    policy_file = root / POLICY_PATH
    policy_found = policy_file.is_file()
    paths = flag_paths(root)
    staged = {path: data for path in paths if _PLAN_KEY in (data := _read(root / path))}
    loaded = load_flagset(_read(policy_file) if policy_found else None, staged)
    planned = tuple(f for f in loaded.flags if has_plan(f))
    diagnostics = (
        *loaded.policy_problems,
        *checkout_problems(root),  # symlinks and submodules are no flags
        *loaded.flag_problems,
    )
    return Checkout(
        root,
        loaded.policy,
        policy_found,
        planned,
        {f.path: staged[f.path] for f in planned},
        diagnostics,
        len(paths),
    )

"""Policy first, then the flags with its defaults: the one way flagbot reads a repository.

`flagbot.yml` says where files directly in `flags/` belong and what a rollout waits and
watches when its file does not say; every reader (validate, the pull request check, the
rollout job, the exports and `flagbot eval`) must load flags with the same defaults, or
they would disagree about the same file. Pure: callers read the bytes from disk or GitHub.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.diagnostics import Diagnostic
from bot.flags.load import load_flag
from bot.flags.location import FlagLocation, locate
from bot.flags.model import Flag
from bot.policy.config import POLICY_PATH, load_policy
from bot.policy.model import NULL_POLICY, Policy


@dataclass(frozen=True, slots=True)
class FlagRepository:
    policy: Policy  # NULL_POLICY when flagbot.yml is missing or invalid
    policy_problems: tuple[Diagnostic, ...]
    flags: tuple[Flag, ...]  # the flags that loaded cleanly, in path order
    locations: tuple[FlagLocation, ...]  # every flag file whose path is valid, loaded or not
    flag_problems: tuple[Diagnostic, ...]

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.policy_problems + self.flag_problems


def read_policy(
    data: bytes | None, missing: Sequence[Diagnostic] = ()
) -> tuple[Policy, tuple[Diagnostic, ...]]:
    """`flagbot.yml`'s bytes (None: absent, then `missing` are the problems) -> the policy."""
    if data is None:
        return NULL_POLICY, tuple(missing)
    return _parsed_policy(data)


# By content (what a blob id names): every reconcile against the same base reuses the parse.
# The parsed objects are never mutated; bytes cache their own hash.
@lru_cache(maxsize=64)
def _parsed_policy(data: bytes) -> tuple[Policy, tuple[Diagnostic, ...]]:
    policy, problems = load_policy(data, POLICY_PATH)
    return policy, tuple(problems)


def load_with_policy(
    data: bytes, path: str, policy: Policy
) -> tuple[Flag | None, list[Diagnostic]]:
    """One flag file, with the defaults `policy` sets (the null policy's are flagbot's own)."""
    return load_flag(
        data,
        path,
        default_environment=policy.default_environment,
        default_every=policy.rollout.every,
        default_guard=policy.rollout.guard,
    )


def load_flagset(
    policy_data: bytes | None,
    files: Mapping[str, bytes],
    *,
    missing: Sequence[Diagnostic] = (),
) -> FlagRepository:
    """The policy, then each flag file in `files` (path -> bytes) with its defaults.

    Invalid files become diagnostics, never errors; `missing` are the problems to report when
    there is no flagbot.yml (none: its absence is fine, the defaults apply)."""
    policy, policy_problems = read_policy(policy_data, missing)
    flags: list[Flag] = []
    locations: list[FlagLocation] = []
    problems: list[Diagnostic] = []
    for path in sorted(files):
        flag, found = load_with_policy(files[path], path, policy)
        problems += found
        if flag is not None:
            flags.append(flag)
            locations.append(FlagLocation(flag.path, flag.key, flag.environment))
        elif (location := locate(path, policy.default_environment)[0]) is not None:
            locations.append(location)
    return FlagRepository(policy, policy_problems, tuple(flags), tuple(locations), tuple(problems))

"""The flags of one repository at one commit, as the exports and `flagbot eval` see them.

Built from a snapshot (path -> bytes) by the same loader as `flagbot validate` (policy first,
then the flags with its defaults), so a checkout on disk and the default branch read from
GitHub give the same answer. Pure: the callers read the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.diagnostics import Diagnostic
from bot.flags.location import locate
from bot.flags.model import Flag


@dataclass(frozen=True, slots=True)
class FlagSet:
    flags: tuple[Flag, ...]  # the flags that loaded cleanly
    diagnostics: tuple[Diagnostic, ...]
    default_environment: str
    environments: tuple[str, ...]  # every environment with a flag file (valid or not)
    repo: str | None = None  # owner/name, where known
    commit: str | None = None
    snapshot: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_snapshot(
        cls,
        snapshot: Mapping[str, bytes],
        *,
        repo: str | None = None,
        commit: str | None = None,
        not_regular: Iterable[Diagnostic] = (),
    ) -> FlagSet:
        """`not_regular`: the symlinks and submodules under flags/ the reader left out
        (`bot.flags.filemode`); each refuses the exports of its environment."""
        from bot.validation import (  # late: validation's checks import this package
            declared_environments,
            duplicate_keys,
            validate_snapshot,
        )

        # The cross-file checks an export depends on (one file per key, known environments);
        # CODEOWNERS and approvals are the pull request's business, not an application's.
        checks = (duplicate_keys, declared_environments)
        checked = validate_snapshot(snapshot, checks=checks, require_policy=False)
        repository = checked.repository
        envs = sorted({loc.environment for loc in repository.locations})
        return cls(
            repository.flags,
            checked.diagnostics + tuple(not_regular),
            repository.default_environment,
            tuple(envs),
            repo,
            commit,
            snapshot,
        )

    def flag(self, environment: str, key: str) -> Flag | None:
        for flag in self.flags:
            if flag.environment == environment and flag.key == key:
                return flag
        return None

    def in_environment(self, environment: str) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.environment == environment)

    def problems_of(self, environment: str, key: str) -> tuple[Diagnostic, ...]:
        """The problems of the file(s) that would define this flag."""
        return tuple(
            d
            for d in self.diagnostics
            if (loc := locate(d.path, self.default_environment)[0]) is not None
            and loc.environment == environment
            and loc.key == key
        )

    def errors_in(self, environment: str) -> tuple[Diagnostic, ...]:
        """Errors in this environment's flag files and in flagbot.yml (which sets defaults)."""
        out = []
        for d in self.diagnostics:
            if not d.is_error:
                continue
            loc = locate(d.path, self.default_environment)[0]
            if loc is None or loc.environment == environment:
                out.append(d)
        return tuple(out)

    def flag_set_id(self, environment: str) -> str:
        """flagd's `flagSetId`: `owner/repo:env`, or just the environment when not known."""
        return f"{self.repo}:{environment}" if self.repo else environment

"""Validate a repository snapshot: every flag file, `flagbot.yml`, and the rules across files.

A snapshot is a mapping of repository path -> file bytes, so the bot can feed it files fetched
from GitHub and the CLI files read from disk. Loading happens once; then each check in
`CHECKS` looks at the loaded repository and reports what it finds. New checks (CODEOWNERS,
policy coverage) are more functions of the same shape added to that tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.diagnostics import Diagnostic, has_errors
from bot.flags.location import FlagLocation, is_flag_path
from bot.flags.model import Flag
from bot.flags.repository import load_flagset
from bot.policy.config import POLICY_PATH
from bot.policy.model import Policy

Snapshot = Mapping[str, bytes]
MISSING_POLICY = Diagnostic(
    POLICY_PATH,
    1,
    1,
    f"{POLICY_PATH} is missing: flagbot needs it to know who approves changes; "
    'create it with at least roles: {manager: ["@org/managers"], qa: ["@org/qa"]}',
    "error",
    "missing-policy",
)


@dataclass(frozen=True, slots=True)
class Repository:
    """What the checks look at: the snapshot and what loading made of it."""

    snapshot: Snapshot
    policy: Policy  # NULL_POLICY when flagbot.yml is missing or invalid
    flags: tuple[Flag, ...]  # the flags that loaded cleanly
    locations: tuple[FlagLocation, ...]  # every flag file whose path is valid, loaded or not

    @property
    def default_environment(self) -> str:
        return self.policy.default_environment


Check = Callable[[Repository], Iterable[Diagnostic]]


@dataclass(frozen=True, slots=True)
class Validation:
    repository: Repository
    diagnostics: tuple[Diagnostic, ...]
    flag_paths: tuple[str, ...]  # every file read as a flag
    policy_paths: tuple[str, ...]  # flagbot.yml and CODEOWNERS, when present

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def restricted(self, keep: Callable[[str], bool]) -> Validation:
        """Only the files `keep` selects: what `flagbot validate PATH...` reports."""
        return Validation(
            self.repository,
            tuple(d for d in self.diagnostics if keep(d.path)),
            tuple(p for p in self.flag_paths if keep(p)),
            tuple(p for p in self.policy_paths if keep(p)),
        )

    def summary(self) -> str:
        """One line for people: `5 flags, 2 policy files: no problems`."""
        counts = (
            f"{_plural(len(self.flag_paths), 'flag')}, "
            f"{_plural(len(self.policy_paths), 'policy file')}"
        )
        errors = sum(d.is_error for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        if not self.diagnostics:
            return f"{counts}: no problems"
        files = len({d.path for d in self.diagnostics})
        parts = [_plural(errors, "error")] if errors else []
        parts += [_plural(warnings, "warning")] if warnings else []
        return f"{counts}: {' and '.join(parts)} in {_plural(files, 'file')}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def duplicate_keys(repo: Repository) -> Iterable[Diagnostic]:
    """One key per environment: `a.yaml` and `a.yml` (or `A.yaml`) would both claim it."""
    seen: dict[tuple[str, str], list[FlagLocation]] = {}
    for loc in repo.locations:
        seen.setdefault((loc.environment, loc.key.casefold()), []).append(loc)
    for (environment, _), group in seen.items():
        if len(group) < 2:
            continue
        for loc in group:
            others = ", ".join(o.path for o in group if o is not loc)
            yield Diagnostic(
                loc.path,
                1,
                1,
                f"flag key {loc.key!r} in environment {environment!r} is also defined by "
                f"{others}; keep one file per key (keys differing only in case clash on "
                "case-insensitive file systems)",
                "error",
                "duplicate-flag",
            )


def declared_environments(repo: Repository) -> Iterable[Diagnostic]:
    """When flagbot.yml lists `environments`, every environment folder must be one of them."""
    if not repo.policy.environments:  # the null policy lists none
        return
    allowed = repo.policy.environments
    for loc in repo.locations:
        if loc.environment not in allowed:
            yield Diagnostic(
                loc.path,
                1,
                1,
                f"environment {loc.environment!r} is not listed in {POLICY_PATH} "
                f"(environments: {', '.join(allowed)}); add it there or move the file",
                "error",
                "unknown-environment",
            )


def _policy_checks() -> tuple[Check, ...]:
    # Imported late: coverage builds on this module's Repository.
    from bot.policy.coverage import approvable, codeowners_syntax

    return (codeowners_syntax, approvable)


def _export_checks() -> tuple[Check, ...]:
    from bot.exports import exportable

    return (exportable,)


CHECKS: tuple[Check, ...] = (
    duplicate_keys, declared_environments, *_policy_checks(), *_export_checks()
)  # fmt: skip


def validate_snapshot(
    snapshot: Snapshot, *, checks: Iterable[Check] = CHECKS, require_policy: bool = True
) -> Validation:
    """Load and check everything flagbot reads in the snapshot; never raises on bad input."""
    flag_paths = tuple(sorted(p for p in snapshot if is_flag_path(p)))
    loaded = load_flagset(
        snapshot.get(POLICY_PATH),
        {path: snapshot[path] for path in flag_paths},
        missing=(MISSING_POLICY,) if require_policy else (),
    )
    diagnostics = list(loaded.diagnostics)
    repo = Repository(snapshot, loaded.policy, loaded.flags, loaded.locations)
    for check in checks:
        diagnostics += check(repo)
    from bot.policy.codeowners import locate as locate_codeowners

    owners_path = locate_codeowners(snapshot.__contains__)
    policy_paths = tuple(p for p in (POLICY_PATH, owners_path) if p and p in snapshot)
    return Validation(repo, tuple(diagnostics), flag_paths, policy_paths)

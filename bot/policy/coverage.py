"""Checks across flagbot.yml and CODEOWNERS that `flagbot validate` runs before anyone opens a
pull request: CODEOWNERS is readable, and every flag file can actually be approved.

A flag whose CODEOWNERS rule names no owner for a role some change to it needs would fail
closed in review; saying so at validate time lets the author fix the rule first.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot.diagnostics import Diagnostic
from bot.policy.codeowners import CODEOWNERS_LOCATIONS, CodeOwners, load_codeowners, locate
from bot.policy.decision import eligible_owners, role_label
from bot.policy.model import CHANGE_TYPES, Policy
from bot.validation import Repository


def possible_roles(policy: Policy, environment: str) -> dict[str, list[str]]:
    """Role -> the kinds of change in `environment` that need it."""
    needed: dict[str, list[str]] = {}
    for change_type in CHANGE_TYPES:
        enabled_values: tuple[bool | None, ...] = (
            (True, False) if change_type in ("toggle", "update", "create", "rollout") else (None,)
        )
        for enabled in enabled_values:
            for role in policy.required_roles(environment, change_type, enabled):
                label = (
                    change_type
                    if enabled is None or change_type != "toggle"
                    else (f"toggle {'on' if enabled else 'off'}")
                )
                if label not in needed.setdefault(role, []):
                    needed[role].append(label)
    return needed


def _codeowners(repo: Repository) -> tuple[CodeOwners | None, tuple[Diagnostic, ...]]:
    """Both checks ask; the file is parsed once (by path and content)."""
    path = locate(repo.snapshot.__contains__)
    return (None, ()) if path is None else _parsed(path, repo.snapshot[path])


@lru_cache(maxsize=8)
def _parsed(path: str, data: bytes) -> tuple[CodeOwners, tuple[Diagnostic, ...]]:
    owners, problems = load_codeowners(data, path)
    return owners, tuple(problems)


def codeowners_syntax(repo: Repository) -> Iterable[Diagnostic]:
    """Lines GitHub would reject (and skip), with line and column."""
    _, problems = _codeowners(repo)
    return problems


def approvable(repo: Repository) -> Iterable[Diagnostic]:
    """Every flag has a code owner, and an owner in each role its changes may need."""
    if repo.policy.is_null or not repo.locations:
        return []
    owners_file, _ = _codeowners(repo)
    if owners_file is None:
        return [
            Diagnostic(
                CODEOWNERS_LOCATIONS[0],
                0,
                0,
                "no CODEOWNERS file: flagbot cannot tell who may approve flag changes; create "
                f"{CODEOWNERS_LOCATIONS[0]} with a rule such as `/flags/ @org/managers @org/qa`",
                code="codeowners-missing",
            )
        ]
    out: list[Diagnostic] = []
    roles_by_env: dict[str, dict[str, list[str]]] = {}
    for loc in repo.locations:
        rule = owners_file.rule_for(loc.path)
        if rule is None or not rule.owners:
            where = f"line {rule.line} leaves it unowned" if rule else "no rule matches it"
            out.append(
                Diagnostic(
                    loc.path,
                    1,
                    1,
                    f"no code owner ({owners_file.path}: {where}); changes to this flag could "
                    "never be approved: add its owners to CODEOWNERS",
                    code="flag-unowned",
                )
            )
            continue
        if loc.environment not in roles_by_env:
            roles_by_env[loc.environment] = possible_roles(repo.policy, loc.environment)
        for role, kinds in roles_by_env[loc.environment].items():
            eligible = eligible_owners(repo.policy, rule.owners, role)
            if any(o.startswith("@") for o in eligible):
                continue
            mapped = " ".join(repo.policy.roles.get(role, ())) or "nobody"
            why = (
                f"only e-mail addresses ({' '.join(eligible)}) hold it, and a review names a "
                "GitHub login; name them as @login or @org/team there and in flagbot.yml"
                if eligible
                else f"add one of {mapped} to that line"
            )
            out.append(
                Diagnostic(
                    loc.path,
                    1,
                    1,
                    f"{', '.join(kinds)} changes need {role_label(role)}, but none of this "
                    f"file's code owners ({owners_file.path} line {rule.line}: "
                    f"{' '.join(rule.owners)}) can approve as {role!r}; {why}",
                    code="role-without-owner",
                )
            )
    return out

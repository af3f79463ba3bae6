"""What `GET /repos/{owner}/{repo}/codeowners/errors` reports about a CODEOWNERS file.

TEMPORARY, minimal detector behind a small interface (`CodeownersCheck`): it flags the
mistakes GitHub reports (unsupported pattern syntax, malformed owners, owners that do not
exist or lack write access). It is to be replaced by the project's parser in
`bot.policy.codeowners` once that lands, so GitHub's view and flagbot's stay one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from bot.emulator.state import Repo, State

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")

_USER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?$")
_TEAM = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CodeownersCheck(Protocol):
    def __call__(
        self, text: str, path: str, owner_known: Callable[[str], bool]
    ) -> list[dict[str, Any]]: ...


def _error(
    kind: str,
    line: int,
    column: int,
    source: str,
    path: str,
    detail: str = "",
    suggestion: str | None = None,
) -> dict[str, Any]:
    head = f"{kind} on line {line}:" + (f" {detail}" if detail else "")
    caret = " " * (column - 1) + "^"
    return {
        "line": line,
        "column": column,
        "kind": kind,
        "source": source,
        "suggestion": suggestion,
        "message": f"{head}\n\n  {source}\n  {caret}",
        "path": path,
    }


def _pattern_problem(pattern: str) -> str | None:
    if pattern.startswith("!"):
        return "negated patterns are not supported"
    if "[" in pattern or "]" in pattern:
        return "character ranges are not supported"
    if "***" in pattern:
        return "Did you mean `**`?"
    return None


def codeowners_errors(
    text: str, path: str, owner_known: Callable[[str], bool]
) -> list[dict[str, Any]]:
    errors = []
    for number, raw in enumerate(text.splitlines(), start=1):
        source = raw.rstrip("\r")
        stripped = source.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tokens = [(m.start() + 1, m.group()) for m in re.finditer(r"\S+", source)]
        column, pattern = tokens[0]
        problem = _pattern_problem(pattern)
        if problem:
            suggestion = problem if problem.startswith("Did you mean") else None
            errors.append(
                _error("Invalid pattern", number, column, source, path, problem, suggestion)
            )
            continue
        for column, owner in tokens[1:]:
            if owner.startswith("#"):
                break
            if not (_USER.match(owner) or _TEAM.match(owner) or _EMAIL.match(owner)):
                errors.append(_error("Invalid owner", number, column, source, path))
            elif not owner_known(owner):
                detail = f"make sure {owner} exists and has write access to the repository"
                errors.append(_error("Unknown owner", number, column, source, path, detail))
    return errors


def owner_known(state: State, repo: Repo) -> Callable[[str], bool]:
    """Whether an owner is one GitHub would accept for `repo`."""

    def known(owner: str) -> bool:
        if _EMAIL.match(owner):
            return any((u.email or "").lower() == owner.lower() for u in state.users.values())
        name = owner[1:]
        if "/" in name:
            org_login, _, slug = name.partition("/")
            org = state.orgs.get(org_login.lower())
            return org is not None and slug in org.teams
        if name.lower() not in state.users:
            return False
        return state.role(repo, name) in ("write", "maintain", "admin")

    return known

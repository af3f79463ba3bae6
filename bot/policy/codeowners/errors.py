"""CODEOWNERS problems in the shape of GitHub's `GET /repos/{o}/{r}/codeowners/errors`.

One record serves two readers: `to_github()` gives the endpoint's JSON item (line, column,
kind, source, suggestion, message, path), so the emulator can answer as GitHub does, and
`to_diagnostic()` gives flagbot's own one-line `path:line:col: message` with what to do.
The `message` layout follows GitHub's published example:
`Invalid owner on line 7:\\n\\n  *.txt docs@\\n        ^`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.diagnostics import Diagnostic

INVALID_PATTERN = "Invalid pattern"
INVALID_OWNER = "Invalid owner"
UNKNOWN_OWNER = "Unknown owner"

_CODES = {
    INVALID_PATTERN: "codeowners-invalid-pattern",
    INVALID_OWNER: "codeowners-invalid-owner",
    UNKNOWN_OWNER: "codeowners-unknown-owner",
}


@dataclass(frozen=True, slots=True)
class CodeownersError:
    """A line GitHub rejects (and skips), or an owner it ignores. Line and column are 1-based;
    `detail` is flagbot's explanation and advice, `suggestion` GitHub's optional hint."""

    path: str
    line: int
    column: int
    kind: str
    source: str
    detail: str
    suggestion: str | None = None

    @property
    def message(self) -> str:
        head = f"{self.kind} on line {self.line}:"
        if self.suggestion:
            head += f" {self.suggestion}"
        return f"{head}\n\n  {self.source}\n  {' ' * (self.column - 1)}^"

    def to_github(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "source": self.source,
            "suggestion": self.suggestion,
            "message": self.message,
            "path": self.path,
        }

    def to_diagnostic(self) -> Diagnostic:
        severity = "warning" if self.kind == UNKNOWN_OWNER else "error"
        return Diagnostic(
            self.path,
            self.line,
            self.column,
            f"{self.kind.lower()}: {self.detail}",
            severity,
            _CODES.get(self.kind, "codeowners"),
        )


def unknown_owner(path: str, line: int, column: int, source: str, owner: str) -> CodeownersError:
    """GitHub ignores an owner that does not exist or lacks write access, but keeps the rest of
    the line. The wording is GitHub's as seen in its UI; the e-mail variant is ours."""
    if owner.startswith("@") and "/" in owner:
        hint = (
            f"make sure the team {owner} exists, is publicly visible, "
            "and has write access to the repository"
        )
    elif owner.startswith("@"):
        hint = f"make sure {owner} exists and has write access to the repository"
    else:
        hint = f"make sure {owner} is the verified e-mail of a user with write access"
    return CodeownersError(path, line, column, UNKNOWN_OWNER, source, hint, hint)

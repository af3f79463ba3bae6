"""Diagnostics: what every check reports, with the file, line and column a person fixes.

Lines and columns are 1-based, as editors and GitHub annotations count them. A diagnostic
without a position (line 0) is about the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str
    line: int
    column: int
    message: str
    severity: Severity = "error"
    code: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.path, d.line, d.column, d.message)


def format_text(diagnostics: Iterable[Diagnostic]) -> str:
    lines = []
    for d in sorted(diagnostics, key=sort_key):
        prefix = "" if d.is_error else "warning: "
        lines.append(f"{d.path}:{d.line}:{d.column}: {prefix}{d.message}")
    return "\n".join(lines)


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in sorted(diagnostics, key=sort_key)], indent=2)


def _escape_data(value: str) -> str:
    # GitHub workflow-command escaping for the message part.
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands, so problems show up as annotations on the diff."""
    lines = []
    for d in sorted(diagnostics, key=sort_key):
        props = [f"file={_escape_property(d.path)}"]
        if d.line:
            props.append(f"line={d.line}")
            if d.column:
                props.append(f"col={d.column}")
        lines.append(f"::{d.severity} {','.join(props)}::{_escape_data(d.message)}")
    return "\n".join(lines)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}

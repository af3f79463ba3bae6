"""Where a flag file lives says what it is: `flags/<key>.yaml` or `flags/<env>/<key>.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.diagnostics import Diagnostic

FLAGS_DIR = "flags"
FLAG_SUFFIXES = (".yaml", ".yml")
MAX_NAME_LENGTH = 64
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
NAME_RULE = "letters, digits, _ and -, starting with a letter or digit, at most 64 characters"


def in_flags_dir(path: str) -> bool:
    """Is this path flagbot's to govern? Everything under `flags/` is, flag file or not."""
    return path.startswith(FLAGS_DIR + "/")


def is_flag_path(path: str) -> bool:
    """Is this repository path one that flagbot reads as a flag (however badly placed)?"""
    return path.startswith(FLAGS_DIR + "/") and path.endswith(FLAG_SUFFIXES)


def valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class FlagLocation:
    path: str
    key: str
    environment: str


def locate(path: str, default_environment: str) -> tuple[FlagLocation | None, list[Diagnostic]]:
    """The key and environment a flag file's path gives it, or why the path is not allowed."""

    def problem(message: str, code: str) -> tuple[None, list[Diagnostic]]:
        return None, [Diagnostic(path, 1, 1, message, "error", code)]

    if not is_flag_path(path):
        return problem("flag files live in flags/ and end in .yaml or .yml", "flag-path")
    parts = path.split("/")[1:]
    if len(parts) > 2:
        return problem(
            "flag files go directly in flags/ or one folder below it "
            "(flags/<environment>/<key>.yaml); move this file up",
            "flag-path-depth",
        )
    stem = parts[-1].rsplit(".", 1)[0]
    environment = parts[0] if len(parts) == 2 else default_environment
    problems = []
    if not valid_name(stem):
        problems.append(
            f"the flag key {stem!r} (the file name) is not valid: use {NAME_RULE}; rename the file"
        )
    if len(parts) == 2 and not valid_name(environment):
        problems.append(
            f"the environment folder {environment!r} is not a valid name: use {NAME_RULE}; "
            "rename the folder"
        )
    if problems:
        return None, [Diagnostic(path, 1, 1, m, "error", "flag-name") for m in problems]
    return FlagLocation(path, stem, environment), []

"""Which CODEOWNERS file applies, and reading its bytes.

GitHub looks in `.github/`, then the root, then `docs/`, and uses the first file it finds
(about-code-owners: "GitHub will search for them in that order and use the first one it
finds"). The bot reads it from the pull request's base commit, never from the head.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.diagnostics import Diagnostic
from bot.policy.codeowners.matcher import CodeOwners
from bot.policy.codeowners.syntax import MAX_BYTES, parse_codeowners, too_large

CODEOWNERS_LOCATIONS: tuple[str, ...] = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


def locate(exists: Callable[[str], bool]) -> str | None:
    """The path GitHub would use, given a test for whether a path exists at the commit."""
    return next((path for path in CODEOWNERS_LOCATIONS if exists(path)), None)


def load_codeowners(data: bytes, path: str) -> tuple[CodeOwners, list[Diagnostic]]:
    """Parse a file's bytes. A file that is too large or not UTF-8 yields no rules, so every
    path is unowned and approvals fail closed, with a diagnostic saying why."""
    if len(data) >= MAX_BYTES:
        return CodeOwners(path), [too_large(path, len(data))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"CODEOWNERS is not valid UTF-8 (byte 0x{data[exc.start]:02x}); no rule is used "
            "until the file is saved as UTF-8"
        )
        return CodeOwners(path), [
            Diagnostic(path, line, column, message, code="codeowners-encoding")
        ]
    return parse_codeowners(text, path)


def find_codeowners(
    files: Mapping[str, bytes],
) -> tuple[CodeOwners | None, list[Diagnostic]]:
    """The CODEOWNERS among `files` (path -> content at one commit), parsed; None if absent."""
    path = locate(files.__contains__)
    if path is None:
        return None, []
    return load_codeowners(files[path], path)

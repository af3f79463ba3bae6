"""Reading CODEOWNERS text into rules, the way GitHub reads it.

A line is a pattern followed by owners, separated by spaces or tabs; `#` starts a comment at
the beginning of a line or after whitespace. Owners are `@user`, `@org/team` or an e-mail.
A pattern alone is a rule that leaves its files without owners. A line GitHub would reject is
reported (line, column, kind, as GitHub's CODEOWNERS errors do) and skipped, as GitHub skips
it; we never guess what it meant. GitHub documents these gitignore features as unsupported:
`!` negation, `[ ]` character ranges, and `\\#` to escape a leading `#`; its errors endpoint
also rejects `***` and a lone `/`, and asks for `[` and `]` in names to be escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from bot.diagnostics import Diagnostic
from bot.policy.codeowners.errors import (
    INVALID_OWNER,
    INVALID_PATTERN,
    CodeownersError,
    unknown_owner,
)
from bot.policy.codeowners.matcher import CodeOwners, RuleRow

DEFAULT_PATH = ".github/CODEOWNERS"
# GitHub: "must be under 3 MB ... over this limit will not be loaded". Which megabyte is not
# said; the smaller one means we never grant ownership from a file GitHub would not load.
MAX_BYTES = 3_000_000

OwnerKind = Literal["user", "team", "email"]
_USER = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]*")
_TEAM = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9_-]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A token runs to unescaped whitespace; a backslash escapes the next character.
_TOKEN = re.compile(r"(?:\\.|\\$|[^ \t\\])+")
# Anything that may make a pattern invalid; most patterns have none and skip the full check.
_SUSPECT = re.compile(r"^!|[\\\[\]]|\*\*\*")
# What may make a line invalid (`\`, `[`, `]`, `!`, `***`), and every character `str.split`
# takes for whitespace but GitHub does not (all but space, tab and newline; `\r` only inside
# a line): lines with none of these are read by `str.split` alone.
_CAREFUL_ASCII = "\\[]!\x0b\x0c\x1c\x1d\x1e\x1f"
_CAREFUL_WIDE = (
    "\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
_GITLAB_SECTION = re.compile(r"\^?\[[^\]]*\](?:\[\d+\])?(?:\s|$)")
_SKIPPED = "GitHub skips this whole line"


@lru_cache(maxsize=4096)
def owner_kind(owner: str) -> OwnerKind | None:
    """What an owner token names, or None when GitHub would call it an invalid owner."""
    if _TEAM.fullmatch(owner):
        return "team"
    if _USER.fullmatch(owner):
        return "user"
    if _EMAIL.fullmatch(owner):
        return "email"
    return None


def parse_codeowners(text: str, path: str = DEFAULT_PATH) -> tuple[CodeOwners, list[Diagnostic]]:
    """The rules GitHub would load, and every problem found (errors, then warnings).

    Every line is checked here, so `flagbot validate` sees every error; what is left for
    later is only compiling patterns, which matching does as it needs them. Most lines hold
    nothing that could make them invalid or make `str.split` differ from GitHub's spaces and
    tabs; one search of the whole text finds the few that do (`_careful_lines`)."""
    size = len(text) if len(text) * 4 < MAX_BYTES else len(text.encode("utf-8", "replace"))
    if size >= MAX_BYTES:
        return CodeOwners(path), [too_large(path, size)]
    text = text.removeprefix("\ufeff")
    careful = _careful_lines(text)
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.removesuffix("\r") for line in lines]
    rows: list[RuleRow] = []
    errors: list[CodeownersError] = []
    warnings: list[Diagnostic] = []
    valid: set[str] = set()  # owners seen to be valid in this file
    for number, line in enumerate(lines, 1):
        words = _words(line) if careful and number in careful else line.split()
        if not words or words[0][0] == "#":
            continue
        pattern = words[0]
        owners = words[1:]
        if "#" in line:
            for k, word in enumerate(owners):
                if word[0] == "#":
                    del owners[k:]
                    break
        suspect = pattern == "/" or (
            bool(careful) and number in careful and _SUSPECT.search(pattern) is not None
        )
        if suspect or not valid.issuperset(owners):
            if not suspect and all(map(owner_kind, owners)):
                valid.update(owners)
            else:
                problems = _line_problems(path, number, line)
                if problems:
                    errors.extend(problems)
                    continue
        if pattern[0] == "@" and owner_kind(pattern) in ("user", "team"):
            warnings.append(_owner_as_pattern(path, number, line, pattern, owners))
        rows.append((pattern, tuple(owners), number, line))
    result = CodeOwners(path, tuple(rows), tuple(errors))
    return result, [error.to_diagnostic() for error in errors] + warnings


def _careful_lines(text: str) -> set[int]:
    """Numbers of the lines holding anything `_CAREFUL_ASCII` or `_CAREFUL_WIDE` names, or
    `***`, or a `\\r` inside a line. Each is looked for with `str.find` (a memory scan): a
    regular expression over the whole text would cost more than the rest of the parse."""
    found: list[int] = []
    for ch in _CAREFUL_ASCII if text.isascii() else _CAREFUL_ASCII + _CAREFUL_WIDE:
        found += _occurrences(text, ch)
    found += _occurrences(text, "***")
    found += [at for at in _occurrences(text, "\r") if text[at + 1 : at + 2] not in ("\n", "")]
    numbers: set[int] = set()
    number, at = 1, 0
    for position in sorted(found):
        number += text.count("\n", at, position)
        at = position
        numbers.add(number)
    return numbers


def _occurrences(text: str, sub: str) -> list[int]:
    found = []
    at = text.find(sub)
    while at >= 0:
        found.append(at)
        at = text.find(sub, at + 1)
    return found


def _words(line: str) -> list[str]:
    """A line's words, split at unescaped spaces and tabs only."""
    if "\\" in line:
        return _TOKEN.findall(line)
    return [word for word in line.replace("\t", " ").split(" ") if word]


def unknown_owner_errors(
    codeowners: CodeOwners, is_known: Callable[[str], bool]
) -> list[CodeownersError]:
    """`Unknown owner` records for owners that `is_known` rejects. Only the repository knows
    who exists and has write access, so the caller supplies that knowledge."""
    errors = []
    for _, _, line, source in codeowners.rows:
        for owner, column in _owners_with_columns(source):
            if not is_known(owner):
                errors.append(unknown_owner(codeowners.path, line, column, source, owner))
    return errors


def _owners_with_columns(line: str) -> list[tuple[str, int]]:
    owners = []
    for token in list(_TOKEN.finditer(line))[1:]:
        if token.group().startswith("#"):
            break
        owners.append((token.group(), token.start() + 1))
    return owners


def too_large(path: str, size: int) -> Diagnostic:
    return Diagnostic(
        path,
        0,
        0,
        f"CODEOWNERS is {size} bytes; GitHub does not load a file of 3 MB or more, so no file "
        "has a code owner. Shorten it, e.g. with directory patterns instead of one line a file",
        code="codeowners-too-large",
    )


def _line_problems(path: str, number: int, line: str) -> list[CodeownersError]:
    tokens = _TOKEN.finditer(line)
    first = next(tokens)
    problems = []
    found = _pattern_problem(first.group(), line)
    if found is not None:
        offset, suggestion, detail = found
        column = first.start() + 1 + offset
        problems.append(
            CodeownersError(path, number, column, INVALID_PATTERN, line, detail, suggestion)
        )
        if _GITLAB_SECTION.match(line.strip()):
            return problems  # the words of a section name are not meant as owners
    for owner, column in _owners_with_columns(line):
        if owner_kind(owner) is None:
            problems.append(
                CodeownersError(path, number, column, INVALID_OWNER, line, _owner_advice(owner))
            )
    return problems


def _pattern_problem(pattern: str, line: str) -> tuple[int, str | None, str] | None:
    """(offset in the pattern, GitHub-style suggestion, our advice) for the first problem."""
    if pattern.startswith("!"):
        return (
            0,
            None,
            "negation with `!` is not supported in CODEOWNERS; to exempt files, add a later "
            f"rule for them with their own owners (or none); {_SKIPPED}",
        )
    if pattern.startswith("\\#"):
        return (
            0,
            None,
            "escaping a leading `#` with `\\` is not supported in CODEOWNERS; match the `#` "
            f"with `?` instead (for example `?{pattern[2:]}`); {_SKIPPED}",
        )
    star_run = 0
    escaped = False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
            star_run = 0
            continue
        if ch == "\\":
            escaped = True
            if i == len(pattern) - 1:
                return (
                    i,
                    None,
                    "a pattern cannot end with a lone `\\`; remove it, or write `\\ ` for a "
                    f"trailing space; {_SKIPPED}",
                )
        elif ch in "[]":
            if _GITLAB_SECTION.match(line.strip()):
                advice = (
                    "GitLab section headers such as `[Docs]` are not CODEOWNERS syntax on "
                    "GitHub; delete the line or make it a `#` comment"
                )
            else:
                advice = (
                    "character ranges with `[ ]` are not supported in CODEOWNERS; if the "
                    "brackets are part of the name, escape them as `\\[` and `\\]`"
                )
            return i, "both `[` and `]` must be escaped with a `\\`", f"{advice}; {_SKIPPED}"
        elif ch == "*":
            star_run += 1
            if star_run == 3:
                fixed = re.sub(r"(?<!\\)\*{3,}", "**", pattern)
                advice = f"`***` is not a wildcard; did you mean `{fixed}`? {_SKIPPED}"
                return i - 2, f"Did you mean `{fixed}`?", advice
            continue
        star_run = 0
    if pattern == "/":
        suggestion = "The pattern `/` will never match anything, did you mean `*` instead?"
        return 0, suggestion, f"the pattern `/` never matches anything; use `*`; {_SKIPPED}"
    return None


def _owner_advice(owner: str) -> str:
    if owner.startswith("@") and owner.count("@") > 1:
        return f"`{owner}` runs owners together; separate them with a space; {_SKIPPED}"
    if owner.startswith("@"):
        return f"`{owner}` is neither a user (@name) nor a team (@org/team-name); {_SKIPPED}"
    if "@" in owner:
        return f"`{owner}` is not a valid e-mail address, like docs@example.com; {_SKIPPED}"
    if owner_kind("@" + owner):
        return f"owners start with `@`: did you mean `@{owner}`? {_SKIPPED}"
    return f"`{owner}` is not an owner: write @user, @org/team-name or an e-mail; {_SKIPPED}"


def _owner_as_pattern(
    path: str, number: int, line: str, pattern: str, owners: list[str]
) -> Diagnostic:
    column = line.index(pattern) + 1
    if owners:
        message = (
            f"the pattern `{pattern}` looks like an owner; a line starts with the file "
            "pattern, for example `* " + " ".join([pattern, *owners]) + "`"
        )
    else:
        message = (
            f"`{pattern}` is read as a file pattern with no owners, so it owns nothing; "
            f"put a pattern first, for example `* {pattern}`"
        )
    return Diagnostic(path, number, column, message, "warning", "codeowners-owner-as-pattern")

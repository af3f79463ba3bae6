"""Matching most patterns with string operations instead of a regular expression.

Compiling a regular expression costs tens of microseconds, more than a cold lookup's whole
budget for a pattern. But most patterns are a fixed run of segments, each a literal name, a
lone `*` or `head*tail` (`*.py`, `test_*`), anchored at the root or (a leading `**`) at any
directory; then a path matches when some run of its segments fits one by one, and what may
follow is what `pattern._regex` says: anything (the file, or a directory and what is under
it), something (a trailing `/`, or a trailing `**`), or nothing (a last lone `*`, GitHub's
`docs/*`). `plan` says how to match such a pattern, or None for the others (a `**` in the
middle, `?`, several `*` in one segment), which keep their regular expression.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.policy.codeowners.pattern import STAR, Glob

_DOUBLE_STAR = (STAR, STAR)
# What may follow the matched segments.
ANYTHING, SOMETHING, NOTHING = 0, 1, 2


class Plan(NamedTuple):
    """`fits`: per segment (head, tail): a name fits when it starts with head and ends with
    tail, without the two overlapping; `exact`: per segment, whether it must equal head;
    `anywhere`: a leading `**`, so the run may start at any segment; `then`: what may follow
    the run (ANYTHING, SOMETHING or NOTHING)."""

    fits: tuple[tuple[str, str], ...]
    exact: tuple[bool, ...]
    anywhere: bool
    then: int


def plan(glob: Glob) -> Plan | None:
    """How to match `glob` without a regex, or None if it needs one."""
    segments = list(glob.segments)
    anywhere = bool(segments) and segments[0] == _DOUBLE_STAR
    if anywhere:
        del segments[0]
    then = SOMETHING if glob.directory_only else ANYTHING
    if segments and segments[-1] == _DOUBLE_STAR and not glob.directory_only:
        del segments[-1]  # `a/**`: what is inside `a`
        then = SOMETHING
    elif segments and segments[-1] == (STAR,) and not glob.directory_only:
        then = NOTHING  # `docs/*`: direct children only
    if not segments:
        return None  # `**` alone and `**/`: left to the regex
    fits = []
    for segment in segments:
        if segment == _DOUBLE_STAR:
            return None  # `a/**/b`: zero or more directories, left to the regex
        fit = _fit(segment)
        if fit is None:
            return None
        fits.append(fit)
    exact = tuple(STAR not in segment for segment in segments)
    return Plan(tuple(fits), exact, anywhere, then)


def _fit(segment: tuple[object, ...]) -> tuple[str, str] | None:
    """(head, tail) for a literal, `*`, `head*`, `*tail` or `head*tail` (`**` inside a
    segment is a `*`); None for anything else (`?`, two separate `*`)."""
    tokens = [t for i, t in enumerate(segment) if not (t is STAR and i and segment[i - 1] is STAR)]
    if not all(isinstance(t, str) or t is STAR for t in tokens):
        return None
    if STAR not in tokens:
        # `_split` joins adjacent literal characters: a literal segment is one token, or none.
        return (str(tokens[0]) if tokens else "", "") if len(tokens) < 2 else None
    star = tokens.index(STAR)
    head, tail = tokens[:star], tokens[star + 1 :]
    if len(head) > 1 or len(tail) > 1 or STAR in tail:
        return None
    return (str(head[0]) if head else "", str(tail[0]) if tail else "")


def matches(p: Plan, path: str) -> bool:
    """Whether the pattern `p` was planned from matches `path` (as its regex would)."""
    parts = path.split("/")
    k = len(p.fits)
    last = len(parts) - k  # the last segment a run of k segments may start at
    if last < 0:
        return False
    starts = range(last + 1) if p.anywhere else (0,)
    for start in starts:
        rest = last - start  # segments after the run
        if (p.then == NOTHING and rest) or (p.then == SOMETHING and not rest):
            continue
        if _fits(p, parts, start):
            return True
    return False


def _fits(p: Plan, parts: list[str], start: int) -> bool:
    for (head, tail), exact, name in zip(
        p.fits, p.exact, parts[start : start + len(p.fits)], strict=True
    ):
        if exact:
            if name != head:
                return False
        elif not (
            len(name) >= len(head) + len(tail) and name.startswith(head) and name.endswith(tail)
        ):
            return False
    return True

"""One CODEOWNERS pattern: what paths it matches, and how to find it quickly.

GitHub says the syntax "follows most of the same rules used in gitignore files". So we follow
git's gitignore(5) matching, with the one deviation GitHub documents: a pattern whose last
segment is a lone `*` (`docs/*`) owns only the direct children, not files further down.

- A leading `/`, or a `/` anywhere but at the end, anchors the pattern at the repository root;
  otherwise it matches at any depth (as if it began with `**/`).
- A trailing `/` matches directories only, so it owns everything under them, never a file of
  that name.
- `*` and `?` never cross `/`. `**` as a whole segment spans any number of directories:
  leading (`**/x`), middle (`a/**/b`, zero or more) or trailing (`a/**`, everything inside
  `a`). Elsewhere `**` is an ordinary `*`.
- Matching a directory matches everything under it (`foo` owns `foo/bar.txt`).
- A backslash makes the next character literal (`\\*`, `\\ `). Paths are case-sensitive.

Paths are repository-relative as git writes them (no leading `/`); one ending in `/` names a
directory. Patterns reaching this module have passed `syntax.py` (no `!`, no unescaped `[ ]`,
no `***`). The result is the pattern's segments, a full-match regular expression built on
demand, and index keys (`Glob.prefix`, `.segment`, `.extension`, `.head`) naming literals a
matching path must contain, so that a file of a thousand rules is searched through a handful
of candidates instead of all of them.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple


class Wildcard(Enum):
    STAR = "*"
    QMARK = "?"


STAR, QMARK = Wildcard.STAR, Wildcard.QMARK
# A segment is a tuple of tokens: literal text, or a wildcard.
Token = str | Wildcard
Segment = tuple[Token, ...]
_DOUBLE_STAR: Segment = (STAR, STAR)


# How a pattern is matched; all but REGEX need no regular expression.
LITERAL = "literal"  # all literal (`/services/api/`), or one literal name anywhere (`tests/`)
CHILDREN = "children"  # literal directories, then a lone `*`: direct children (`docs/*`, `/*`)
EVERYTHING = "everything"  # `*`, `**`
NAME = "name"  # one segment `*.ext` or `head*`, anywhere or right after a literal prefix
REGEX = "regex"


class Glob(NamedTuple):
    """A compiled pattern (a named tuple: a thousand are built per file, cheaply).

    `segments` come after anchoring (an unanchored name gets a leading `**`);
    `directory_only` is a trailing `/`; `anchored`: the first segment is not `**`.
    A path the pattern matches starts with the segments `prefix` (the literal start of an
    anchored pattern) and, after them, has a segment that equals `segment` (`*/internal/`),
    or has the text `extension` after its last dot (`*.js`), or starts with `head`
    (`test_*`); at most one of these three is set. `shape` says how much these decide:
    for LITERAL, `prefix` or `segment` decides; for NAME, the `extension` or `head` of one
    segment (any segment, or the one right after `prefix` when anchored) decides; a
    `directory_only` pattern then wants more path after it. REGEX needs `regex()`.
    """

    text: str
    segments: tuple[Segment, ...]
    directory_only: bool = False
    anchored: bool = True
    prefix: tuple[str, ...] = ()
    segment: str | None = None
    extension: str | None = None
    head: str | None = None
    shape: str = REGEX

    def regex(self, after_prefix: bool = False) -> str:
        """A regular expression for `re.fullmatch` on the whole path or, `after_prefix`, on
        what follows the literal `prefix` (`/x.py` of `src/app/x.py` for `/src/app/*.py`)."""
        return _regex(self.segments, self.directory_only, len(self.prefix) if after_prefix else 0)


def compile_glob(text: str) -> Glob:
    if "*" not in text and "?" not in text and "\\" not in text:
        return _compile_literal(text)
    segments = _split(text)
    anchored = text.startswith("/")
    directory_only = len(segments) > 1 and segments[-1] == ()
    if directory_only:
        segments = segments[:-1]
    if anchored:
        segments = segments[1:]
    segments = _collapse_double_stars(segments)
    if not anchored and len(segments) == 1 and segments[0] != _DOUBLE_STAR:
        # No slash except a trailing one: the name may sit at any depth.
        segments = [_DOUBLE_STAR, *segments]
    prefix, segment, extension, head = _index_key(segments)
    anchored = segments[0] != _DOUBLE_STAR
    after = segments[len(prefix) :] if anchored else segments[1:]
    if len(prefix) == len(segments) or (not anchored and len(after) == 1 and segment is not None):
        shape = LITERAL
    elif not directory_only and (segments == [_DOUBLE_STAR] or after == [(STAR,)]):
        # `*`, `**`: every path; `docs/*`, `/*`: the direct children of the prefix.
        shape = CHILDREN if anchored else EVERYTHING
    elif len(after) == 1:
        shape, extension, head = _name_shape(after[0], extension, head)
    else:
        shape = REGEX
    return Glob(
        text,
        tuple(segments),
        directory_only,
        anchored,
        prefix,
        segment,
        extension,
        head,
        shape,
    )


def _name_shape(
    name: Segment, extension: str | None, head: str | None
) -> tuple[str, str | None, str | None]:
    """NAME for `*.ext` (a name ends with `.ext` exactly when that is the text after its last
    dot) and for `head*`; anything else stays REGEX with the keys it had."""
    if len(name) == 2 and name[0] is STAR and isinstance(name[1], str) and name[1].rfind(".") == 0:
        return NAME, name[1][1:], None
    if len(name) == 2 and name[1] is STAR and isinstance(name[0], str):
        return NAME, None, name[0]
    return REGEX, extension, head


def _compile_literal(text: str) -> Glob:
    """The common case, no wildcards or escapes: plain string work, same result."""
    parts = text.split("/")
    anchored = parts[0] == "" and len(parts) > 1
    directory_only = len(parts) > 1 and parts[-1] == ""
    if directory_only:
        parts.pop()
    if anchored:
        del parts[0]
    segments = tuple([(part,) if part else () for part in parts])
    if not segments:  # the pattern `/` names no file (syntax.py reports it)
        return Glob(text, ())
    if anchored or len(parts) > 1:
        return Glob(text, segments, directory_only, prefix=tuple(parts), shape=LITERAL)
    return Glob(
        text,
        (_DOUBLE_STAR, *segments),
        directory_only,
        anchored=False,
        segment=parts[0],
        shape=LITERAL,
    )


def _split(text: str) -> list[Segment]:
    """Segments of tokens; a backslash makes the next character a literal (`\\/` stays a `/`)."""
    segments: list[Segment] = []
    tokens: list[Token] = []
    literal: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            if ch != "/":
                literal.append(ch)
                continue
        elif ch == "\\":
            escaped = True
            continue
        if ch in "*?/":
            if literal:
                tokens.append("".join(literal))
                literal = []
            if ch == "/":
                segments.append(tuple(tokens))
                tokens = []
            else:
                tokens.append(STAR if ch == "*" else QMARK)
        else:
            literal.append(ch)
    if literal:
        tokens.append("".join(literal))
    segments.append(tuple(tokens))
    return segments


def _collapse_double_stars(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if seg == _DOUBLE_STAR and out and out[-1] == _DOUBLE_STAR:
            continue
        out.append(seg)
    return out


def _segment_regex(seg: Segment) -> str:
    parts: list[str] = []
    for token in seg:
        if token is STAR:
            if not parts or parts[-1] != "[^/]*":  # `**` inside a segment is a plain `*`
                parts.append("[^/]*")
        elif token is QMARK:
            parts.append("[^/]")
        else:
            parts.append(re.escape(token))
    return "".join(parts)


def _regex(segments: tuple[Segment, ...], directory_only: bool, skip: int = 0) -> str:
    if not segments:
        return "(?!)"
    last = len(segments) - 1
    out: list[str] = []
    for i in range(skip, last + 1):
        seg = segments[i]
        if seg == _DOUBLE_STAR:
            if last == 0:
                out.append(".*")  # `**` alone: everything
            elif i == 0:
                out.append("(?:.*/)?")  # any leading directories, or none
            elif i == last:
                out.append("/.*")  # everything inside
            else:
                out.append("/(?:.*/)?")  # zero or more directories in between
            continue
        if i > 0 and segments[i - 1] != _DOUBLE_STAR:
            out.append("/")
        out.append(_segment_regex(seg))
    if directory_only:
        out.append("/.*")  # a directory of that name: everything under it
    elif segments[last] == (STAR,):
        pass  # `docs/*`: direct children only (GitHub's documented example)
    elif segments[last] != _DOUBLE_STAR:
        out.append("(?:/.*)?")  # the file itself, or everything under a directory of that name
    return "".join(out)


def _is_literal(seg: Segment) -> bool:
    # `_split` joins adjacent literal characters, so a literal segment has one token (or none).
    return not seg or (len(seg) == 1 and isinstance(seg[0], str))


def _text(seg: Segment) -> str:
    return seg[0] if seg and isinstance(seg[0], str) else ""


def _index_key(
    segments: list[Segment],
) -> tuple[tuple[str, ...], str | None, str | None, str | None]:
    """The literal prefix of an anchored pattern, then one key for the segments after it.
    Each segment other than `**` matches exactly one path segment, so a literal segment must
    appear in the path as it is, a dot in a segment's literal tail fixes an extension, and a
    segment's literal head starts one."""
    prefix: list[str] = []
    for seg in segments:
        if not _is_literal(seg):
            break
        prefix.append(_text(seg))
    rest = [seg for seg in segments[len(prefix) :] if seg != _DOUBLE_STAR]
    literals = [_text(seg) for seg in rest if _is_literal(seg)]
    if literals:
        return tuple(prefix), max(literals, key=len), None, None  # longest: likely rarest
    for seg in rest:
        tail = seg[-1] if seg else None
        if isinstance(tail, str) and "." in tail:
            return tuple(prefix), None, tail.rsplit(".", 1)[1], None
    for seg in rest:
        if seg and isinstance(seg[0], str):
            return tuple(prefix), None, None, seg[0]
    return tuple(prefix), None, None, None

"""Answering a freshly parsed file without indexing it: try the rules last first.

The bot parses a CODEOWNERS once per base blob and is then often asked about one pull
request's handful of paths; building the index (`index.py`) for a thousand rules costs more
than that. So each rule gets a needle, a piece of its literal text that every path it matches
contains, and only rules whose needle is in the path are matched for real: by string
operations where `plain.plan` can (most patterns), else by the rule's regex, compiled on
first use. The first rule that matches, counting from the end, decides (GitHub: the last matching
pattern wins).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.policy.codeowners import plain
from bot.policy.codeowners.pattern import Glob, compile_glob

_Match = Callable[[str], re.Match[str] | None]


def needle(pattern: str) -> str:
    """Text that every path `pattern` matches contains ('' if none is known cheaply).

    Any literal run between wildcards is matched as written (a `/` is a `/`, a name is
    itself), except that a leading `/` anchors at the root or follows a `**` that may match
    nothing; so the longest run, less its leading slashes, is a needle (so is any part of
    one). A pattern with an escape gets none (rare, and not worth reading here)."""
    if "\\" in pattern:
        return ""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lstrip("/")
    return max(pattern.replace("?", "*").split("*"), key=len).lstrip("/")


class Scan:
    """The cold path over one file's patterns. `tried` counts the rules looked at so far,
    so that its owner can tell when an index would have been cheaper."""

    __slots__ = ("_compiled", "_globs", "_how", "_needles", "_patterns", "tried")

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = patterns
        self._needles = [
            needle(p) if "*" in p or "?" in p or "\\" in p else p.lstrip("/") for p in patterns
        ]  # `needle`, with its common case inline: a thousand rules are read per file
        self._globs: list[Glob | None] = [None] * len(patterns)
        self._how: list[plain.Plan | _Match | None] = [None] * len(patterns)
        self._compiled: dict[str, _Match] = {}
        self.tried = 0

    def winner(self, path: str) -> int:
        """Index of the last rule matching `path`, or -1."""
        needles = self._needles
        last = len(needles) - 1
        for k, text in enumerate(reversed(needles)):
            if text in path and self._matches(last - k, path):
                self.tried += k + 1
                return last - k
        self.tried += len(needles)
        return -1

    def globs(self) -> list[Glob]:
        """Every rule's pattern compiled (those the scan compiled are reused)."""
        return [
            glob or compile_glob(p) for glob, p in zip(self._globs, self._patterns, strict=True)
        ]

    def _matches(self, i: int, path: str) -> bool:
        how = self._how[i] or self._prepare(i)
        if isinstance(how, plain.Plan):
            return plain.matches(how, path)
        return how(path) is not None

    def _prepare(self, i: int) -> plain.Plan | _Match:
        glob = self._globs[i] = compile_glob(self._patterns[i])
        how = plain.plan(glob)
        if how is None:
            source = glob.regex()
            how = self._compiled.get(source)
            if how is None:
                how = self._compiled[source] = re.compile(source, re.DOTALL).fullmatch
        self._how[i] = how
        return how

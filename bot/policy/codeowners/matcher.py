"""A parsed CODEOWNERS file and the question asked of it: who owns this path?

The last matching rule wins (GitHub: "the last matching pattern takes the most precedence").
A file is parsed once per base blob and may then be asked about a handful of paths (one pull
request) or thousands (coverage, a busy repository). So a new file answers by trying its rules
last first behind a cheap substring test (`scan.py`), and builds its index (`index.py`), a few
microseconds a rule, only once scanning has cost about as much as that would. Rules are kept
as plain tuples and made `Rule` objects when asked for: building a thousand of them would cost
more than the rest of the parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.policy.codeowners.errors import CodeownersError
from bot.policy.codeowners.index import Index
from bot.policy.codeowners.scan import Scan

# (pattern as written, owners in file order, 1-based line, the line as written)
RuleRow = tuple[str, tuple[str, ...], int, str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One valid line: `pattern` as written, `owners` in file order (empty: explicitly
    unowned), `line` 1-based."""

    pattern: str
    owners: tuple[str, ...]
    line: int
    source: str = field(default="", compare=False, repr=False)  # the line as written


@dataclass(frozen=True)
class CodeOwners:
    """The rules GitHub would load from `path` (`rows`, in file order), and the lines it would
    skip (`errors`)."""

    path: str
    rows: tuple[RuleRow, ...] = ()
    errors: tuple[CodeownersError, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(Rule(*row) for row in self.rows)

    def rule_for(self, path: str) -> Rule | None:
        """The rule that decides `path` (repository-relative, no leading slash), if any."""
        winner = self._lookup.winner(path)
        return Rule(*self.rows[winner]) if winner >= 0 else None

    def owners_of(self, path: str) -> tuple[str, ...] | None:
        """None: no rule matches. `()`: the deciding rule names no owners (explicitly unowned)."""
        winner = self._lookup.winner(path)
        return self.rows[winner][1] if winner >= 0 else None

    @cached_property
    def _lookup(self) -> _Lookup:
        return _Lookup([row[0] for row in self.rows])


class _Lookup:
    """Scan first; index once scanning has looked at `INDEX_AFTER` times as many rules as
    the file has. A pull request's few paths (each at most one pass over the rules) never
    build the index; a file asked about many paths builds it early, having spent on scans a
    fraction of what the index costs (a substring test a rule against compiling each)."""

    __slots__ = ("_index", "_scan", "_size")
    INDEX_AFTER = 16

    def __init__(self, patterns: list[str]) -> None:
        self._scan = Scan(patterns)
        self._index: Index | None = None
        self._size = len(patterns)

    @property
    def indexed(self) -> bool:
        return self._index is not None

    def winner(self, path: str) -> int:
        if self._index is not None:
            return self._index.winner(path)
        found = self._scan.winner(path)
        if self._scan.tried >= self.INDEX_AFTER * self._size:
            self._index = Index(self._scan.globs())
        return found

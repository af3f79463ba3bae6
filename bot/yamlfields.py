"""Typed reads of a loaded YAML document, each problem reported at the value that caused it.

Flag files and `flagbot.yml` are checked the same way: take a value out of the plain data, ask
for the kind expected, and on a mismatch record a diagnostic that names the field, what was
found, and what to write instead (quoting a YAML 1.1 boolean, for instance).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from bot.diagnostics import Diagnostic
from bot.yamlsafe import YAML11_BOOLEAN_WORDS, Document, Path, describe

FIRST_YEAR, LAST_YEAR = 1970, 9000  # timestamps outside are refused (`Fields.timestamp`)

_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
_ZONE = r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
TIMESTAMP_PATTERN = f"^{_DATE_TIME}{_ZONE}$"
"""RFC 3339 date-time, as the JSON Schema spells it."""
_TIMESTAMP = re.compile(f"{_DATE_TIME}{_ZONE}?")  # zone optional: its absence has a message

MISSING: Any = object()
"""Marks a field that is not in the file (None is YAML's null, which is a value)."""


def label(where: Path) -> str:
    """`("rules", 0, "serve")` -> `rules[0].serve`, as people name fields in messages."""
    out = ""
    for step in where:
        if isinstance(step, int) and not isinstance(step, bool):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out or "the document"


def suggest(word: str, choices: Collection[str]) -> str:
    """`; did you mean 'x'?` for a near miss, else the list of what is allowed."""
    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; expected one of: " + ", ".join(choices)


class Fields:
    """Collects diagnostics for one document while its values are read."""

    __slots__ = ("diagnostics", "doc")

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.diagnostics: list[Diagnostic] = []

    def error(self, where: Path, message: str, code: str, *, key: bool = False) -> None:
        self.diagnostics.append(self.doc.diagnostic(where, message, code, key=key))

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    # -- mappings ---------------------------------------------------------------------------

    def known_keys(self, mapping: dict[Any, Any], where: Path, allowed: Collection[str]) -> None:
        """Every key must be one of `allowed`; the others are errors with a suggestion."""
        for key in mapping:
            if isinstance(key, str) and key in allowed:
                continue
            at = (*where, key)
            if isinstance(key, str):
                self.error(
                    at,
                    f"unknown field {label(at)!r}{suggest(key, allowed)}",
                    "unknown-field",
                    key=True,
                )
                continue
            written = self.doc.key_source(at)
            hint = ""
            if isinstance(key, bool) and written in YAML11_BOOLEAN_WORDS:
                hint = f" (YAML 1.1 reads unquoted {written} as a boolean; quote it)"
            self.error(
                at,
                f"unknown field {written!r} in {label(where)}{hint}"
                + suggest(str(written), allowed),
                "unknown-field",
                key=True,
            )

    def mapping(self, value: Any, where: Path) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(
            where,
            f"{label(where)} must be a mapping (`field: value` lines), got {describe(value)}",
            "wrong-type",
        )
        return None

    def string_keyed(self, value: Any, where: Path, what: str) -> dict[str, Any] | None:
        """A mapping whose keys are names chosen by the user (roles, environments, ...)."""
        m = self.mapping(value, where)
        if m is None:
            return None
        for key in m:
            if not isinstance(key, str):
                written = self.doc.key_source((*where, key))
                self.error(
                    (*where, key),
                    f"{what} {written!r} in {label(where)} must be a name; quote it",
                    "wrong-type",
                    key=True,
                )
        return m

    # -- scalars ----------------------------------------------------------------------------

    def string(self, value: Any, where: Path, *, nonempty: bool = True) -> str | None:
        if isinstance(value, str):
            if nonempty and not value.strip():
                self.error(where, f"{label(where)} must not be empty", "empty")
                return None
            return value
        self.error(
            where,
            f"{label(where)} must be a string, got {describe(value)}"
            + self.quote_hint(where, value),
            "wrong-type",
        )
        return None

    def quote_hint(self, where: Path, value: Any) -> str:
        """Advice for a scalar that YAML turned into something other than the text written."""
        written = self.doc.source(where)
        if written is None or isinstance(value, dict | list):
            return ""
        if isinstance(value, bool) and written in YAML11_BOOLEAN_WORDS:
            return f' (YAML 1.1 reads unquoted {written} as a boolean); quote it: "{written}"'
        if value is None and written == "":
            return ""
        return f'; quote it if you mean the text: "{written}"'

    def boolean(self, value: Any, where: Path) -> bool | None:
        if isinstance(value, bool):
            word = self.doc.yaml11_word(where)
            if word:
                self.error(
                    where,
                    f"{label(where)}: write {str(value).lower()} instead of {word}; "
                    f"{word} is a boolean only in YAML 1.1 (editors and YAML 1.2 tools read "
                    "it as a string)",
                    "yaml11-boolean",
                )
                return None
            return value
        self.error(
            where, f"{label(where)} must be true or false, got {describe(value)}", "wrong-type"
        )
        return None

    def number(self, value: Any, where: Path) -> int | float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if _finite(value):
                return value
            shown = self.doc.source(where) or ""
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            self.error(
                where,
                f"{label(where)} must be a finite number, got {shown}",
                "wrong-type",
            )
            return None
        self.error(where, f"{label(where)} must be a number, got {describe(value)}", "wrong-type")
        return None

    def percentage(self, value: Any, where: Path) -> int | float | None:
        number = self.number(value, where)
        if number is None:
            return None
        if not 0 <= number <= 100:
            self.error(
                where, f"{label(where)} must be between 0 and 100, got {number}", "out-of-range"
            )
            return None
        return number

    def choice(self, value: Any, where: Path, choices: Collection[str]) -> str | None:
        if isinstance(value, str) and value in choices:
            return value
        if isinstance(value, str):
            self.error(
                where,
                f"{label(where)} {value!r} is not valid{suggest(value, choices)}",
                "not-a-choice",
            )
        else:
            self.error(
                where,
                f"{label(where)} must be one of {', '.join(choices)}, got {describe(value)}"
                f"{self.quote_hint(where, value)}",
                "wrong-type",
            )
        return None

    def matching(self, value: Any, where: Path, pattern: re.Pattern[str], rule: str) -> str | None:
        text = self.string(value, where)
        if text is None:
            return None
        if not pattern.fullmatch(text):
            self.error(where, f"{label(where)} {text!r} is not valid: {rule}", "bad-format")
            return None
        return text

    def sequence(self, value: Any, where: Path, *, nonempty: bool = False) -> list[Any] | None:
        if not isinstance(value, list):
            self.error(where, f"{label(where)} must be a list, got {describe(value)}", "wrong-type")
            return None
        if nonempty and not value:
            self.error(where, f"{label(where)} must not be empty", "empty")
            return None
        return value

    def strings(
        self, value: Any, where: Path, *, nonempty: bool = False, single_ok: bool = False
    ) -> tuple[str, ...] | None:
        """A list of strings; with `single_ok`, one bare string counts as a list of one."""
        if single_ok and isinstance(value, str):
            single = self.string(value, where)
            return None if single is None else (single,)
        items = self.sequence(value, where, nonempty=nonempty)
        if items is None:
            return None
        out = [self.string(item, (*where, i)) for i, item in enumerate(items)]
        if any(item is None for item in out):
            return None
        return tuple(out)  # type: ignore[arg-type]

    def timestamp(self, value: Any, where: Path) -> datetime | None:
        """An ISO-8601 time with a timezone, quoted or as YAML's unquoted timestamp."""
        if isinstance(value, datetime):
            moment: datetime | None = value
        elif isinstance(value, str) and _TIMESTAMP.fullmatch(value):
            text = value.upper()
            try:
                moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] == "Z" else text)
            except ValueError:  # 2024-13-01 and friends
                moment = None
        elif isinstance(value, date):
            self.error(
                where,
                f"{label(where)} needs a time and a timezone, e.g. {value.isoformat()}T00:00:00Z",
                "bad-timestamp",
            )
            return None
        else:
            moment = None
        if moment is None:
            self.error(
                where,
                f"{label(where)} must be an ISO-8601 time with a timezone such as "
                f"2024-05-01T10:00:00Z, got {describe(value)}",
                "bad-timestamp",
            )
            return None
        if moment.utcoffset() is None:
            self.error(
                where,
                f"{label(where)} must say its timezone: add Z for UTC (e.g. {moment.isoformat()}Z)",
                "bad-timestamp",
            )
            return None
        # Other times are no time a stage began, and dates computed from them (in UTC, the
        # next stage, the end of the plan) would run out of Python's years 1 to 9999.
        if not FIRST_YEAR <= moment.year < LAST_YEAR:
            self.error(
                where,
                f"{label(where)} must be between the years {FIRST_YEAR} and {LAST_YEAR}, got "
                f"{moment.isoformat()}; it is the time the current stage began",
                "bad-timestamp",
            )
            return None
        return moment


def _finite(value: int | float) -> bool:
    """An int too large for a float (hex and sexagesimal have no digit limit) is no number
    that flags, exports or evaluation can use; `math.isfinite` would raise on it."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False

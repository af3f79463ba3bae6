"""How the demo's text looks: ANSI colour only when asked for, Unicode only where the terminal
can print it. Pure: a `Style` is chosen once by the command and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

WIDTH = 96
_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_UNICODE = {
    "full": "█",
    "empty": "░",
    "rule": "─",
    "arrow": "→",
    "ok": "✓",
    "no": "✗",
    "wait": "○",
    "dot": "·",
    "bell": "»",
}
_ASCII = {
    "full": "#",
    "empty": ".",
    "rule": "-",
    "arrow": "->",
    "ok": "+",
    "no": "x",
    "wait": "o",
    "dot": ".",
    "bell": ">",
}

# What the bot's own text (commit titles, comments) and ours use, for terminals without them.
_FALLBACK = str.maketrans(
    {
        "→": "->",
        "“": '"',
        "”": '"',
        "—": "-",
        "…": "...",
        "✅": "[ok]",
        "⚠": "[!]",
        "\ufe0f": "",
        "⏳": "...",
    }
    | {_UNICODE[k]: _ASCII[k] for k in _UNICODE}
)


def to_ascii(text: str) -> str:
    return text.translate(_FALLBACK)


@dataclass(frozen=True, slots=True)
class Style:
    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(
        cls, stream: TextIO, *, no_color: bool = False, env: Mapping[str, str] | None = None
    ) -> Style:
        """Colour when `stream` is a terminal, `NO_COLOR` is unset (https://no-color.org) and
        `--no-color` was not given; Unicode when the stream's encoding has the glyphs."""
        env = os.environ if env is None else env
        tty = bool(getattr(stream, "isatty", lambda: False)())
        color = tty and not no_color and not env.get("NO_COLOR")
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "".join(_UNICODE.values()).encode(encoding)
            unicode = True
        except (UnicodeEncodeError, LookupError):
            unicode = False
        return cls(color, unicode)

    def glyph(self, name: str) -> str:
        return (_UNICODE if self.unicode else _ASCII)[name]

    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")

    def bar(self, percentage: float, width: int = 20) -> str:
        """A progress bar; any share above zero shows at least one cell."""
        filled = round(width * percentage / 100)
        if percentage > 0:
            filled = max(filled, 1)
        filled = min(filled, width)
        return self.paint(self.glyph("full") * filled, "green") + self.dim(
            self.glyph("empty") * (width - filled)
        )

    def heading(self, label: str, right: str = "", width: int = WIDTH) -> str:
        """`── 3  Title ──────────── 10:00`, `width` columns wide."""
        rule = self.glyph("rule")
        left = f"{rule * 2} {label} "
        tail = f" {right}" if right else ""
        fill = max(3, width - len(left) - len(tail))
        return self.bold(left) + self.dim(rule * fill) + self.bold(tail)

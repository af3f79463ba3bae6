"""Where the demo's text goes: printed as the story happens, line by line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.demo.render import actor_lines
from bot.demo.style import Style, to_ascii


@dataclass
class Page:
    stream: TextIO
    style: Style

    def line(self, text: str = "") -> None:
        if not self.style.unicode:  # what the terminal cannot show becomes "?", not a crash
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            text = to_ascii(text).encode(encoding, "replace").decode(encoding)
        self.stream.write(text + "\n")
        self.stream.flush()

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def heading(self, label: str, right: str = "") -> None:
        self.line()
        self.line(self.style.heading(label, right))

    def actor(self, who: str, text: str | Sequence[str]) -> None:
        self.lines(actor_lines(who, text, self.style))

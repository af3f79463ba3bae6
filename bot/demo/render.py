"""Pure text helpers for the demo: aligned columns, wrapped lines, GitHub's markdown tables
read back as rows, and a source line with a caret under the column a diagnostic names."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from bot.demo.style import WIDTH, Style

ACTOR_WIDTH = 9  # "flagbot", "oncall", "received" and a space
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - visible_len(text))


def columns(rows: Sequence[Sequence[str]], gap: int = 2) -> list[str]:
    """Rows as lines with every column but the last padded to its widest cell."""
    if not rows:
        return []
    n = max(len(r) for r in rows)
    widths = [max((visible_len(r[i]) for r in rows if i < len(r)), default=0) for i in range(n)]
    lines = []
    for row in rows:
        cells = [pad(c, widths[i]) if i < len(row) - 1 else c for i, c in enumerate(row)]
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def actor_lines(who: str, text: str | Sequence[str], style: Style, indent: int = 2) -> list[str]:
    """`  mgr      approves #1`: the actor in a fixed column, continuation lines under the text."""
    body = [text] if isinstance(text, str) else list(text)
    head = " " * indent + pad(style.bold(who), ACTOR_WIDTH)
    rest = " " * (indent + ACTOR_WIDTH)
    return [(head if i == 0 else rest) + line for i, line in enumerate(body)] or [head]


def wrap(text: str, width: int, subsequent: str = "") -> list[str]:
    return textwrap.wrap(
        text, width=width, subsequent_indent=subsequent, break_on_hyphens=False
    ) or [""]


def body_width(indent: int = 2) -> int:
    return WIDTH - indent - ACTOR_WIDTH


def markdown_table(markdown: str, first_header: str) -> list[list[str]]:
    """The body rows of the first table whose first header cell is `first_header`, as plain
    text cells (backticks dropped, `<br>` as `; `, escaped pipes restored)."""
    rows: list[list[str]] = []
    in_table = False
    for line in markdown.splitlines():
        if not line.startswith("|"):
            if in_table:
                break
            continue
        cells = [_cell(c) for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if not in_table:
            in_table = bool(cells) and cells[0] == first_header
            continue
        if all(set(c) <= {"-", ":"} for c in cells):
            continue
        rows.append(cells)
    return rows


def _cell(text: str) -> str:
    return text.strip().replace("\\|", "|").replace("`", "").replace("<br>", "; ")


def excerpt(source: str, line: int, column: int | None, style: Style, indent: int = 0) -> list[str]:
    """The named line of `source`, numbered, with a caret under `column` (1-based)."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return []
    number = str(line)
    bar = style.dim("|")
    text = lines[line - 1].rstrip()
    out = [f"{' ' * indent}{style.dim(number)} {bar} {text}"]
    if column:
        caret = " " * (column - 1) + style.paint("^", "red", "bold")
        out.append(f"{' ' * indent}{' ' * len(number)} {bar} {caret}")
    return out

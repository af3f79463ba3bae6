"""Recover a file's merge-base version from its head version and the pull request's patch.

GitHub's pull-request file list carries each file's unified diff from the merge base to the
head. Reversing it gives the old side exactly, without another API call and without the base
branch's later commits (a rollout bump on main must not look like a rollback in this pull
request). Any disagreement returns None, and the caller reads the file instead.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


def _hunks(patch: str) -> list[tuple[int, int, list[tuple[str, str, bool]]]] | None:
    """(new start, new length, [(tag, text without newline, lacks final newline)])."""
    out: list[tuple[int, int, list[tuple[str, str, bool]]]] = []
    lines = patch.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        m = _HUNK.match(line)
        if m:
            length = int(m.group(4)) if m.group(4) is not None else 1
            out.append((int(m.group(3)), length, []))
        elif not out:
            return None
        elif line == _NO_NEWLINE:
            body = out[-1][2]
            if not body:
                return None
            tag, text, _ = body[-1]
            body[-1] = (tag, text, True)
        elif line[:1] in (" ", "-", "+"):
            out[-1][2].append((line[:1], line[1:], False))
        else:
            return None
    return out


def reverse_patch(new_text: str, patch: str) -> str | None:
    """The text `patch` was computed from, given the text it produced; None if they disagree."""
    hunks = _hunks(patch)
    if hunks is None:
        return None
    new = new_text.splitlines(keepends=True)
    old: list[str] = []
    pos = 0  # next unread line of `new`
    for start, length, body in hunks:
        first = start - 1 if length else start  # an empty side names the line before it
        if first < pos or first > len(new):
            return None
        old += new[pos:first]
        pos = first
        for tag, text, no_newline in body:
            if tag in (" ", "+"):
                if pos >= len(new):
                    return None
                line = new[pos]
                if line.removesuffix("\n") != text or line.endswith("\n") == no_newline:
                    return None
                pos += 1
            if tag in (" ", "-"):
                # A context line marked as lacking the newline lacks it on both sides.
                old.append(text if no_newline else text + "\n")
    old += new[pos:]
    return "".join(old)


def added_text(patch: str) -> str | None:
    """The whole text of an added file, from its patch (every line is an addition); None when
    the patch is not one hunk of additions from an empty file."""
    hunks = _hunks(patch)
    if not hunks or len(hunks) != 1:
        return None
    start, length, body = hunks[0]
    if start != 1 or length != len(body) or any(tag != "+" for tag, _, _ in body):
        return None
    return "".join(text if no_newline else text + "\n" for _, text, no_newline in body)

"""One way a call or a webhook departs from GitHub's description, worded so that whoever reads a
failed test sees at once which operation, which status, and where in the JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    subject: str  # "GET /repos/{owner}/{repo}/pulls/{pull_number} -> 200", "webhook push"
    part: str  # "response body", "request body", "query parameter per_page", "header Location"
    pointer: str  # JSON pointer inside that part ("" = the whole of it)
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.part} at {self.pointer or '/'}: {self.message}"


def pointer(parts: Iterable[object]) -> str:
    """RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)

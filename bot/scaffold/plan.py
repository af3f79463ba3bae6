"""What `flagbot init` does with each file: never overwrite what is already there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["create", "unchanged", "kept"]


@dataclass(frozen=True, slots=True)
class Step:
    path: str
    action: Action  # create: new file; unchanged: already as init writes it; kept: yours


def plan(files: dict[str, str], existing: dict[str, bytes | None]) -> list[Step]:
    """`existing` holds each path's current bytes, None when the file is absent."""
    steps = []
    for path, content in files.items():
        current = existing.get(path)
        if current is None:
            steps.append(Step(path, "create"))
        elif current == content.encode():
            steps.append(Step(path, "unchanged"))
        else:
            steps.append(Step(path, "kept"))
    return steps

"""What a replayed delivery did, as text: the bot's answer, its decisions, its log's warnings
and the GitHub calls it made.

`describe(..., stable=True)` leaves out what changes from run to run (file names, delivery
ids, the answer's body) and orders calls that ran concurrently (a run of reads between two
writes) by name, so the text can be compared exactly with a stored golden transcript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.replay.deliveries import Delivery
from bot.replay.send import Response
from bot.service.reconcile import Outcome

READS = frozenset({"GET", "HEAD"})


class Call(Protocol):
    """The parts of an emulator call-log entry a transcript shows."""

    method: str
    route: str | None
    path: str
    status: int
    not_modified: bool


@dataclass
class Replayed:
    delivery: Delivery  # as sent (after any rewriting)
    response: Response
    notes: tuple[str, ...] = ()  # what was rewritten before sending
    outcomes: list[Outcome] = field(default_factory=list)  # the reconciles it caused
    log: list[str] = field(default_factory=list)  # the service's warnings and errors
    calls: list[Call] = field(default_factory=list)  # GitHub calls the bot made
    failed: bool = False  # the service logged an error


def call_line(call: Call) -> str:
    route = call.route or f"{call.path} (no such route)"
    return f"{call.method} {route} {call.status}" + (" (not modified)" if call.not_modified else "")


def call_lines(calls: Iterable[Call]) -> list[str]:
    """One line per call; concurrent reads (between two writes) sorted, writes in order."""
    out: list[str] = []
    reads: list[str] = []
    for call in calls:
        if call.method in READS:
            reads.append(call_line(call))
            continue
        out += sorted(reads)
        reads = []
        out.append(call_line(call))
    return out + sorted(reads)


def outcome_line(outcome: Outcome) -> str:
    if outcome.decision is None:
        return f"#{outcome.number}: left alone (closed, or merged already)"
    done = []
    if outcome.wrote_check:
        done.append("check run written")
    if outcome.merge_status == 200:
        done.append("merged")
    elif outcome.merge_status:
        done.append(f"merge refused: {outcome.merge_status}")
    if outcome.notified:
        done.append("announced")
    extra = f" ({', '.join(done)})" if done else ""
    return f"#{outcome.number}: {outcome.decision.title}{extra}"


def heading(delivery: Delivery, index: int, total: int) -> str:
    made_up = " (made up: the file had none)" if delivery.guid_generated else ""
    return (
        f"[{index}/{total}] {delivery.source}: {delivery.label}, delivery {delivery.guid}{made_up}"
    )


def describe(replayed: Replayed, index: int, total: int, *, stable: bool = False) -> list[str]:
    r = replayed
    if stable:
        lines = [f"{index}. {r.delivery.label} -> {r.response.status}"]
    else:
        lines = [heading(r.delivery, index, total)]
        lines += [f"  rewritten: {note}" for note in r.notes]
        lines.append(f"  -> {r.response}")
    lines += [f"  flagbot: {outcome_line(o)}" for o in r.outcomes]
    lines += [f"  log: {line}" for line in r.log]
    if not (r.outcomes or r.log or r.response.refused):
        lines.append("  flagbot: nothing to do")
    shown = call_lines(r.calls)
    if shown:
        cached = sum(1 for c in r.calls if c.not_modified)
        count = f"{len(shown)}, {cached} not modified" if cached else f"{len(shown)}"
        lines.append(f"  GitHub calls ({count}):")
        lines += [f"    {line}" for line in shown]
    return lines


def golden(replayed: Sequence[Replayed]) -> str:
    """The stable transcript of a whole sequence, as stored in a golden file."""
    lines: list[str] = []
    for i, r in enumerate(replayed, 1):
        lines += describe(r, i, len(replayed), stable=True)
    return "\n".join(lines) + "\n"

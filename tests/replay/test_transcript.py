"""Transcripts: stable text of what a replayed delivery made the bot do."""

from __future__ import annotations

from dataclasses import dataclass

from bot.policy.decision import Decision
from bot.replay.deliveries import from_payload
from bot.replay.send import Response
from bot.replay.transcript import Replayed, call_lines, describe, golden, outcome_line
from bot.service.reconcile import Outcome


@dataclass
class Call:
    method: str
    route: str | None
    status: int = 200
    not_modified: bool = False
    path: str = "/x"


def test_concurrent_reads_are_sorted_and_writes_stay_where_they_happened():
    calls = [
        Call("GET", "/b"),
        Call("GET", "/a", 304, True),
        Call("POST", "/w", 201),
        Call("GET", "/d"),
        Call("GET", "/c"),
        Call("PATCH", "/v"),
        Call("GET", "/z", 404),
        Call("GET", None, 404, path="/weird/1"),
    ]
    assert call_lines(calls) == [
        "GET /a 304 (not modified)",
        "GET /b 200",
        "POST /w 201",
        "GET /c 200",
        "GET /d 200",
        "PATCH /v 200",
        "GET /weird/1 (no such route) 404",
        "GET /z 404",
    ]
    assert call_lines(reversed(calls[:2])) == call_lines(calls[:2])


def decision(title):
    return Decision("approval", title, None, (), (), {})


def test_outcome_lines_say_what_was_done():
    assert outcome_line(Outcome(3, None)) == "#3: left alone (closed, or merged already)"
    assert outcome_line(Outcome(3, decision("Waiting"), wrote_check=True)) == (
        "#3: Waiting (check run written)"
    )
    merged = Outcome(3, decision("Merged"), merge_status=200, notified=True)
    assert outcome_line(merged) == "#3: Merged (merged, announced)"
    assert outcome_line(Outcome(3, decision("Blocked"), merge_status=405)) == (
        "#3: Blocked (merge refused: 405)"
    )


def replayed(**fields):
    delivery = from_payload({"action": "opened"}, "pull_request", "o.json", new_guid=lambda: "g-1")
    defaults = dict(response=Response(202, '{"accepted": "g-1"}'))
    return Replayed(delivery, **{**defaults, **fields})


def test_describe_for_people_and_for_golden_files():
    r = replayed(
        notes=("repository a/b is not in the emulated GitHub: replayed as acme/flags",),
        outcomes=[Outcome(1, decision("Waiting for manager approval"), wrote_check=True)],
        log=["WARNING something odd"],
        calls=[Call("GET", "/a", 304, True), Call("POST", "/b", 201)],
    )
    assert describe(r, 1, 2) == [
        "[1/2] o.json: pull_request.opened, delivery g-1 (made up: the file had none)",
        "  rewritten: repository a/b is not in the emulated GitHub: replayed as acme/flags",
        '  -> 202 {"accepted": "g-1"}',
        "  flagbot: #1: Waiting for manager approval (check run written)",
        "  log: WARNING something odd",
        "  GitHub calls (2, 1 not modified):",
        "    GET /a 304 (not modified)",
        "    POST /b 201",
    ]
    assert golden([r, replayed()]) == "\n".join(
        [
            "1. pull_request.opened -> 202",
            "  flagbot: #1: Waiting for manager approval (check run written)",
            "  log: WARNING something odd",
            "  GitHub calls (2, 1 not modified):",
            "    GET /a 304 (not modified)",
            "    POST /b 201",
            "2. pull_request.opened -> 202",
            "  flagbot: nothing to do",
            "",
        ]
    )


def test_a_refused_or_unreachable_delivery():
    refused = replayed(response=Response(401, '{"error": "signature does not match"}'))
    assert describe(refused, 1, 1)[-1] == '  -> 401 {"error": "signature does not match"}'
    gone = replayed(response=Response(None, error="cannot reach the bot at http://x: refused"))
    assert gone.response.refused
    assert describe(gone, 1, 1)[-1] == "  -> cannot reach the bot at http://x: refused"

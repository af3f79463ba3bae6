"""Guard outcomes from what the probes saw: pass, inconclusive or fail, with value and bound."""

from __future__ import annotations

import json

import pytest

from bot.flags.guard import CheckGuard, HttpGuard, PrometheusGuard
from bot.rollout.verdict import (
    Outcome,
    Reply,
    RunState,
    StatusState,
    judge_check,
    judge_http,
    judge_prometheus,
    overall,
)

ERRORS = PrometheusGuard("PROM", "sum(rate(errors[15m]))", max=0.02)
RATE = PrometheusGuard("PROM", "sum(rate(ok[5m]))", min=10, max=1000)


def vector(*values: str) -> Reply:
    result = [{"metric": {"i": str(i)}, "value": [1700000000.0, v]} for i, v in enumerate(values)]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return Reply(200, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("guard", "reply", "verdict", "value"),
    [
        (ERRORS, vector("0.01"), "pass", "0.01"),
        (ERRORS, vector("0.02"), "pass", "0.02"),  # the bound itself is allowed
        (ERRORS, vector("0.071"), "fail", "0.071"),
        (ERRORS, vector("0.01", "0.5", "0.03"), "fail", "0.5"),  # the worst series counts
        (ERRORS, vector(), "inconclusive", "no data"),
        (ERRORS, vector("NaN"), "inconclusive", "no data"),  # 0/0: no traffic at all
        (RATE, vector("3"), "fail", "3"),
        (RATE, vector("2000"), "fail", "2000"),
        (RATE, vector("50"), "pass", "50"),
        (
            ERRORS,
            Reply(200, b'{"status":"success","data":{"resultType":"scalar","result":[1,"0.5"]}}'),
            "fail",
            "0.5",
        ),
        (ERRORS, Reply(error="no answer within 10 s"), "inconclusive", "no answer"),
        (ERRORS, Reply(503, b"upstream down"), "inconclusive", "HTTP 503"),
        (
            ERRORS,
            Reply(400, b'{"status":"error","errorType":"bad_data","error":"parse error"}'),
            "inconclusive",
            "HTTP 400",
        ),
        (
            ERRORS,
            Reply(200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}'),
            "inconclusive",
            "no data",
        ),
    ],
)
def test_prometheus(guard, reply, verdict, value):
    outcome = judge_prometheus(guard, reply)
    assert (outcome.verdict, outcome.value) == (verdict, value)
    assert outcome.threshold == guard.threshold


def test_prometheus_outcome_says_guard_value_and_threshold():
    outcome = judge_prometheus(ERRORS, vector("0.071"))
    assert outcome.describe() == "prometheus sum(rate(errors[15m])): 0.071, needs <= 0.02: fail"
    assert RATE.threshold == ">= 10 and <= 1000"


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (Reply(200), "pass"),
        (Reply(204), "fail"),
        (Reply(404), "fail"),
        (Reply(500), "inconclusive"),
        (Reply(503), "inconclusive"),
        (Reply(error="no answer within 10 s"), "inconclusive"),
    ],
)
def test_http(reply, verdict):
    assert judge_http(HttpGuard("HEALTH", 200), reply).verdict == verdict


SYNTH = CheckGuard("synthetics / checkout")


@pytest.mark.parametrize(
    ("runs", "statuses", "verdict", "value"),
    [
        ([RunState("synthetics / checkout", "completed", "success")], [], "pass", "success"),
        ([RunState("synthetics / checkout", "completed", "neutral")], [], "pass", "neutral"),
        ([RunState("synthetics / checkout", "completed", "failure")], [], "fail", "failure"),
        ([RunState("synthetics / checkout", "completed", "timed_out")], [], "fail", "timed_out"),
        (
            [RunState("synthetics / checkout", "completed", "cancelled")],
            [],
            "inconclusive",
            "cancelled",
        ),
        ([RunState("synthetics / checkout", "queued", None)], [], "inconclusive", "queued"),
        ([], [StatusState("synthetics / checkout", "success")], "pass", "success"),
        ([], [StatusState("synthetics / checkout", "pending")], "inconclusive", "pending"),
        ([], [StatusState("synthetics / checkout", "error")], "fail", "error"),
        ([], [StatusState("other", "failure")], "inconclusive", "missing"),
        (
            [RunState("synthetics / checkout", "completed", "success")],
            [StatusState("synthetics / checkout", "failure")],
            "fail",
            "failure",
        ),
    ],
)
def test_check(runs, statuses, verdict, value):
    outcome = judge_check(SYNTH, runs, statuses)
    assert (outcome.verdict, outcome.value, outcome.threshold) == (verdict, value, "success")


def test_overall_is_the_worst():
    def o(v):
        return Outcome(SYNTH, v, "", "")

    assert overall([]) == "pass"
    assert overall([o("pass"), o("pass")]) == "pass"
    assert overall([o("pass"), o("inconclusive")]) == "inconclusive"
    assert overall([o("fail"), o("inconclusive"), o("pass")]) == "fail"

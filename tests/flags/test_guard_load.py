"""`rollout.guard` in flag files and flagbot.yml: what loads, and each refusal at its line."""

from __future__ import annotations

import pytest

from bot.flags.guard import CheckGuard, Guard, HttpGuard, PrometheusGuard, describe_guard
from bot.flags.load import load_flag
from bot.policy.config import load_policy

HEAD = """\
name: New checkout flow
rollout:
  percentage: 25
  stages: [5, 25, 50, 75, 100]
"""
FULL = (
    HEAD
    + """\
  guard:
    on_failure: rollback
    checks:
      - check: "synthetics / checkout"
      - prometheus: {url_env: FLAGBOT_PROMETHEUS_URL, query: 'sum(rate(e[15m]))', max: 0.02}
      - http: {url_env: CHECKOUT_HEALTH_URL, expect: 204, token_env: HEALTH_TOKEN}
"""
)
POLICY = 'roles: {manager: ["@a/m"], qa: ["@a/q"]}\n'


def load(text: str, **kw):
    return load_flag(text.encode(), "flags/new_checkout_flow.yaml", **kw)


def errors(text: str, **kw) -> list[str]:
    flag, problems = load(text, **kw)
    assert flag is None
    return [str(p) for p in problems]


def test_a_full_guard_loads():
    flag, problems = load(FULL)
    assert problems == []
    assert flag.rollout.guard == Guard(
        "rollback",
        (
            CheckGuard("synthetics / checkout"),
            PrometheusGuard("FLAGBOT_PROMETHEUS_URL", "sum(rate(e[15m]))", max=0.02),
            HttpGuard("CHECKOUT_HEALTH_URL", 204, "HEALTH_TOKEN"),
        ),
    )
    assert describe_guard(flag.rollout.guard) == (
        "check 'synthetics / checkout'; prometheus <= 0.02; http $CHECKOUT_HEALTH_URL 204 "
        "→ rollback"
    )


def test_paused_reason_loads():
    flag, problems = load(HEAD + "  paused: true\n  paused_reason: 'guard x: 3, needs <= 1'\n")
    assert problems == [] and flag.rollout.paused_reason == "guard x: 3, needs <= 1"


def test_zero_is_before_the_first_stage():
    flag, problems = load(HEAD.replace("percentage: 25", "percentage: 0"))
    assert problems == [] and flag.rollout.percentage == 0


@pytest.mark.parametrize(
    ("guard", "message"),
    [
        (
            "    checks:\n      - prometheus: {url: 'http://prom:9090', query: up, max: 1}\n",
            "7:22: do not write URLs or credentials in the repository",
        ),
        (
            "    checks:\n      - prometheus: {url_env: 'http://prom:9090', query: up, max: 1}\n",
            "7:31: rollout.guard.checks[0].prometheus.url_env names an environment variable",
        ),
        (
            "    checks:\n      - prometheus: {url_env: P, query: up}\n",
            "needs `max:` or `min:`",
        ),
        (
            "    checks:\n      - prometheus: {url_env: P, max: 1}\n",
            "needs `query:`",
        ),
        (
            "    checks:\n      - prometheus: {url_env: P, query: up, min: 5, max: 1}\n",
            "min 5 is above max 1",
        ),
        ("    checks:\n      - http: {expect: 200}\n", "needs `url_env:`"),
        ("    checks:\n      - http: {url_env: H, expect: 2000}\n", "must be an HTTP status code"),
        ("    checks:\n      - http: {url_env: 'my var'}\n", "is not an environment variable name"),
        ("    checks:\n      - smoke: yes\n", "unknown field 'rollout.guard.checks[0].smoke'"),
        ("    checks:\n      - {check: a, http: {url_env: H}}\n", "must be exactly one of check"),
        ("    on_failure: abort\n", "6:17: rollout.guard.on_failure"),
        ("    checks: {check: a}\n", "rollout.guard.checks must be a list"),
        ("    check: a\n", "unknown field 'rollout.guard.check'"),
    ],
)
def test_each_mistake_is_reported_at_its_line(guard, message):
    found = errors(HEAD + "  guard:\n" + guard)
    assert any(message in line for line in found), found
    assert all(line.startswith("flags/new_checkout_flow.yaml:") for line in found)


def test_a_guard_needs_a_plan():
    text = "name: X\nrollout:\n  percentage: 25\n  guard: {checks: [{check: a}]}\n"
    assert any("rollout.guard watches a staged plan" in e for e in errors(text))


def test_flagbot_yml_gives_the_default_and_files_override_parts():
    policy, problems = load_policy(
        (
            POLICY
            + "rollout:\n  guard:\n    on_failure: rollback\n"
            + "    checks: [{check: smoke}]\n"
        ).encode()
    )
    assert problems == []
    default = policy.rollout.guard
    assert default == Guard("rollback", (CheckGuard("smoke"),))
    flag, _ = load(HEAD, default_guard=default)
    assert flag.rollout.guard == default
    flag, _ = load(HEAD + "  guard: {on_failure: pause}\n", default_guard=default)
    assert flag.rollout.guard == Guard("pause", (CheckGuard("smoke"),))
    flag, _ = load(HEAD + "  guard: {checks: []}\n", default_guard=default)
    assert flag.rollout.guard.checks == ()  # a file can switch the default off


def test_flagbot_yml_guard_mistakes_are_reported_at_their_line():
    _, problems = load_policy(
        (POLICY + "rollout:\n  guard:\n    checks:\n      - http: {url: 'https://x'}\n").encode()
    )
    assert any(
        str(p).startswith(".github/flagbot.yml:5:") and "do not write URLs" in str(p)
        for p in problems
    ), [str(p) for p in problems]

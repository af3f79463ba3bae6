"""The one loader: flagbot.yml first, then every flag file with the defaults it sets."""

from datetime import timedelta

from bot.diagnostics import Diagnostic
from bot.flags.model import DEFAULT_ENVIRONMENT, DEFAULT_EVERY
from bot.flags.repository import load_flagset
from bot.policy.model import NULL_POLICY

POLICY = b"""roles:
  manager: ["@acme/managers"]
  qa: ["@acme/qa"]
default_environment: staging
rollout:
  every: 2h
  guard:
    on_failure: rollback
"""
STAGED = b"name: Staged\nrollout:\n  percentage: 10\n  stages: [10, 50, 100]\n"
MISSING = Diagnostic(".github/flagbot.yml", 1, 1, "missing", "error", "missing-policy")


def test_flags_take_the_policy_defaults() -> None:
    loaded = load_flagset(POLICY, {"flags/new.yaml": STAGED})
    assert loaded.diagnostics == ()
    (flag,) = loaded.flags
    assert flag.environment == "staging"  # a file directly in flags/ goes to the default
    assert flag.rollout is not None
    assert flag.rollout.every == timedelta(hours=2)
    assert flag.rollout.guard.on_failure == "rollback"


def test_a_missing_policy_is_the_null_policy_with_the_callers_problem() -> None:
    loaded = load_flagset(None, {"flags/new.yaml": STAGED}, missing=(MISSING,))
    assert loaded.policy is NULL_POLICY and loaded.policy_problems == (MISSING,)
    (flag,) = loaded.flags  # flags still load, with flagbot's own defaults
    assert flag.environment == DEFAULT_ENVIRONMENT
    assert flag.rollout is not None and flag.rollout.every == DEFAULT_EVERY


def test_an_invalid_policy_is_null_and_reported() -> None:
    loaded = load_flagset(b"roles: 3\n", {"flags/prod/bad.yaml": b"name: [\n"})
    assert loaded.policy.is_null
    assert [d.code for d in loaded.policy_problems] == ["wrong-type"]
    assert loaded.flags == () and loaded.flag_problems  # the broken flag is reported
    assert [loc.path for loc in loaded.locations] == ["flags/prod/bad.yaml"]  # still located


def test_the_null_policy_lets_nobody_approve() -> None:
    # Fail closed even where a caller forgot to ask `is_null`: no owner holds any role.
    assert NULL_POLICY.roles == {} and NULL_POLICY.roles_of_owner("@acme/managers") == ()
    assert NULL_POLICY.required_roles("production", "toggle", True)  # roles are still required

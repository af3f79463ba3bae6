"""`.github/flagbot.yml` -> Policy. The corpus (tests/corpus/policy) covers bad files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.policy.config import POLICY_PATH, load_policy
from bot.policy.model import Channel, Policy, RequirementRule, RuleCondition

ROOT = Path(__file__).resolve().parents[2]
ROLES = 'roles:\n  manager: ["@acme/eng-managers"]\n  qa: ["@acme/qa"]\n'


def good(text: str) -> Policy:
    policy, problems = load_policy(text.encode())
    assert problems == [], [str(p) for p in problems]
    assert not policy.is_null
    return policy


def messages(text: str) -> list[str]:
    policy, problems = load_policy(text.encode())
    assert policy.is_null and problems
    return [p.message for p in problems]


def test_only_roles_is_valid_and_requires_manager_and_qa_everywhere():
    policy = good(ROLES)
    assert policy.roles == {"manager": ("@acme/eng-managers",), "qa": ("@acme/qa",)}
    for environment in ("production", "staging"):
        for change in ("create", "update", "delete", "toggle", "rollout"):
            for enabled in (True, False, None):
                assert policy.required_roles(environment, change, enabled) == ("manager", "qa")
    assert (policy.default_environment, policy.merge_method, policy.notify_on_complete) == (
        "production", "squash", True,
    )  # fmt: skip
    assert policy.channels == () and policy.environments == ()
    assert policy.rollout.stages == (5, 25, 50, 75, 100)
    assert policy.rollout.every == timedelta(minutes=60)


def test_this_repositorys_policy():
    policy, problems = load_policy((ROOT / POLICY_PATH).read_bytes())
    assert problems == []
    assert policy.roles["oncall"] == ("@acme/oncall",)
    assert policy.required_roles("production", "update", True) == ("manager", "qa")
    assert policy.required_roles("staging", "update", True) == ("manager",)
    assert policy.required_roles("production", "toggle", False) == ("oncall",)
    assert policy.required_roles("production", "toggle", True) == ("manager", "qa")
    assert policy.merge_method == "squash" and policy.notify_on_complete is True
    assert {c.type for c in policy.channels} == {"slack", "email", "webhook"}
    slack = next(c for c in policy.channels if c.type == "slack")
    assert slack.url_env == "FLAGBOT_SLACK_WEBHOOK_URL"
    email = next(c for c in policy.channels if c.type == "email")
    assert email.url_env == "FLAGBOT_SMTP_URL" and email.sender and email.to


def test_require_in_full():
    policy = good(
        ROLES
        + "  oncall: '@acme/oncall'\n"
        + "  lead: [lead@acme.example, '@octocat']\n"
        + "require:\n"
        + "  default: manager\n"
        + "  environments: {staging: [lead]}\n"
        + "  change_types: {delete: [manager, qa], rollout: [qa]}\n"
        + "  rules:\n"
        + "    - {name: kill, when: {change_type: toggle, enabled: false}, roles: [oncall]}\n"
        + "    - {name: stg-create, when: {environment: staging, change_type: create}, roles: qa}\n"
    )
    assert policy.roles["oncall"] == ("@acme/oncall",)
    req = policy.requirements
    assert req.default == ("manager",)
    assert req.environments == {"staging": ("lead",)}
    assert req.change_types == {"delete": ("manager", "qa"), "rollout": ("qa",)}
    assert req.rules[0] == RequirementRule(
        "kill", RuleCondition(None, "toggle", False), ("oncall",)
    )
    assert policy.required_roles("staging", "create", True) == ("qa",)
    assert policy.required_roles("staging", "rollout", True) == ("qa",)
    assert policy.required_roles("staging", "update", True) == ("lead",)
    assert policy.required_roles("production", "update", True) == ("manager",)


def test_a_require_default_of_other_roles_frees_the_file_from_manager_and_qa():
    policy = good("roles:\n  owner: ['@me']\nrequire:\n  default: [owner]\n")
    assert policy.required_roles("production", "update", True) == ("owner",)


def test_notifications_name_environment_variables():
    policy = good(
        ROLES
        + "notifications:\n"
        + "  team: {type: slack, url_env: SLACK_URL}\n"
        + "  audit: {type: webhook, url_env: AUDIT_URL}\n"
        + "  people: {type: email, smtp_env: SMTP, to: a@x.example, from: bot@x.example}\n"
    )
    assert policy.channels == (
        Channel(type="slack", name="team", url_env="SLACK_URL"),
        Channel(type="webhook", name="audit", url_env="AUDIT_URL"),
        Channel(type="email", name="people", url_env="SMTP", to=("a@x.example",),
                sender="bot@x.example"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("notifications:\n  a: {type: slack, webhook_url: x}\n", "do not write URLs or secrets"),
        ("notifications:\n  a: {type: email, smtp_env: S, to: [a@x.example], password: p}\n",
         "e.g. smtp_env: FLAGBOT_A_SMTP_URL"),
        ("notifications:\n  a: {type: slack, url_env: 'https://hooks.slack.com/x'}\n",
         "not the URL itself"),
        ("notifications:\n  a: {type: slack, url_env: 1SLACK}\n", "is not an environment variable"),
        ("notifications:\n  a: {type: email, smtp_env: S, to: [nobody]}\n",
         "notifications.a.to[0] 'nobody' is not an e-mail address"),
        ("notifications:\n  a: {type: slack, url_env: S, to: [a@x.example]}\n",
         "unknown field 'notifications.a.to'"),
        ("notifications: [slack]\n", "notifications must be a mapping"),
        ("merge_method: fast\n", "merge_method 'fast' is not valid"),
        ("environments: [prod, prod]\ndefault_environment: prod\n", "listed twice"),
        ("environments: [staging]\n", "the default environment 'production'"),
        ("default_environment: 'a b'\n", "not a valid folder name"),
        ("require:\n  rules:\n    - {name: x, when: {enabled: maybe}, roles: [qa]}\n",
         "require.rules[0].when.enabled must be true or false"),
        ("require:\n  rules:\n    - {name: x, when: {change_type: flip}, roles: [qa]}\n",
         "change_type 'flip' is not valid"),
        ("require:\n  rules:\n    - {name: x, when: {enabled: true}, roles: [qa]}\n"
         "    - {name: x, when: {enabled: false}, roles: [qa]}\n", "two rules are named 'x'"),
        ("require:\n  rules:\n    - {when: {enabled: true}}\n", "require.rules[0] needs `name:`"),
        ("require:\n  default: [manager, boss]\n", "role 'boss' is not defined under roles"),
        ("require:\n  rules:\n    - {name: off, when: {enabled: false}, roles: [qa]}\n",
         'YAML 1.1 reads unquoted off as a boolean); quote it: "off"'),
        ("rollout:\n  stages: [50, 5]\n", "rollout.stages must rise strictly"),
        ("rollout:\n  every: soon\n", "rollout.every 'soon' is not a duration"),
        ("rollout:\n  pace: 1h\n", "unknown field 'rollout.pace'"),
    ],
)  # fmt: skip
def test_bad_settings(extra, problem):
    found = messages(ROLES + extra)
    assert any(problem in m for m in found), found


@pytest.mark.parametrize(
    ("owner", "ok"),
    [
        ("@octocat", True),
        ("@acme/eng-managers", True),
        ("@acme/team_1.x", True),
        ("someone@acme.example", True),
        ("acme/qa", False),
        ("@", False),
        ("@-bad", False),
        ("@acme/", False),
        ("@a/b/c", False),
    ],
)
def test_owner_syntax(owner, ok):
    policy, problems = load_policy(f'roles:\n  manager: ["{owner}"]\n  qa: ["@acme/qa"]\n'.encode())
    assert (not policy.is_null) is ok, problems


def test_owners_may_be_a_single_string():
    assert good("roles:\n  manager: '@m'\n  qa: '@q'\n").roles == {
        "manager": ("@m",),
        "qa": ("@q",),
    }


def test_role_names_and_owner_lists_are_checked():
    assert messages("roles:\n  manager: []\n  qa: ['@q']\n") == ["roles.manager must not be empty"]
    assert any(
        "must be a word" in m
        for m in messages("roles:\n  'a b': ['@x']\n  manager: ['@m']\n  qa: ['@q']\n")
    )
    assert messages("roles: [manager, qa]\n") == [
        "roles must be a mapping (`field: value` lines), got a list"
    ]


def test_webhook_channel_may_name_a_signing_secret_variable():
    from bot.policy.config import load_policy

    policy, problems = load_policy(
        b'roles: {manager: ["@a/m"], qa: ["@a/q"]}\n'
        b"notifications:\n  audit:\n    type: webhook\n    url_env: AUDIT_URL\n"
        b"    secret_env: AUDIT_SECRET\n"
    )
    assert problems == []
    [channel] = policy.channels
    assert channel.options == {"secret_env": "AUDIT_SECRET"}


def test_approval_timeout_defaults_and_settings():
    from bot.policy.model import ApprovalTimeout

    assert good("roles: {manager: ['@a/m'], qa: ['@a/q']}\n").approval == ApprovalTimeout(
        timedelta(hours=24), timedelta(hours=72), "fail"
    )
    policy = good(
        "roles: {manager: ['@a/m'], qa: ['@a/q']}\n"
        "approval: {remind_after: 2h, expire_after: 1d, on_expire: close}\n"
    )
    assert policy.approval == ApprovalTimeout(timedelta(hours=2), timedelta(days=1), "close")


@pytest.mark.parametrize(
    ("approval", "problem"),
    [
        ("{on_expire: delete}", "on_expire"),
        ("{remind_after: 3d, expire_after: 1d}", "shorter than approval.expire_after"),
        ("{remind_after: soon}", "not a duration"),
        ("{remind_afer: 2h}", "remind_afer"),
    ],
)
def test_bad_approval_settings(approval, problem):
    found = messages(f"roles: {{manager: ['@a/m'], qa: ['@a/q']}}\napproval: {approval}\n")
    assert any(problem in m for m in found), found

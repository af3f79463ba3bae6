"""policy.schema.json and flagbot.yml's loader say the same thing.

- the schema's keys, choices and patterns are the loader's constants, and every object in it
  is closed (`additionalProperties: false`), so a key added to the loader fails here until
  the schema has it too;
- this repository's flagbot.yml and the one `flagbot init` writes pass it;
- corpus files whose problem is structural are rejected by the schema as well;
- whatever the loader accepts, the schema accepts (a property test).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bot.flags.location import MAX_NAME_LENGTH, NAME_PATTERN
from bot.flags.model import STAGE_PERCENTAGES
from bot.flags.plan import DURATION_PATTERN
from bot.policy import config
from bot.policy.model import CHANGE_TYPES
from bot.scaffold.files import Options, repository_files
from tests.corpus import policy_cases
from tests.flags.test_schema import editor_view

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(resources.files("bot.policy").joinpath("policy.schema.json").read_text())
FLAG_SCHEMA = json.loads(resources.files("bot.flags").joinpath("flag.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
DEFS = SCHEMA["$defs"]
PROPS = SCHEMA["properties"]


def anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def test_the_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(SCHEMA)


def test_keys_are_the_loaders():
    assert tuple(PROPS) == config.POLICY_FIELDS
    assert SCHEMA["required"] == ["roles"]
    require = PROPS["require"]["properties"]
    assert tuple(require) == config.REQUIRE_FIELDS
    assert tuple(require["change_types"]["properties"]) == CHANGE_TYPES
    rule = DEFS["rule"]
    assert tuple(rule["properties"]) == config.REQUIRE_RULE_FIELDS
    assert tuple(rule["required"]) == config.REQUIRE_RULE_FIELDS
    assert tuple(rule["properties"]["when"]["properties"]) == config.WHEN_FIELDS
    assert tuple(rule["properties"]["when"]["properties"]["change_type"]["enum"]) == CHANGE_TYPES
    assert tuple(PROPS["rollout"]["properties"]) == config.ROLLOUT_DEFAULT_FIELDS
    assert tuple(PROPS["merge_method"]["enum"]) == config.MERGE_METHODS
    assert tuple(PROPS["approval"]["properties"]) == config.APPROVAL_FIELDS
    assert tuple(PROPS["approval"]["properties"]["on_expire"]["enum"]) == config.ON_EXPIRE
    assert [
        tuple(t.get("enum", t.get("items", {}).get("enum"))) for t in PROPS["exports"]["oneOf"]
    ] == [config.EXPORT_TARGETS, config.EXPORT_TARGETS]


def test_channels_are_the_loaders():
    channel = DEFS["channel"]
    assert tuple(channel["properties"]["type"]["enum"]) == config.CHANNEL_TYPES
    variants = {v["properties"]["type"]["const"]: v for v in channel["oneOf"]}
    assert tuple(variants) == config.CHANNEL_TYPES
    for kind, variant in variants.items():
        assert tuple(variant["properties"]) == config.CHANNEL_FIELDS[kind]
        assert variant["required"] == ["type", *config.CHANNEL_REQUIRED[kind]]
        assert variant["additionalProperties"] is False


def test_patterns_are_the_loaders():
    assert PROPS["roles"]["propertyNames"]["pattern"] == anchored(config.ROLE_PATTERN.pattern)
    assert DEFS["owner"]["pattern"] == anchored(config.OWNER_PATTERN.pattern)
    assert DEFS["email"]["pattern"] == anchored(config.EMAIL_PATTERN.pattern)
    assert DEFS["env_var"]["pattern"] == anchored(config.ENV_VAR_PATTERN.pattern)
    assert DEFS["environment"]["pattern"] == anchored(NAME_PATTERN.pattern)
    assert DEFS["environment"]["maxLength"] == MAX_NAME_LENGTH
    assert DEFS["duration"] == FLAG_SCHEMA["$defs"]["duration"]
    assert DEFS["duration"]["pattern"] == DURATION_PATTERN
    assert DEFS["stage"] == FLAG_SCHEMA["$defs"]["stage"]
    # rollout.guard: the same keys as a flag's own (bot/flags/guard.py reads both)
    assert PROPS["rollout"]["properties"]["guard"]["$ref"] == "#/$defs/guard"
    assert DEFS["guard"] == FLAG_SCHEMA["$defs"]["guard"]
    assert DEFS["envVar"] == FLAG_SCHEMA["$defs"]["envVar"]
    assert tuple(DEFS["stage"]["oneOf"][1]["enum"]) == tuple(STAGE_PERCENTAGES)


def closed_objects(node: Any, where: str = "#") -> list[str]:
    """Paths of objects with named properties that still allow unnamed ones."""
    found = []
    if isinstance(node, dict):
        # `channel` is closed by each of its oneOf variants instead.
        if (
            "properties" in node
            and node.get("additionalProperties") is not False
            and where != "#/$defs/channel"
        ):
            found.append(where)
        for key, value in node.items():
            found += closed_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += closed_objects(value, f"{where}/{i}")
    return found


def test_every_object_is_closed_so_new_keys_must_be_added_here():
    assert closed_objects(SCHEMA) == []


@pytest.mark.parametrize(
    "text",
    [
        (ROOT / ".github" / "flagbot.yml").read_text(),
        repository_files(Options())[".github/flagbot.yml"],
    ],
    ids=["this repository", "flagbot init"],
)
def test_real_policies_pass(text):
    assert config.load_policy(text.encode())[1] == []
    assert [e.message for e in VALIDATOR.iter_errors(editor_view(text.encode()))] == []


# Corpus files whose problem is one of shape (a key, a type, a choice, a pattern): the schema
# sees it too. The others need flagbot (unknown roles, environments, stage order, durations).
STRUCTURAL = {
    "change_type_typo",
    "channel_type_unknown",
    "email_without_recipients",
    "empty_role_list",
    "literal_slack_url",
    "merge_method_invalid",
    "missing_roles",
    "notify_yes",
    "owner_without_at",
    "rule_without_condition",
    "unknown_top_level_key",
    "url_in_url_env",
}


@pytest.mark.parametrize(
    "case", [c for c in policy_cases() if c.id in STRUCTURAL], ids=lambda c: c.id
)
def test_the_schema_rejects_structural_mistakes(case):
    assert list(VALIDATOR.iter_errors(editor_view(case.data))), case.file.name


def test_the_structural_cases_exist():
    assert {c.id for c in policy_cases()} >= STRUCTURAL


# -- whatever flagbot accepts, the schema accepts ---------------------------------------------


def mostly(good, *wrong):
    """Mostly `good`, so that a fair share of documents pass flagbot, sometimes not."""
    return st.integers(0, 9).flatmap(lambda i: good if i < 8 else st.sampled_from(wrong))


owner = mostly(
    st.sampled_from(["@acme/qa", "@acme/eng-managers", "@dana", "qa@acme.example"]), "acme"
)
owners = st.one_of(owner, st.lists(owner, min_size=1, max_size=2))
roles = st.fixed_dictionaries(
    {"manager": owners, "qa": owners},
    optional={"oncall": owners, "bad role": owners},
)
role_names = mostly(st.sampled_from(["manager", "qa", "oncall"]), "nobody")
role_list = st.one_of(role_names, st.lists(role_names, min_size=1, max_size=2))
env_names = mostly(st.sampled_from(["production", "staging"]), "bad env")
channel = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("slack"), "url_env": mostly(st.just("SLACK"), "http://x")}
    ),
    st.fixed_dictionaries(
        {"type": st.just("webhook"), "url_env": st.just("HOOK")},
        optional={"secret_env": mostly(st.just("SECRET"), "1BAD")},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("email"),
            "smtp_env": st.just("SMTP"),
            "to": st.one_of(st.just("a@b.example"), st.lists(st.just("a@b.example"), max_size=2)),
        },
        optional={"from": mostly(st.just("f@b.example"), "nobody")},
    ),
    st.fixed_dictionaries({"type": st.just("pager")}),
)
policy_document = st.fixed_dictionaries(
    {"roles": roles},
    optional={
        "require": st.fixed_dictionaries(
            {},
            optional={
                "default": role_list,
                "environments": st.dictionaries(env_names, role_list, max_size=2),
                "change_types": st.dictionaries(
                    mostly(st.sampled_from(CHANGE_TYPES), "togle"), role_list, max_size=2
                ),
                "rules": st.lists(
                    st.fixed_dictionaries(
                        {
                            "name": st.sampled_from(["a", "b"]),
                            "roles": role_list,
                            "when": st.fixed_dictionaries(
                                {"enabled": mostly(st.booleans(), "no")},
                                optional={
                                    "environment": env_names,
                                    "change_type": mostly(st.sampled_from(CHANGE_TYPES), "x"),
                                },
                            ),
                        },
                    ),
                    max_size=2,
                    unique_by=lambda rule: rule["name"],
                ),
            },
        ),
        "merge_method": mostly(st.sampled_from(["merge", "squash", "rebase"]), "ff"),
        "notify_on_complete": mostly(st.booleans(), "yes"),
        "notifications": st.dictionaries(st.sampled_from(["a", "b"]), channel, max_size=2),
        "rollout": st.fixed_dictionaries(
            {},
            optional={
                "stages": mostly(st.sampled_from([[5, 25, 100], ["initial", "full"]]), [50, 5], []),
                "every": mostly(st.sampled_from(["60m", "1h30m"]), "4m", "soon"),
            },
        ),
        "environments": st.just(["production", "staging"]) | st.lists(env_names, max_size=3),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_document)
def test_whatever_flagbot_accepts_the_schema_accepts(document):
    data = yaml.safe_dump(document).encode()
    policy, _ = config.load_policy(data)
    if not policy.is_null:
        errors = [e.message for e in VALIDATOR.iter_errors(editor_view(data))]
        assert errors == [], data.decode()


def test_this_repositorys_policy_points_editors_at_the_schema():
    first = (ROOT / ".github" / "flagbot.yml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../bot/policy/policy.schema.json"
    assert (ROOT / ".github" / "../bot/policy/policy.schema.json").resolve().is_file()

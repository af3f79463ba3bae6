"""The shipped JSON Schema and the validator say the same thing.

- the schema's field names and choices are the validator's constants;
- every example flag in this repository passes it;
- each corpus file's `# schema:` header says whether the schema alone catches its problem,
  and the schema agrees;
- whatever the validator accepts, the schema accepts (a property test).

Editors read YAML 1.2, where `yes` is a string and timestamps are strings, so the schema is
applied to the file as such an editor sees it.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bot.flags import load as flag_load
from bot.flags.model import FLAG_STATUSES, FLAG_TYPES, OPERATORS, STAGE_PERCENTAGES
from bot.flags.plan import DURATION_PATTERN
from bot.yamlfields import TIMESTAMP_PATTERN
from tests.corpus import flag_cases

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(resources.files("bot.flags").joinpath("flag.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
DEFS = SCHEMA["$defs"]


class EditorView(yaml.SafeLoader):
    """YAML as a YAML 1.2 editor reads it: only true/false are booleans, times are text."""


EditorView.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
EditorView.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def editor_view(data: bytes):
    return yaml.load(data, Loader=EditorView)


def test_the_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(SCHEMA)


def test_field_names_and_choices_are_the_validators():
    assert tuple(SCHEMA["properties"]) == flag_load.FLAG_FIELDS
    assert tuple(SCHEMA["required"]) == ("name",)
    assert tuple(SCHEMA["properties"]["type"]["enum"]) == FLAG_TYPES
    assert tuple(SCHEMA["properties"]["status"]["enum"]) == FLAG_STATUSES
    rollout = DEFS["rollout"]["properties"]
    assert tuple(rollout) == flag_load.ROLLOUT_FIELDS
    assert tuple(rollout["stage_started"]["properties"]) == flag_load.STAGE_STARTED_FIELDS
    assert tuple(rollout["stage_started"]["required"]) == flag_load.STAGE_STARTED_FIELDS
    assert tuple(DEFS["rule"]["properties"]) == flag_load.RULE_FIELDS
    assert tuple(DEFS["rule"]["required"]) == flag_load.RULE_FIELDS
    assert tuple(DEFS["rule"]["properties"]["operator"]["enum"]) == OPERATORS
    assert tuple(DEFS["stage"]["oneOf"][1]["enum"]) == tuple(STAGE_PERCENTAGES)
    assert DEFS["duration"]["pattern"] == DURATION_PATTERN
    assert rollout["stage_started"]["properties"]["at"]["pattern"] == TIMESTAMP_PATTERN
    groups = {tuple(part["if"]["properties"]["operator"]["enum"]) for part in DEFS["rule"]["allOf"]}
    assert groups == {
        flag_load.SINGLE_VALUE_OPERATORS,
        flag_load.NUMBER_OPERATORS,
        flag_load.TEXT_OPERATORS,
        tuple(
            o
            for o in OPERATORS
            if o not in (*flag_load.NUMBER_OPERATORS, *flag_load.TEXT_OPERATORS)
        ),
    }


EXAMPLES = sorted((ROOT / "flags").rglob("*.y*ml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_examples_pass_the_schema_and_point_editors_at_it(path: Path):
    data = path.read_bytes()
    errors = [e.message for e in VALIDATOR.iter_errors(editor_view(data))]
    assert errors == []
    first = data.splitlines()[0].decode()
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path.name}: first line should be the yaml-language-server $schema comment"
    target = (path.parent / match[1]).resolve()
    assert target == ROOT / "bot" / "flags" / "flag.schema.json"


SCHEMA_CASES = [c for c in flag_cases() if c.schema in ("pass", "fail")]


def test_most_corpus_files_say_what_the_schema_does():
    assert len(SCHEMA_CASES) >= 30


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=lambda c: c.id)
def test_corpus_files_meet_the_schema_as_declared(case):
    errors = list(VALIDATOR.iter_errors(editor_view(case.data)))
    if case.schema == "fail":
        assert errors, f"{case.file.name}: the schema should reject this"
    else:
        assert not errors, f"{case.file.name}: the schema should accept this: {errors[0].message}"


@pytest.mark.parametrize(
    "case", [c for c in flag_cases() if c.schema == "unparseable"], ids=lambda c: c.id
)
def test_unparseable_corpus_files_are_unparseable_for_editors_too(case):
    with pytest.raises(yaml.YAMLError):
        editor_view(case.data)


# -- whatever flagbot accepts, the schema accepts --------------------------------------------


def sometimes_wrong(good, *wrong):
    """Mostly `good`, so that a fair share of documents pass flagbot, sometimes not."""
    return st.integers(0, 9).flatmap(lambda i: good if i < 8 else st.sampled_from(wrong))


scalar = st.one_of(
    st.booleans(), st.integers(-5, 200), st.floats(-1, 101, allow_nan=False), st.text(max_size=5)
)
VALUES = {
    "boolean": st.booleans(),
    "string": st.text(max_size=5),
    "number": st.one_of(st.integers(-5, 5), st.floats(-1, 1, allow_nan=False)),
    "json": st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=2), inner, max_size=2)
        ),
        max_leaves=4,
    ),
}
stage_item = sometimes_wrong(st.sampled_from([*STAGE_PERCENTAGES, 1, 10, 33.5]), 0, 101, "quarter")
rollout = st.fixed_dictionaries(
    {"percentage": sometimes_wrong(st.sampled_from([5, 25, 50, 0, 100, 0.5]), -1, 101, "5")},
    optional={
        "stages": sometimes_wrong(st.just([5, 25, 50, 75, 100]), [], [50, 5], [0.5, 100]),
        "every": sometimes_wrong(st.sampled_from(["60m", "1h", "5m", "2d", "1h30m"]), "4m", 60),
        "paused": sometimes_wrong(st.booleans(), "no"),
        "stage_started": st.fixed_dictionaries(
            {"percentage": st.integers(0, 100)},
            optional={"at": sometimes_wrong(st.just("2024-05-01T10:00:00Z"), "2024-05-01", "soon")},
        ),
    },
)


@st.composite
def flag_document(draw):
    flag_type = draw(sometimes_wrong(st.sampled_from(FLAG_TYPES), "bool"))
    values = VALUES.get(flag_type, scalar)
    maybe_wrong_value = st.one_of(values, values, values, scalar)
    rule = st.fixed_dictionaries(
        {
            "name": st.text("abc", min_size=1, max_size=4),
            "attribute": sometimes_wrong(st.sampled_from(["email", "country"]), " "),
            "operator": sometimes_wrong(st.sampled_from(OPERATORS), "like"),
            "values": sometimes_wrong(st.lists(scalar, min_size=1, max_size=2), []),
            "serve": maybe_wrong_value,
        }
    )
    optional = {
        "description": st.one_of(st.text(max_size=4), st.none()),
        "status": sometimes_wrong(st.sampled_from(FLAG_STATUSES), "gone"),
        "enabled": sometimes_wrong(st.booleans(), "true"),
        "default": maybe_wrong_value,
        "value": maybe_wrong_value,
        "tags": st.lists(sometimes_wrong(st.text("abc-", min_size=1, max_size=3), ""), max_size=3),
        "rules": st.lists(rule, max_size=2),
        "rollout": rollout,
    }
    document = draw(
        st.fixed_dictionaries(
            {"name": sometimes_wrong(st.text(min_size=1, max_size=4), 7)}, optional=optional
        )
    )
    if flag_type != "boolean" or draw(st.booleans()):
        document["type"] = flag_type
    if flag_type in VALUES and flag_type != "boolean" and draw(st.integers(0, 9)) < 8:
        document["default"] = draw(values)
        document["value"] = draw(values)
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flag_document())
def test_whatever_flagbot_accepts_the_schema_accepts(document):
    data = yaml.safe_dump(document, allow_unicode=True).encode()
    flag, _ = flag_load.load_flag(data, "flags/generated.yaml")
    if flag is not None:
        errors = [e.message for e in VALIDATOR.iter_errors(editor_view(data))]
        assert errors == [], data.decode()


def test_guard_fields_are_the_loaders():
    from bot.flags import guard

    g = DEFS["guard"]
    assert tuple(g["properties"]) == guard.GUARD_FIELDS
    assert tuple(g["properties"]["on_failure"]["enum"]) == guard.ON_FAILURE
    kinds = g["properties"]["checks"]["items"]["oneOf"]
    assert tuple(k["required"][0] for k in kinds) == guard.GUARD_KINDS
    prom, http = kinds[1]["properties"]["prometheus"], kinds[2]["properties"]["http"]
    assert tuple(prom["properties"]) == guard.PROMETHEUS_FIELDS
    assert tuple(http["properties"]) == guard.HTTP_FIELDS
    assert DEFS["envVar"]["pattern"] == f"^{guard.ENV_VAR_PATTERN.pattern}$"


@pytest.mark.parametrize(
    ("guard", "valid"),
    [
        ("{on_failure: rollback, checks: [{check: smoke}]}", True),
        ("{checks: [{prometheus: {url_env: P, query: up, max: 1}}]}", True),
        ("{checks: [{http: {url_env: H}}]}", True),
        ("{checks: [{prometheus: {url_env: P, query: up}}]}", False),  # no bound
        ("{checks: [{http: {url: 'https://x'}}]}", False),  # a URL, not a variable
        ("{checks: [{http: {url_env: 'https://x'}}]}", False),
        ("{on_failure: abort}", False),
    ],
)
def test_the_schema_checks_guards(guard, valid):
    text = (
        "name: X\nrollout:\n  percentage: 5\n  stages: [5, 100]\n"
        f"  paused_reason: why\n  guard: {guard}\n"
    )
    assert VALIDATOR.is_valid(editor_view(text.encode())) is valid
    flag, _ = flag_load.load_flag(text.encode(), "flags/x.yaml")
    assert (flag is not None) is valid  # the loader agrees

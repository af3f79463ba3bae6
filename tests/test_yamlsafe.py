"""Safe loading: plain values only, every refusal at its line and column, never a hang."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import yamlsafe
from bot.yamlsafe import MAX_ALIASES, load_mapping


def load(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return load_mapping(data, "f.yaml", **kwargs)


def only_problem(text: str | bytes, **kwargs):
    doc, problems = load(text, **kwargs)
    assert doc is None
    assert len(problems) == 1, problems
    return problems[0]


def test_uses_libyaml_when_pyyaml_has_it():
    if yaml.__with_libyaml__:
        assert yamlsafe._Loader is yaml.CSafeLoader


def test_loads_plain_values_like_pyyaml():
    text = "a: 1\nb: [x, 2.5, true, null]\nc: {d: 2024-05-01T10:00:00Z}\n"
    doc, problems = load(text)
    assert problems == []
    assert doc.data == yaml.safe_load(text)


def test_positions_are_one_based_and_point_at_values_or_keys():
    doc, _ = load("name: x\nrollout:\n  percentage: 120\n  stages: [5, 25]\n")
    assert doc.position(("rollout", "percentage")) == (3, 15)
    assert doc.position(("rollout", "percentage"), key=True) == (3, 3)
    assert doc.position(("rollout", "stages", 1)) == (4, 15)
    assert doc.position(()) == (1, 1)


def test_a_missing_field_points_at_its_parents_key():
    doc, _ = load("name: x\nrollout:\n  stages: [5]\n")
    assert doc.position(("rollout", "percentage")) == (2, 1)


def test_source_gives_the_text_as_written():
    doc, _ = load("a: yes\nb: 1.10\n")
    assert doc.data == {"a": True, "b": 1.1}
    assert doc.source(("a",)) == "yes"
    assert doc.source(("b",)) == "1.10"


def test_boolean_keys_are_told_apart_from_integer_keys():
    doc, _ = load("a: {1: one}\nb: {on: two}\n")
    assert doc.key_source(("b", True)) == "on"
    assert doc.key_source(("a", 1)) == "1"
    assert doc.key_source(("a", True)) is None
    # In one mapping they are the same key to Python, so YAML 1.1 makes them duplicates.
    assert "duplicate key 'on'" in only_problem("1: one\non: two\n").message


def test_duplicate_keys_are_refused_at_any_depth():
    problem = only_problem("a:\n  b:\n    c: 1\n    c: 2\n")
    assert (problem.line, problem.column) == (4, 5)
    assert "duplicate key 'c'" in problem.message


def test_duplicate_keys_written_differently_are_still_duplicates():
    assert "duplicate key" in only_problem("a: 1\n'a': 2\n").message


def test_arbitrary_tags_are_refused():
    problem = only_problem("a: !!python/object/apply:os.system [echo]\n")
    assert problem.code == "yaml-tag" and (problem.line, problem.column) == (1, 4)
    assert only_problem("a: !!python/name:os.system ''\n").code == "yaml-tag"
    assert only_problem("a: !custom {}\n").code == "yaml-tag"
    assert only_problem("a: !!set {x}\n").code == "yaml-tag"


def test_explicit_standard_tags_are_fine():
    doc, problems = load("a: !!str 123\n")
    assert problems == [] and doc.data == {"a": "123"}


def test_a_few_aliases_are_fine():
    doc, problems = load("base: &owners ['@a/b']\nqa: *owners\nmanager: *owners\n")
    assert problems == []
    assert doc.data["qa"] == ["@a/b"]


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefghij", "bcdefghijk"[:levels], strict=False):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused():
    problem = only_problem(billion_laughs())
    assert problem.code == "yaml-aliases"
    assert f"more than {MAX_ALIASES} alias expansions" in problem.message


def test_wide_alias_expansion_hits_the_value_budget():
    wide = "[" + ",".join(["x"] * 10_000) + "]"
    text = f"a: &a {wide}\nb: [" + ",".join(["*a"] * 50) + "]\n"
    assert only_problem(text).code == "yaml-too-large"


def test_recursive_alias_does_not_loop():
    problem = only_problem("a: &a [*a]\n")
    assert problem.code == "yaml-recursive-alias" and (problem.line, problem.column) == (1, 4)
    assert only_problem("a: &a {b: [1, {c: *a}]}\n").code == "yaml-recursive-alias"


def test_deep_nesting_is_refused():
    problem = only_problem("a: " + "[" * 150 + "]" * 150 + "\n")
    assert problem.code == "yaml-too-deep"


def test_size_is_bounded():
    problem = only_problem("a: " + "x" * 100 + "\n", max_bytes=50)
    assert problem.code == "yaml-size" and (problem.line, problem.column) == (1, 1)


def test_non_utf8_is_refused_at_the_byte():
    problem = only_problem(b"a: ok\nb: caf\xe9\n")
    assert problem.code == "yaml-encoding"
    assert (problem.line, problem.column) == (2, 7)


def test_utf16_is_refused_and_a_utf8_bom_accepted():
    assert only_problem("a: 1\n".encode("utf-16")).code == "yaml-encoding"
    doc, problems = load(b"\xef\xbb\xbfa: 1\n")
    assert problems == [] and doc.data == {"a": 1}


def test_syntax_errors_carry_pyyamls_mark():
    problem = only_problem("a: [1, 2\n")
    assert problem.code == "yaml-syntax" and problem.line == 2
    assert "line 1, column 4" in problem.message


def test_the_top_level_must_be_a_mapping():
    problem = only_problem("- a\n- b\n", kind="flag file")
    assert problem.code == "yaml-not-mapping"
    assert "the flag file must be a mapping" in problem.message
    assert only_problem("just text\n").code == "yaml-not-mapping"
    assert only_problem("# nothing\n").code == "yaml-empty"


def test_non_scalar_keys_and_merge_keys_are_refused():
    assert only_problem("? [a, b]\n: 1\n").code == "yaml-key"
    assert only_problem("a: &x {b: 1}\nc:\n  <<: *x\n").code == "yaml-merge"


def test_unreadable_scalars_are_problems_not_crashes():
    assert only_problem("a: 2024-02-30\n").code == "yaml-value"
    assert only_problem("a: " + "9" * 5000 + "\n").code == "yaml-value"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data):
    doc, problems = load_mapping(data, "f.yaml")
    assert (doc is None) == bool(problems)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:- \n[]{}&*!'\"#,?|>\t1yes")), max_size=120))
def test_yaml_like_text_never_crashes(text):
    doc, problems = load_mapping(text.encode(), "f.yaml")
    assert (doc is None) == bool(problems)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1


def test_control_characters_are_refused_where_they_are():
    problem = only_problem("a: 1\né: é\x07\n")
    assert problem.code == "yaml-character"
    assert (problem.line, problem.column) == (2, 5)
    assert "U+0007" in problem.message

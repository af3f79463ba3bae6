"""The CODEOWNERS shortcuts against the slow ways they replace.

- `plain.matches` (string operations) against the pattern's regular expression;
- `scan.needle` is in every path the pattern matches;
- the cold scan, the index and `reference` (an independent reading of GitHub's rules) name
  the same deciding rule, and a file switches from one to the other without changing answers;
- the parser's fast reading of lines (`str.split`, owners checked once) against the
  straightforward one it replaced, on lines full of the characters that tell them apart.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy.codeowners import parse_codeowners, plain
from bot.policy.codeowners.index import Index
from bot.policy.codeowners.pattern import compile_glob
from bot.policy.codeowners.scan import Scan, needle
from bot.policy.codeowners.syntax import (
    _SUSPECT,
    _TOKEN,
    _careful_lines,
    _line_problems,
    owner_kind,
)
from tests.policy.test_codeowners_properties import reference

SEGMENTS = ["a", "b", "a.py", "", "*", "**", "?", "a*", "*.py", "*b", "a*b", "*a*", "a?", "a\\*"]
NAMES = ["a", "b", "ab", "a.py", "b.py", "", "ba", "a*", "aab", "x.a.py"]

patterns = st.builds(
    lambda lead, segs, trail: ("/" if lead else "") + "/".join(segs) + ("/" if trail else ""),
    st.booleans(),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
    st.booleans(),
).filter(lambda p: p.strip("/") != "")
paths = st.builds(
    lambda parts, directory: "/".join(parts) + ("/" if directory else ""),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=5),
    st.booleans(),
)


def regex_matches(pattern: str, path: str) -> bool:
    return re.fullmatch(compile_glob(pattern).regex(), path, re.DOTALL) is not None


@settings(max_examples=1500, derandomize=True)
@given(pattern=patterns, path=paths)
def test_plain_matching_agrees_with_the_regex(pattern: str, path: str) -> None:
    how = plain.plan(compile_glob(pattern))
    if how is not None:
        assert plain.matches(how, path) is regex_matches(pattern, path)


def test_plain_matching_covers_the_common_shapes() -> None:
    common = ["/a/b/", "a", "a/", "docs/*", "/*", "*", "*.py", "/src/*.py", "test_*", "a/**"]
    common += ["*/internal/", "/services/*/api/", "**/x/*.md", "/a/*/b*c"]
    assert all(plain.plan(compile_glob(p)) is not None for p in common)
    left = ["a/**/b", "a?b", "*a*", "**", "a/**/"]  # for the regex
    assert all(plain.plan(compile_glob(p)) is None for p in left)


@settings(max_examples=800, derandomize=True)
@given(pattern=patterns, path=paths)
def test_the_needle_is_in_every_path_the_pattern_matches(pattern: str, path: str) -> None:
    if regex_matches(pattern, path):
        assert needle(pattern) in path


@settings(max_examples=300, derandomize=True)
@given(rules=st.lists(patterns, min_size=1, max_size=30), probes=st.lists(paths, max_size=12))
def test_scan_index_and_reference_name_the_same_rule(rules: list[str], probes: list[str]) -> None:
    scan, index = Scan(rules), Index([compile_glob(p) for p in rules])
    for path in probes:
        matching = [i for i, pattern in enumerate(rules) if reference(pattern, path)]
        expected = matching[-1] if matching else -1
        assert scan.winner(path) == expected
        assert index.winner(path) == expected
    later = Index(scan.globs())  # the index built from what the scan compiled
    assert [later.winner(p) for p in probes] == [index.winner(p) for p in probes]


def test_a_few_paths_never_build_the_index_and_many_do() -> None:
    rules = [f"/dir-{i}/ @team-{i}" for i in range(200)] + ["*.md @docs", "/dir-7/*.py @py"]
    codeowners, _ = parse_codeowners("\n".join(rules))
    probes = [f"dir-{i % 210}/x.{'md' if i % 3 else 'py'}" for i in range(400)]
    before = [codeowners.owners_of(p) for p in probes[:5]]
    assert not codeowners._lookup.indexed
    after = [codeowners.owners_of(p) for p in probes]
    assert codeowners._lookup.indexed
    assert after[:5] == before
    assert codeowners.owners_of("dir-7/x.py") == ("@py",)
    assert codeowners.owners_of("dir-8/x.md") == ("@docs",)
    assert codeowners.owners_of("dir-201/x.py") is None


# --- parsing --------------------------------------------------------------------------------

ODD_SPACE = [chr(c) for c in range(0x110000) if chr(c).isspace() and chr(c) not in " \t\n"]


def test_every_space_str_split_knows_but_github_does_not_is_read_carefully() -> None:
    for ch in ODD_SPACE:
        assert _careful_lines(f"* @a\nx{ch}y @b\n") == {2}, repr(ch)


def straightforward(text: str, path: str) -> tuple[list[tuple[object, ...]], list[object]]:
    """The parser before its shortcuts: every line tokenized and checked on its own."""
    rows, errors = [], []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        line = raw.removesuffix("\r")
        if "\\" in line:
            words = _TOKEN.findall(line)
        else:
            words = [word for word in line.replace("\t", " ").split(" ") if word]
        if not words or words[0].startswith("#"):
            continue
        owners = []
        for word in words[1:]:
            if word.startswith("#"):
                break
            owners.append(word)
        suspect = _SUSPECT.search(words[0]) is not None or words[0] == "/"
        if suspect or not all(map(owner_kind, owners)):
            problems = _line_problems(path, number, line)
            if problems:
                errors.extend(problems)
                continue
        rows.append((words[0], tuple(owners), number, line))
    return rows, errors


PIECES = ["a", "*.py", "/b/", "@x", "@o/t", "a@b.co", "bad", "#c", "\\", "[", "]", "!", "***"]
PIECES += [" ", "  ", "\t", "\r", "\r\n", "\n", "\x0b", "\x1c", "\xa0", "\u2003", "\ufeff", "/"]


@settings(max_examples=600, derandomize=True)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_fast_parse_reads_lines_as_the_straightforward_one(pieces: list[str]) -> None:
    text = "".join(pieces)
    codeowners, _ = parse_codeowners(text, "CODEOWNERS")
    rows, errors = straightforward(text, "CODEOWNERS")
    assert list(codeowners.rows) == rows
    assert list(codeowners.errors) == errors

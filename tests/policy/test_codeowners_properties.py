"""The fast matcher against a slow, independent reading of the same rules.

`reference` below re-states GitHub's pattern rules (pattern.py's docstring) segment by
segment, with no regular expressions and no index; hypothesis then looks for any pattern, file
or path where it disagrees with a parsed file (which answers a few paths by scanning) or with
the index (which a file builds once asked about many).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy.codeowners import parse_codeowners
from bot.policy.codeowners.index import Index
from bot.policy.codeowners.pattern import compile_glob


def segment_matches(pattern: str, name: str) -> bool:
    """`*` any run, `?` one character, `\\x` the character x."""
    if not pattern:
        return not name
    head = pattern[0]
    if head == "*":
        return any(segment_matches(pattern[1:], name[i:]) for i in range(len(name) + 1))
    if head == "\\" and len(pattern) > 1:
        return bool(name) and name[0] == pattern[1] and segment_matches(pattern[2:], name[1:])
    if head == "?":
        return bool(name) and segment_matches(pattern[1:], name[1:])
    return bool(name) and name[0] == head and segment_matches(pattern[1:], name[1:])


def ends(segments: list[str], parts: list[str], i: int = 0, j: int = 0) -> set[int]:
    """Every k such that segments[i:] match parts[j:k] exactly."""
    if i == len(segments):
        return {j}
    if segments[i] == "**":
        least = 1 if i == len(segments) - 1 else 0  # a trailing `**` is what is inside
        found: set[int] = set()
        for take in range(least, len(parts) - j + 1):
            found |= ends(segments, parts, i + 1, j + take)
        return found
    if j < len(parts) and segment_matches(segments[i], parts[j]):
        return ends(segments, parts, i + 1, j + 1)
    return set()


def reference(pattern: str, path: str) -> bool:
    anchored = pattern.startswith("/")
    body = pattern[1:] if anchored else pattern
    directory_only = body.endswith("/")
    segments = (body[:-1] if directory_only else body).split("/")
    segments = [
        s for i, s in enumerate(segments) if not (s == "**" and segments[i - 1 : i] == ["**"])
    ]
    if not anchored and len(segments) == 1 and segments != ["**"]:
        segments = ["**", *segments]
    parts = path.split("/")
    for k in ends(segments, parts):
        if directory_only:
            if k < len(parts):  # a directory: something is below it
                return True
        elif segments[-1] == "*":
            if k == len(parts):  # `docs/*`: direct children only
                return True
        else:
            return True  # the file itself, or anything under a directory of that name
    return False


SEGMENTS = ["a", "b", "ab", "a.py", "*", "?", "a*", "*.py", "*b", "**", "a\\*", "?b", "x"]
NAMES = ["a", "b", "ab", "a.py", "b.py", "x", "xb", "*", "a*", "ba"]

patterns = st.builds(
    lambda lead, segs, trail: ("/" if lead else "") + "/".join(segs) + ("/" if trail else ""),
    st.booleans(),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
    st.booleans(),
)
paths = st.builds(
    lambda parts, directory: "/".join(parts) + ("/" if directory else ""),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=5),
    st.booleans(),
)


@settings(max_examples=400, derandomize=True)
@given(pattern=patterns, path=paths)
def test_one_pattern_matches_as_the_rules_say(pattern: str, path: str) -> None:
    codeowners, diagnostics = parse_codeowners(f"{pattern} @owner")
    assert diagnostics == []
    assert (codeowners.owners_of(path) is not None) is reference(pattern, path)


def assert_last_matching_rule_decides(rules: list[str], probes: list[str]) -> None:
    text = "\n".join(f"{pattern} @owner{i}" for i, pattern in enumerate(rules))
    codeowners, _ = parse_codeowners(text)  # a few paths: answered by the scan
    index = Index([compile_glob(pattern) for pattern in rules])  # what many paths use
    for path in probes:
        matching = [i for i, pattern in enumerate(rules) if reference(pattern, path)]
        rule = codeowners.rule_for(path)
        if not matching:
            assert rule is None
        else:
            assert rule is not None and rule.line == matching[-1] + 1
        assert index.winner(path) == (matching[-1] if matching else -1)


@settings(max_examples=250, derandomize=True)
@given(rules=st.lists(patterns, min_size=1, max_size=25), probes=st.lists(paths, max_size=10))
def test_the_index_finds_the_last_matching_rule(rules: list[str], probes: list[str]) -> None:
    assert_last_matching_rule_decides(rules, probes)


# Many wildcard rules under one directory: the index keys them by the segments that follow.
crowded = st.builds(
    lambda segs, trail: "/a/" + "/".join(segs) + ("/" if trail else ""),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3),
    st.booleans(),
)


@settings(max_examples=150, derandomize=True)
@given(
    rules=st.lists(st.one_of(crowded, patterns), min_size=8, max_size=40),
    probes=st.lists(paths.map(lambda path: "a/" + path), min_size=1, max_size=10),
)
def test_the_index_finds_the_last_matching_rule_among_many_alike(
    rules: list[str], probes: list[str]
) -> None:
    assert_last_matching_rule_decides(rules, probes)

"""Every vendored CODEOWNERS case, run through our parser and matcher.

The cases are other tools' views of GitHub's rules. Where one follows another tool's rule
rather than GitHub's documented one, it is listed below with the reason, and the test asserts
our (different) answer, so a change either way is noticed. Nothing is skipped.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from bot.policy.codeowners import INVALID_OWNER, INVALID_PATTERN, owner_kind, parse_codeowners
from tests.conftest import VENDOR, vendor_path

HMARR = "hmarr/codeowners"
SBDCHD = "sbdchd/codeowners"
DATADOG = "DataDog/dd-trace-java"

RANGES = (
    "GitHub documents `[ ]` character ranges as unsupported and rejects unescaped brackets "
    "('both `[` and `]` must be escaped with a `\\`'); we report the line and skip it, as "
    "GitHub does, so it matches nothing"
)
ESCAPED_HASH = (
    "GitHub documents escaping a leading `#` with `\\` as unsupported; we report the line "
    "and skip it"
)
# Patterns we reject; any vendored case using one must see the error reported.
REJECTED = {
    "[Ffb]oo": RANGES,
    "[\\]f]o\\[o\\]": RANGES,
    "bar[0-5].log": RANGES,
    "someTok[a-b]n": RANGES,
    "someTok[a-z]n": RANGES,
    "someTok[a-zA-Z]n": RANGES,
    "someTok[a-zA-Z0-9]n": RANGES,
    "s*meTok[a-zA-Z0-9]n": RANGES,
    "/apps/[param]/file.ts": (
        "hmarr reads `[param]` literally (its PR #44); GitHub rejects unescaped brackets and "
        "asks for `\\[param\\]`; we report the line and skip it"
    ),
    "\\#someToken": ESCAPED_HASH,
}
DIRECTORY_ONLY = (
    "a trailing `/` matches directories only (gitignore; GitHub's `apps/` owns files in an "
    "apps directory); Datadog also matches a file of that name"
)
INSIDE_ONLY = (
    "`x/**` matches everything inside `x`, not `x` itself (gitignore; hmarr's and sbdchd's "
    "tables agree); Datadog also matches `x`"
)
# (source, pattern, path) -> why our answer is the opposite of the case's.
DIFFERENT = {
    (HMARR, "foo/**/", "foo/bar"): (
        "conflicts_with sbdchd, whose table was checked against `git check-ignore`: after "
        "`**`, a trailing `/` still asks for a directory, and `foo/bar` is a file"
    ),
    (HMARR, "/apps/[param]/file.ts", "apps/[param]/file.ts"): REJECTED["/apps/[param]/file.ts"],
    (SBDCHD, "[Ffb]oo", "foo"): RANGES,
    (SBDCHD, "[Ffb]oo", "Foo"): RANGES,
    (SBDCHD, "[Ffb]oo", "boo"): RANGES,
    (SBDCHD, "[\\]f]o\\[o\\]", "fo[o]"): RANGES,
    (SBDCHD, "[\\]f]o\\[o\\]", "]o[o]"): RANGES,
    (SBDCHD, "bar[0-5].log", "bar0.log"): RANGES,
    (DATADOG, "someTok[a-z]n", "someToken"): RANGES,
    (DATADOG, "someTok[a-zA-Z]n", "someToken"): RANGES,
    (DATADOG, "someTok[a-zA-Z]n", "someTokEn"): RANGES,
    (DATADOG, "someTok[a-zA-Z0-9]n", "someToken"): RANGES,
    (DATADOG, "someTok[a-zA-Z0-9]n", "someTokEn"): RANGES,
    (DATADOG, "someTok[a-zA-Z0-9]n", "someTok9n"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "smeToken"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "smeTokEn"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "smeTok9n"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "sabcdmeToken"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "sabcdmeTokEn"): RANGES,
    (DATADOG, "s*meTok[a-zA-Z0-9]n", "sabcdmeTok9n"): RANGES,
    (DATADOG, "\\#someToken", "#someToken"): ESCAPED_HASH,
    (DATADOG, "someToken/", "someToken"): DIRECTORY_ONLY,
    (DATADOG, "someToken/", "parent/someToken"): DIRECTORY_ONLY,
    (DATADOG, "/someToken/", "someToken"): DIRECTORY_ONLY,
    (DATADOG, "**/some/token/", "some/token"): DIRECTORY_ONLY,
    (DATADOG, "someToken/**", "someToken"): INSIDE_ONLY,
    (DATADOG, "/someToken/**", "someToken"): INSIDE_ONLY,
}
BUILD_LOGS_V2 = (
    "the file's own note: a Datadog-specific expectation; `/build/logs/` is the directory "
    "`build/logs`, and `build/logs-v2` is another directory (hmarr: `foo/bar` does not match "
    "`foo/bart`), so the default owners apply"
)


@cache
def load(name: str) -> Any:
    return json.loads((VENDOR / name).read_text(encoding="utf-8"))


def repo_of(source: str) -> str:
    return "/".join(source.split("/")[:2])


def pattern_cases() -> list[Any]:
    if not (VENDOR / "codeowners-cases.json").exists():
        return [pytest.param(None, id="vendor-missing")]
    return [
        pytest.param(case, id=f"{i}:{case['pattern']}:{case['path']}")
        for i, case in enumerate(load("codeowners-cases.json"))
    ]


@pytest.mark.parametrize("case", pattern_cases())
def test_pattern_case(case: dict[str, Any] | None) -> None:
    vendor_path("codeowners-cases.json")
    assert case is not None
    codeowners, diagnostics = parse_codeowners(f"{case['pattern']} @owner")
    matched = codeowners.owners_of(case["path"]) is not None
    if case["pattern"] in REJECTED:
        assert [e.kind for e in codeowners.errors] == [INVALID_PATTERN], REJECTED[case["pattern"]]
        assert diagnostics and diagnostics[0].line == 1
    else:
        assert diagnostics == []
    reason = DIFFERENT.get((repo_of(case["source"]), case["pattern"], case["path"]))
    expected = case["matches"] if reason is None else not case["matches"]
    assert matched is expected, reason or case["name"]


def test_the_expected_different_table_names_only_real_cases() -> None:
    vendor_path("codeowners-cases.json")
    cases = load("codeowners-cases.json")
    keys = {(repo_of(c["source"]), c["pattern"], c["path"]) for c in cases}
    assert set(DIFFERENT) <= keys
    assert set(REJECTED) <= {c["pattern"] for c in cases}
    conflicting = {
        (repo_of(c["source"]), c["pattern"], c["path"]) for c in cases if "conflicts_with" in c
    }
    # Of each conflicting pair we side with one source, and say why for the other.
    assert conflicting == {(HMARR, "foo/**/", "foo/bar"), (SBDCHD, "foo/**/", "foo/bar")}
    assert (HMARR, "foo/**/", "foo/bar") in DIFFERENT


def file_cases() -> list[Any]:
    if not (VENDOR / "codeowners-files.json").exists():
        return [pytest.param(None, None, id="vendor-missing")]
    params = []
    for entry in load("codeowners-files.json"):
        for case in entry["cases"]:
            params.append(pytest.param(entry, case, id=f"{entry['name'][:30]}:{case['path']}"))
    return params


KIND = {"USERNAME": "user", "TEAM": "team", "EMAIL": "email"}


@pytest.mark.parametrize(("entry", "case"), file_cases())
def test_file_case(entry: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    vendor_path("codeowners-files.json")
    assert entry is not None and case is not None
    codeowners, _ = parse_codeowners(entry["codeowners"])
    rule = codeowners.rule_for(case["path"])
    if "matched" in case:
        assert (rule is not None) is case["matched"]
        return
    owners = None if rule is None else list(rule.owners)
    if case.get("note"):
        assert case["path"] == "build/logs-v2/current.log", "a new note: read it and decide"
        assert owners == ["@global-owner1", "@global-owner2"] != case["owners"], BUILD_LOGS_V2
        return
    assert owners == case["owners"]
    if "line" in case:
        assert rule is not None and rule.line == case["line"]
    if "owner_types" in case:
        assert [owner_kind(o) for o in case["owners"]] == [KIND[t] for t in case["owner_types"]]


def test_every_vendored_file_parses_and_gitlab_sections_are_reported() -> None:
    vendor_path("codeowners-files.json")
    for entry in load("codeowners-files.json"):
        codeowners, diagnostics = parse_codeowners(entry["codeowners"])
        assert codeowners.rules
        if "GitLab" not in entry["name"]:
            assert diagnostics == [], entry["name"]
            continue
        # GitLab-only `[Section]` / `^[Section]` headers: GitHub rejects and skips those lines;
        # the rest of the file still applies (the cases above pass through it).
        assert [(e.line, e.kind) for e in codeowners.errors] == [
            (line, INVALID_PATTERN) for line in (24, 30, 35, 37, 44, 46)
        ]
        assert all("GitLab section" in e.detail for e in codeowners.errors)


def parse_rule_cases() -> list[Any]:
    if not (VENDOR / "codeowners-parse-cases.json").exists():
        return [pytest.param(None, id="vendor-missing")]
    return [
        pytest.param(c, id=c["name"]) for c in load("codeowners-parse-cases.json")["rule_cases"]
    ]


def ours(owner: dict[str, str]) -> str:
    """hmarr stores `@user` and `@org/team` without the `@`."""
    return owner["value"] if owner["type"] == "email" else "@" + owner["value"]


HMARR_KIND = {"username": "user", "team": "team", "email": "email"}


@pytest.mark.parametrize("case", parse_rule_cases())
def test_parse_rule_case(case: dict[str, Any] | None) -> None:
    vendor_path("codeowners-parse-cases.json")
    assert case is not None
    codeowners, diagnostics = parse_codeowners(case["rule"])
    if case["name"] == "empty rule":
        # hmarr's parseRule("") errors, but its own ParseFile, like GitHub, skips blank lines:
        # in a file, an empty line is not a rule and not an error.
        assert codeowners.rules == () and diagnostics == []
        return
    if "error" in case:
        assert codeowners.rules == ()
        (error,) = codeowners.errors
        if case["error"].startswith("invalid owner format"):
            assert error.kind == INVALID_OWNER
            # hmarr: "... at position 10"; our column is the same 1-based position.
            assert error.column == int(case["error"].rsplit(" ", 1)[1])
        return
    assert diagnostics == []
    (rule,) = codeowners.rules
    assert rule.pattern == case["pattern"]
    assert rule.owners == tuple(ours(o) for o in case["owners"])
    assert [owner_kind(o) for o in rule.owners] == [HMARR_KIND[o["type"]] for o in case["owners"]]
    # We do not keep comments; what matters is that none of it leaks into the owners.
    if case["comment"]:
        assert not any(word in rule.owners for word in case["comment"].split())


def parse_file_cases() -> list[Any]:
    if not (VENDOR / "codeowners-parse-cases.json").exists():
        return [pytest.param(None, id="vendor-missing")]
    return [
        pytest.param(c, id=c["name"]) for c in load("codeowners-parse-cases.json")["file_cases"]
    ]


@pytest.mark.parametrize("case", parse_file_cases())
def test_parse_file_case(case: dict[str, Any] | None) -> None:
    vendor_path("codeowners-parse-cases.json")
    assert case is not None
    codeowners, diagnostics = parse_codeowners(case["contents"])
    if "error" in case:
        # hmarr: "line 1: invalid owner format 'rule' at position 11"
        (error,) = codeowners.errors
        assert (error.line, error.column, error.kind) == (1, 11, INVALID_OWNER)
        assert "rule" in error.detail
        return
    assert diagnostics == []
    assert [(r.pattern, r.owners, r.line) for r in codeowners.rules] == [
        (r["pattern"], tuple(ours(o) for o in r["owners"]), r["line"]) for r in case["rules"]
    ]

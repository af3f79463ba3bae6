"""CODEOWNERS: locations, lines, owners, precedence, and errors shaped like GitHub's."""

from __future__ import annotations

import json

import pytest

from bot.policy.codeowners import (
    CODEOWNERS_LOCATIONS,
    INVALID_OWNER,
    INVALID_PATTERN,
    MAX_BYTES,
    UNKNOWN_OWNER,
    Rule,
    find_codeowners,
    load_codeowners,
    locate,
    owner_kind,
    parse_codeowners,
    unknown_owner_errors,
)
from tests.conftest import vendor_path


def owners(text: str, path: str) -> tuple[str, ...] | None:
    codeowners, _ = parse_codeowners(text)
    return codeowners.owners_of(path)


# --- where the file is -------------------------------------------------------------------


def test_locations_in_githubs_search_order() -> None:
    assert CODEOWNERS_LOCATIONS == (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
    assert locate({"docs/CODEOWNERS", "CODEOWNERS"}.__contains__) == "CODEOWNERS"
    assert locate({"docs/CODEOWNERS"}.__contains__) == "docs/CODEOWNERS"
    assert locate({"CODEOWNERS", ".github/CODEOWNERS"}.__contains__) == ".github/CODEOWNERS"
    assert locate({"src/CODEOWNERS", ".gitlab/CODEOWNERS"}.__contains__) is None


def test_the_first_file_found_is_used_even_if_empty() -> None:
    files = {".github/CODEOWNERS": b"# nobody yet\n", "CODEOWNERS": b"* @acme/all\n"}
    codeowners, diagnostics = find_codeowners(files)
    assert codeowners is not None and codeowners.path == ".github/CODEOWNERS"
    assert codeowners.owners_of("README.md") is None and diagnostics == []
    assert find_codeowners({"README.md": b""}) == (None, [])


# --- precedence ----------------------------------------------------------------------------


def test_the_last_matching_rule_wins() -> None:
    text = "* @acme/all\n*.yaml @acme/config\nflags/ @acme/managers @acme/qa\n/README.md @docs\n"
    assert owners(text, "flags/new_checkout_flow.yaml") == ("@acme/managers", "@acme/qa")
    assert owners(text, "deploy/app.yaml") == ("@acme/config",)
    assert owners(text, "README.md") == ("@docs",)
    assert owners(text, "src/README.md") == ("@acme/all",)


def test_a_later_rule_without_owners_leaves_files_unowned() -> None:
    text = "/apps/ @octocat\n/apps/github\n"
    assert owners(text, "apps/web/x.js") == ("@octocat",)
    assert owners(text, "apps/github/x.js") == ()
    assert owners(text, "lib/x.js") is None


def test_owners_on_separate_lines_do_not_add_up() -> None:
    # GitHub: "the pattern matches only the last mentioned code owner".
    assert owners("apps/ @octocat\napps/ @doctocat\n", "apps/x") == ("@doctocat",)


def test_rule_for_tells_the_deciding_line() -> None:
    codeowners, _ = parse_codeowners("# comment\n\n*   @a\n  docs/*  docs@example.com  # docs\n")
    assert codeowners.rule_for("docs/index.md") == Rule("docs/*", ("docs@example.com",), 4)
    assert codeowners.rule_for("docs/a/b.md") == Rule("*", ("@a",), 3)
    assert codeowners.rule_for("docs/a/b.md").source == "*   @a"


def test_paths_are_case_sensitive() -> None:
    assert owners("/Docs/ @a\n", "docs/x.md") is None
    assert owners("*.MD @a\n", "x.md") is None


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("docs/*", "docs/getting-started.md", True),  # GitHub's own example
        ("docs/*", "docs/build-app/troubleshooting.md", False),
        ("apps/", "deep/apps/x/y.rb", True),
        ("apps/", "apps", False),  # a file named apps is not the directory
        ("/build/logs/", "build/logs/a/b.log", True),
        ("/build/logs/", "x/build/logs/a.log", False),
        ("**/logs", "deeply/nested/logs/x", True),
        ("**/logs", "logs", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b/c", True),
        ("a/**", "a", False),
        ("a/**", "a/x", True),
        ("*.js", "x/y.js/z.txt", True),  # a directory named y.js owns what is under it
        ("f?o", "x/foo", True),
        ("f?o", "x/f/o", False),
        ("foo\\ bar", "foo bar", True),
        ("\\*.js", "*.js", True),
        ("\\*.js", "a.js", False),
        ("file#1.txt", "file#1.txt", True),  # `#` inside a pattern is not a comment
        ("**abims**", "x/abims", True),  # `**` inside a segment is a plain `*`
        ("/*", "README.md", True),
        ("/*", "src/a.py", False),
        ("*", "src/a.py", True),
    ],
)
def test_githubs_pattern_rules(pattern: str, path: str, matches: bool) -> None:
    codeowners, diagnostics = parse_codeowners(f"{pattern} @owner")
    assert diagnostics == []
    assert (codeowners.owners_of(path) is not None) is matches


# --- lines ---------------------------------------------------------------------------------


def test_comments_blank_lines_crlf_tabs_and_bom() -> None:
    text = (
        "\ufeff# header\r\n\r\n*.js\t@js-owner #inline comment\r\n   \t\r\n"
        "*.go docs@example.com\r\n"
    )
    codeowners, diagnostics = parse_codeowners(text)
    assert diagnostics == []
    assert [(r.pattern, r.owners, r.line) for r in codeowners.rules] == [
        ("*.js", ("@js-owner",), 3),
        ("*.go", ("docs@example.com",), 5),
    ]


@pytest.mark.parametrize(
    ("owner", "kind"),
    [
        ("@octocat", "user"),
        ("@mona-lisa_octo", "user"),  # enterprise-managed users carry a `_shortcode`
        ("@octo-org/octocats", "team"),
        ("@acme/eng_managers", "team"),
        ("docs@example.com", "email"),
        ("first.last+tag@mail.example.co.uk", "email"),
        ("octocat", None),
        ("docs@", None),
        ("@", None),
        ("@-leading-hyphen", None),
        ("@org/team/sub", None),
        ("@coh.org", None),
        ("@a@b", None),
        ("@org/", None),
    ],
)
def test_owner_forms(owner: str, kind: str | None) -> None:
    assert owner_kind(owner) == kind


def test_a_line_with_an_invalid_owner_is_reported_and_skipped() -> None:
    text = "* @acme/all\n/flags/ @acme/managers qa-team\n"
    codeowners, diagnostics = parse_codeowners(text, "CODEOWNERS")
    # GitHub skips the whole line, so the earlier rule still decides.
    assert codeowners.owners_of("flags/a.yaml") == ("@acme/all",)
    assert [str(d) for d in diagnostics] == [
        "CODEOWNERS:2:24: invalid owner: owners start with `@`: did you mean `@qa-team`? "
        "GitHub skips this whole line"
    ]
    assert diagnostics[0].code == "codeowners-invalid-owner" and diagnostics[0].is_error


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        ("!docs/ @a", 1, "negation with `!` is not supported"),
        ("docs/*.[ch] @a", 8, "character ranges with `[ ]` are not supported"),
        ("\\#notes @a", 1, "escaping a leading `#`"),
        ("src/***/x @a", 5, "did you mean `src/**/x`?"),
        ("/ @a", 1, "never matches anything; use `*`"),
        ("foo\\", 4, "cannot end with a lone `\\`"),
        ("[Backend] @acme/backend", 1, "GitLab section headers"),
        ("^[Optional]", 2, "GitLab section headers"),
        ("*.txt docs@", 7, "not a valid e-mail address"),
        ("* @a@b", 3, "runs owners together"),
        ("* @org/team/sub", 3, "neither a user (@name) nor a team"),
        ("* ~user", 3, "is not an owner"),
    ],
)
def test_rejected_lines_name_line_column_and_what_to_do(
    line: str, column: int, fragment: str
) -> None:
    codeowners, diagnostics = parse_codeowners(f"* @default\n{line}\n")
    assert codeowners.rules == (Rule("*", ("@default",), 1),)
    (diagnostic,) = diagnostics
    assert (diagnostic.line, diagnostic.column) == (2, column)
    assert fragment in diagnostic.message
    assert diagnostic.message.endswith("GitHub skips this whole line")


def test_every_problem_on_a_line_is_reported() -> None:
    codeowners, _ = parse_codeowners("!a/ bad @good worse@\n")
    assert [(e.kind, e.column) for e in codeowners.errors] == [
        (INVALID_PATTERN, 1),
        (INVALID_OWNER, 5),
        (INVALID_OWNER, 15),
    ]


def test_escaped_brackets_are_the_names_own() -> None:
    codeowners, diagnostics = parse_codeowners("/pages/\\[id\\].tsx @web\n")
    assert diagnostics == []
    assert codeowners.owners_of("pages/[id].tsx") == ("@web",)
    assert codeowners.owners_of("pages/i.tsx") is None


def test_errors_match_githubs_published_example() -> None:
    spec = json.loads(vendor_path("github-rest-subset.json").read_text(encoding="utf-8"))
    expected = spec["components"]["examples"]["codeowners-errors"]["value"]["errors"]
    text = "# Lines 3 and 7 are GitHub's example.\n\n***/*.rb @monalisa\n\n\n\n*.txt docs@\n"
    codeowners, _ = parse_codeowners(text, ".github/CODEOWNERS")
    assert [error.to_github() for error in codeowners.errors] == expected


def test_a_pattern_that_looks_like_an_owner_is_a_warning() -> None:
    codeowners, diagnostics = parse_codeowners("@acme/platform\n")
    (warning,) = diagnostics
    assert warning.severity == "warning" and (warning.line, warning.column) == (1, 1)
    assert "put a pattern first, for example `* @acme/platform`" in warning.message
    assert codeowners.errors == ()  # GitHub accepts the line: a pattern without owners


def test_unknown_owners_keep_the_rest_of_the_line() -> None:
    codeowners, _ = parse_codeowners("* @acme/all  @gone  dev@example.com\n")
    known = {"@acme/all"}
    errors = unknown_owner_errors(codeowners, known.__contains__)
    assert [(e.kind, e.line, e.column) for e in errors] == [
        (UNKNOWN_OWNER, 1, 14),
        (UNKNOWN_OWNER, 1, 21),
    ]
    assert errors[0].message == (
        "Unknown owner on line 1: make sure @gone exists and has write access to the "
        "repository\n\n  * @acme/all  @gone  dev@example.com\n               ^"
    )
    assert errors[0].to_diagnostic().severity == "warning"
    team = unknown_owner_errors(codeowners, lambda owner: owner != "@acme/all")[0]
    assert "make sure the team @acme/all exists, is publicly visible" in team.message


# --- limits --------------------------------------------------------------------------------


def test_a_file_of_3_mb_or_more_is_not_loaded() -> None:
    line = "/services/some-service/ @acme/some-team\n"
    text = line * (MAX_BYTES // len(line) + 1)
    codeowners, diagnostics = parse_codeowners(text)
    assert codeowners.rules == () and codeowners.owners_of("services/some-service/x") is None
    (diagnostic,) = diagnostics
    assert (
        diagnostic.line == 0 and "GitHub does not load a file of 3 MB or more" in diagnostic.message
    )
    assert load_codeowners(text.encode(), "CODEOWNERS")[1][0].code == "codeowners-too-large"
    below, _ = parse_codeowners(line * ((MAX_BYTES - 1) // len(line)))
    assert below.owners_of("services/some-service/x") == ("@acme/some-team",)


def test_a_file_that_is_not_utf8_owns_nothing_and_says_where() -> None:
    codeowners, diagnostics = load_codeowners(b"* @a\n/caf\xe9/ @b\n", "CODEOWNERS")
    assert codeowners.rules == ()
    (diagnostic,) = diagnostics
    assert (diagnostic.line, diagnostic.column) == (2, 5)
    assert "not valid UTF-8 (byte 0xe9)" in diagnostic.message

"""`GET /repos/{o}/{r}/codeowners/errors` answers what flagbot's CODEOWNERS parser reports, plus
the owners GitHub would ignore because they do not exist or cannot write."""

from __future__ import annotations

import pytest

from bot.emulator import Emulator
from bot.policy.codeowners import load_codeowners, unknown_owner_errors
from tests.conformance.openapi import openapi
from tests.emulator_harness import REPO, seed_for

ERRORS = "/repos/{owner}/{repo}/codeowners/errors"

BAD = """\
# every kind of problem GitHub reports
flags/            @acme/eng-managers @acme/qa
flags/beta/       @acme/ghosts @ghost @outsider @acme/readers @acme
docs/             mgr@example.com nobody@example.com @acme/secret-club @other/qa
*.txt docs@
[a-z].md @mgr
!secrets/ @mgr
src/***/x @dev
/ @dev
tools/ @dev@mgr @flagbot
"""
# who GitHub would honour on acme/flags with the seed below
KNOWN = {"@acme/eng-managers", "@acme/qa", "@dev", "@mgr", "@flagbot", "mgr@example.com"}


@pytest.fixture
def emulator() -> Emulator:
    seed = seed_for({"README.md": "hi\n", ".github/CODEOWNERS": BAD})
    seed["users"][1]["email"] = "mgr@example.com"
    seed["users"].append(
        {"login": "reader", "token": "reader-token", "email": "nobody@example.com"}
    )
    seed["orgs"][0]["teams"] += [
        {"slug": "readers", "members": ["reader"]},
        {"slug": "secret-club", "members": ["mgr"], "privacy": "secret"},
    ]
    seed["orgs"].append({"login": "other", "teams": [{"slug": "qa", "members": ["qa"]}]})
    seed["repos"][0]["collaborators"]["reader"] = "read"
    seed["repos"][0]["teams"] = {
        "eng-managers": "write",
        "qa": "maintain",
        "readers": "read",
        "secret-club": "admin",
    }
    return Emulator.from_seed(seed)


def test_errors_are_what_flagbot_parses_plus_unknown_owners(emulator: Emulator) -> None:
    got = emulator.request("GET", f"/repos/{REPO}/codeowners/errors", login="dev")
    assert got.status == 200

    codeowners, _ = load_codeowners(BAD.encode(), ".github/CODEOWNERS")
    expected = [*codeowners.errors, *unknown_owner_errors(codeowners, KNOWN.__contains__)]
    expected.sort(key=lambda e: (e.line, e.column))
    assert got.body == {"errors": [e.to_github() for e in expected]}

    kinds = {(e["line"], e["kind"]) for e in got.body["errors"]}
    assert kinds >= {
        (3, "Unknown owner"),  # no such team, no such user, readers, an org as a user
        (4, "Unknown owner"),  # an e-mail without write, a secret team, another org's team
        (5, "Invalid owner"),
        (6, "Invalid pattern"),
        (7, "Invalid pattern"),
        (8, "Invalid pattern"),
        (9, "Invalid pattern"),
        (10, "Invalid owner"),
    }
    unknown = [e["source"].split()[0] for e in got.body["errors"] if e["kind"] == "Unknown owner"]
    assert len(unknown) == 8
    line = BAD.splitlines()[2]
    column = line.index("@ghost") + 1
    ghost = next(e for e in got.body["errors"] if e["line"] == 3 and e["column"] == column)
    assert ghost["message"] == (
        "Unknown owner on line 3: make sure @ghost exists and has write access to the "
        f"repository\n\n  {line}\n  {' ' * (column - 1)}^"
    )

    api = openapi()
    if api is not None:  # the plugin checks it too; say so here where it is the point
        schema = api.response_schema("GET", ERRORS, 200)
        assert schema is not None
        assert api.errors(schema, got.body, "", "") == []


def test_where_github_looks_and_when_it_answers_404(emulator: Emulator) -> None:
    dev = emulator.person("dev")

    def errors(ref: str | None = None) -> tuple[int, object]:
        got = emulator.request(
            "GET",
            f"/repos/{REPO}/codeowners/errors",
            login="dev",
            query={"ref": ref} if ref else {},
        )
        return got.status, got.body

    dev.create_branch(REPO, "old")
    emulator.push_files(REPO, "main", {"CODEOWNERS": "* @ghost\n"}, author="mgr")
    status, body = errors()
    assert status == 200 and body["errors"][0]["path"] == ".github/CODEOWNERS"  # .github first

    emulator.push_files(REPO, "main", {".github/CODEOWNERS": None}, author="mgr")
    status, body = errors("main")
    assert status == 200
    assert [(e["path"], e["kind"], e["column"]) for e in body["errors"]] == [
        ("CODEOWNERS", "Unknown owner", 3)
    ]
    emulator.push_files(REPO, "main", {"CODEOWNERS": None, "docs/CODEOWNERS": "* @dev\n"})
    assert errors() == (200, {"errors": []})

    emulator.push_files(REPO, "main", {"docs/CODEOWNERS": None})
    assert errors()[0] == 404  # no CODEOWNERS anywhere
    assert errors("old")[0] == 200  # the branch still has the bad file
    assert errors("no-such-branch")[0] == 404


def test_teams_count_for_codeowners_only_with_write_access() -> None:
    seed = seed_for({".github/CODEOWNERS": "* @acme/eng-managers @acme/qa @acme/leads\n"})
    assert "teams" not in seed["repos"][0]
    lenient = Emulator.from_seed(seed)  # no team access declared: every team of the org counts
    assert lenient.request("GET", f"/repos/{REPO}/codeowners/errors", login="dev").body == {
        "errors": []
    }

    seed["repos"][0]["teams"] = {"eng-managers": "write", "qa": "triage"}
    strict = Emulator.from_seed(seed)
    body = strict.request("GET", f"/repos/{REPO}/codeowners/errors", login="dev").body
    assert [e["column"] for e in body["errors"]] == [22, 31]  # @acme/qa, @acme/leads
    assert body["errors"][0]["suggestion"].startswith("make sure the team @acme/qa exists")


def test_team_access_grants_its_members_the_role() -> None:
    seed = seed_for()
    seed["repos"][0]["collaborators"] = {"flagbot": "admin"}
    seed["repos"][0]["teams"] = {"leads": "maintain", "qa": "write"}
    emulator = Emulator.from_seed(seed)
    repo = emulator.repo(REPO)
    roles = {login: emulator.state.role(repo, login) for login in ("mgr", "qa", "dev")}
    # mgr maintains `leads` and is in its child team `eng-managers`; dev is only an org member
    assert roles == {"mgr": "maintain", "qa": "write", "dev": "read"}
    got = emulator.request("GET", f"/repos/{REPO}/collaborators/qa/permission", login="flagbot")
    assert got.body["permission"] == "write"

"""Pointing a recorded delivery at the emulated GitHub, only where it names what is not there."""

from __future__ import annotations

from bot.replay.retarget import Emulated, retarget, substitute

ACME_FLAGS = {
    "id": 5,
    "name": "flags",
    "full_name": "acme/flags",
    "owner": {"login": "acme", "type": "Organization"},
    "url": "http://127.0.0.1:1/repos/acme/flags",
}
WORLD = Emulated(
    repositories={"acme/flags": ACME_FLAGS},
    installations={"acme/flags": {"id": 2002, "node_id": "MDIzOkluc3RhbGxhdGlvbjIwMDI="}},
    organizations={"acme": {"login": "acme", "id": 3}},
    users={"dev": {"login": "dev", "id": 10}, "mgr": {"login": "mgr", "id": 11}},
)
OLD = "Codertocat/Hello-World"


def recorded(**extra):
    repo = {"id": 186853002, "full_name": OLD, "owner": {"login": "Codertocat"}}
    return {
        "action": "opened",
        "number": 2,
        "pull_request": {
            "number": 2,
            "url": f"https://api.github.com/repos/{OLD}/pulls/2",
            "head": {"ref": "changes", "repo": dict(repo)},
            "base": {"ref": "master", "repo": {"full_name": "someone/fork"}},
        },
        "repository": repo,
        "installation": {"id": 1},
        "sender": {"login": "Codertocat"},
        **extra,
    }


def test_unknown_repository_installation_and_sender_are_replaced_and_reported():
    out, notes = retarget(recorded(organization={"login": "Codertocat"}), WORLD)
    assert out["repository"] == ACME_FLAGS
    assert out["pull_request"]["url"] == "https://api.github.com/repos/acme/flags/pulls/2"
    assert out["pull_request"]["head"]["repo"] == ACME_FLAGS  # the same repository
    assert out["pull_request"]["base"]["repo"] == {"full_name": "someone/fork"}  # a fork: kept
    assert out["organization"] == {"login": "acme", "id": 3}
    assert out["installation"]["id"] == 2002
    assert out["sender"] == {"login": "dev", "id": 10}
    assert (out["number"], out["pull_request"]["number"], out["action"]) == (2, 2, "opened")
    assert notes == (
        f"repository {OLD} is not in the emulated GitHub: replayed as acme/flags",
        "installation 1 is not the App's installation on acme/flags: replayed as 2002",
        "sender Codertocat is not a user of the emulated GitHub: replayed as dev",
    )


def test_what_the_emulated_github_has_is_kept():
    payload = recorded()
    payload["repository"] = dict(ACME_FLAGS)
    payload["installation"] = {"id": 2002}
    payload["sender"] = {"login": "MGR", "id": 99}
    out, notes = retarget(payload, WORLD)
    assert notes == ()
    assert out == payload
    assert out is not payload  # a copy: the recorded delivery is never changed


def test_an_organization_is_dropped_when_a_user_owns_the_new_repository():
    mine = {**ACME_FLAGS, "full_name": "dev/flags", "owner": {"login": "dev", "type": "User"}}
    world = Emulated(
        {"dev/flags": mine}, {}, {"acme": {"login": "acme"}}, {"dev": {"login": "dev"}}
    )
    out, notes = retarget(recorded(organization={"login": "Codertocat"}), world)
    assert "organization" not in out
    assert out["installation"] == {"id": 1}  # the App is not installed there: left as sent
    assert len(notes) == 2


def test_payloads_without_repository_or_sender_pass_through():
    payload = {"action": "deleted", "installation": {"id": 2}}
    assert retarget(payload, WORLD) == (payload, ())


def test_substitute_rewrites_values_not_keys():
    value = {"a/b": ["x a/b y", {"k": "a/b"}], "n": 1}
    assert substitute(value, "a/b", "c/d") == {"a/b": ["x c/d y", {"k": "c/d"}], "n": 1}

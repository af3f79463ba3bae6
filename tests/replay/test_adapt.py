"""The adaptation of vendored payloads to the emulated repository (`tests.replay.adapt`)."""

from __future__ import annotations

import json

from bot.replay.retarget import Emulated
from tests.replay.adapt import Scene, adapt, renumber
from tests.replay.vendored import delivery

HEAD, BASE = "a" * 40, "b" * 40
REPOSITORY = {"id": 5, "full_name": "acme/flags", "owner": {"login": "acme"}}
WORLD = Emulated(
    {"acme/flags": REPOSITORY},
    {"acme/flags": {"id": 2002}},
    {"acme": {"login": "acme", "id": 3}},
    {"dev": {"login": "dev", "id": 10}},
)
PULL = {
    "number": 7,
    "id": 700,
    "user": {"login": "dev", "id": 10},
    "head": {"sha": HEAD, "ref": "new-checkout", "label": "acme:new-checkout"},
    "base": {"sha": BASE, "ref": "main", "label": "acme:main"},
}
MGR = {"login": "mgr", "id": 11}
REVIEW = {"id": 90, "state": "APPROVED", "commit_id": HEAD, "user": MGR}


def strings(value):
    return json.dumps(value)


def test_a_pull_request_payload_names_the_emulated_pull_request():
    original = delivery("octokit-webhooks", "pull_request", "synchronize.payload.json").payload
    old_head = original["pull_request"]["head"]["sha"]
    out = adapt(original, WORLD, Scene(PULL, {"login": "dev", "id": 10}))
    pr = out["pull_request"]
    assert (out["number"], pr["number"], pr["id"]) == (7, 7, 700)
    assert pr["head"]["sha"] == out["after"] == HEAD  # every copy of the old sha follows
    assert (pr["head"]["ref"], pr["head"]["label"], pr["base"]["ref"]) == (
        "new-checkout",
        "acme:new-checkout",
        "main",
    )
    assert (pr["user"]["login"], out["sender"]["login"]) == ("dev", "dev")
    assert out["repository"] == REPOSITORY
    assert out["installation"] == {"id": 2002}
    assert pr["url"].endswith("/repos/acme/flags/pulls/7")
    assert pr["statuses_url"].endswith(f"/statuses/{HEAD}")
    text = strings(out)
    assert old_head not in text and "Codertocat/Hello-World" not in text
    # everything else is as GitHub sent it
    assert pr["title"] == original["pull_request"]["title"]
    assert set(pr) == set(original["pull_request"])


def test_a_review_payload_names_the_emulated_review_and_reviewer():
    original = delivery("octokit-webhooks", "pull_request_review", "submitted.payload.json").payload
    assert original["review"]["state"] == "commented"
    out = adapt(original, WORLD, Scene(PULL, MGR, REVIEW))
    review = out["review"]
    assert (review["id"], review["state"], review["commit_id"]) == (90, "approved", HEAD)
    assert review["user"] == out["sender"] == MGR
    assert review["pull_request_url"].endswith("/repos/acme/flags/pulls/7")
    assert "/acme/flags/pull/7#pullrequestreview-" in review["html_url"]
    assert review["body"] == original["review"]["body"]


def test_the_angular_edited_fixture_keeps_its_changes():
    original = delivery("webhooks-extra", "angular-github-robot", "pull_request.edited.json")
    assert original.event == "pull_request"
    out = adapt(original.payload, WORLD, Scene(PULL, {"login": "dev", "id": 10}))
    assert out["changes"] == original.payload["changes"]
    assert out["repository"]["full_name"] == "acme/flags"
    assert "ocombe/test" not in strings(out)


def test_renumber_touches_only_that_number_in_urls():
    value = {
        "a": "https://x/repos/o/r/pulls/2",
        "b": "https://x/o/r/pull/2#discussion",
        "c": "https://x/repos/o/r/issues/2/comments",
        "d": "https://x/repos/o/r/pulls/23",
        "e": "2",
        "f": "https://x/o/r/pull/2.diff",
    }
    assert renumber(value, 2, 7) == {
        "a": "https://x/repos/o/r/pulls/7",
        "b": "https://x/o/r/pull/7#discussion",
        "c": "https://x/repos/o/r/issues/7/comments",
        "d": "https://x/repos/o/r/pulls/23",
        "e": "2",
        "f": "https://x/o/r/pull/7.diff",
    }

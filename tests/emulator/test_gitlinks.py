"""Submodules (gitlinks) and symlinks as GitHub serves them, and pull requests whose head holds
one: they open like any other, and a refused create leaves nothing behind."""

from __future__ import annotations

import pytest

from bot.emulator import ApiCallFailed, Emulator
from tests.emulator_harness import REPO

GITLINK = "5" * 40


def push_entries(emulator: Emulator, branch: str, entries: list[dict]) -> str:
    dev = emulator.person("dev")
    dev.create_branch(REPO, branch)
    tip = dev.get(f"/repos/{REPO}/git/ref/heads/{branch}")["object"]["sha"]
    tree = dev.get(f"/repos/{REPO}/git/commits/{tip}")["tree"]["sha"]
    made = dev.call("POST", f"/repos/{REPO}/git/trees", {"base_tree": tree, "tree": entries})
    body = {"message": "odd entries", "tree": made["sha"], "parents": [tip]}
    commit = dev.call("POST", f"/repos/{REPO}/git/commits", body)
    dev.call("PATCH", f"/repos/{REPO}/git/refs/heads/{branch}", {"sha": commit["sha"]})
    return commit["sha"]


def test_a_pull_request_with_a_submodule_opens_and_lists_it(emulator: Emulator) -> None:
    entry = {"path": "flags/vendored", "mode": "160000", "type": "commit", "sha": GITLINK}
    head = push_entries(emulator, "sub", [entry])
    dev = emulator.person("dev")
    pr = dev.open_pr(REPO, head="sub", title="Vendor flags")
    assert pr["state"] == "open" and pr["changed_files"] == 1
    [f] = dev.get(f"/repos/{REPO}/pulls/{pr['number']}/files")
    assert (f["filename"], f["status"], f["sha"]) == ("flags/vendored", "added", GITLINK)
    assert f["patch"] == f"@@ -0,0 +1 @@\n+Subproject commit {GITLINK}"
    assert [p["number"] for p in dev.get(f"/repos/{REPO}/pulls?state=open")] == [pr["number"]]
    # the tree shows the gitlink as GitHub does: type commit, no size, no blob url
    tree = dev.get(f"/repos/{REPO}/git/trees/{head}:flags?recursive=1")["tree"]
    assert {"path": "vendored", "mode": "160000", "type": "commit", "sha": GITLINK} in tree


def test_tree_of_a_folder_at_a_commit_lists_modes(emulator: Emulator) -> None:
    link = {"path": "flags/link.yaml", "mode": "120000", "type": "blob", "content": "checkout.yaml"}
    head = push_entries(emulator, "link", [link])
    tree = emulator.person("dev").get(f"/repos/{REPO}/git/trees/{head}:flags?recursive=1")
    assert {e["path"]: e["mode"] for e in tree["tree"]} == {
        "checkout.yaml": "100644",
        "link.yaml": "120000",
    }
    with pytest.raises(ApiCallFailed) as missing:
        emulator.person("dev").get(f"/repos/{REPO}/git/trees/{head}:nowhere")
    assert missing.value.status == 404


def test_a_mode_only_change_is_reported_as_changed(emulator: Emulator) -> None:
    sha = (
        emulator.repo(REPO)
        .git.entry(emulator.repo(REPO).git.branch("main"), "flags/checkout.yaml")
        .sha
    )
    push_entries(emulator, "exec", [{"path": "flags/checkout.yaml", "mode": "100755", "sha": sha}])
    pr = emulator.person("dev").open_pr(REPO, head="exec", title="chmod")
    [f] = emulator.person("dev").get(f"/repos/{REPO}/pulls/{pr['number']}/files")
    assert (f["filename"], f["status"]) == ("flags/checkout.yaml", "changed")


def test_a_refused_create_leaves_no_trace(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.propose(REPO, {"flags/checkout.yaml": "name: x\n"}, branch="b1", title="first")

    def refuse(event) -> None:
        if event.name == "pull_request":
            raise RuntimeError("the webhook payload could not be built")

    emulator.world.listeners.insert(0, refuse)
    dev.create_branch(REPO, "b2")
    dev.commit_file(REPO, "flags/checkout.yaml", "name: y\n", branch="b2")
    with pytest.raises(ApiCallFailed):
        dev.open_pr(REPO, head="b2", title="second")
    emulator.world.listeners.remove(refuse)
    assert [p["title"] for p in dev.get(f"/repos/{REPO}/pulls?state=open")] == ["first"]
    assert dev.open_pr(REPO, head="b2", title="second")["number"] == 2

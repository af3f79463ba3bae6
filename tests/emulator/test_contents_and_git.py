"""Contents API (compare-and-swap), git data API, commits listing and compare."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from bot.emulator import ApiCallFailed, Emulator
from bot.emulator.git import object_id
from tests.emulator_harness import REPO

FLAG = "flags/checkout.yaml"


def put(emulator: Emulator, path: str, text: str, **extra) -> dict:
    body = {
        "message": f"write {path}",
        "content": base64.b64encode(text.encode()).decode(),
        **extra,
    }
    return emulator.person("dev").call("PUT", f"/repos/{REPO}/contents/{path}", body)


def test_get_file_returns_git_blob_sha_and_wrapped_base64(emulator: Emulator) -> None:
    emulator.push_files(REPO, "main", {"big.txt": "x" * 100}, author="dev")
    got = emulator.person("dev").get(f"/repos/{REPO}/contents/big.txt")
    assert got["sha"] == object_id("blob", b"x" * 100)
    assert got["encoding"] == "base64" and got["type"] == "file" and got["size"] == 100
    lines = got["content"].split("\n")
    assert all(len(line) == 60 for line in lines[:-2]) and lines[-1] == ""
    assert base64.b64decode(got["content"]) == b"x" * 100
    assert got["url"].endswith("/repos/acme/flags/contents/big.txt?ref=main")


def test_directory_listing_and_missing_paths(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    listing = dev.get(f"/repos/{REPO}/contents/flags")
    assert [(x["name"], x["type"]) for x in listing] == [("checkout.yaml", "file")]
    root = dev.get(f"/repos/{REPO}/contents/")
    assert {x["name"]: x["type"] for x in root} == {
        ".github": "dir",
        "README.md": "file",
        "flags": "dir",
    }
    with pytest.raises(ApiCallFailed) as e:
        dev.get(f"/repos/{REPO}/contents/nope.yaml")
    assert e.value.status == 404
    with pytest.raises(ApiCallFailed) as e:
        dev.get(f"/repos/{REPO}/contents/{FLAG}?ref=nope")
    assert e.value.status == 404


def test_contents_put_is_compare_and_swap(emulator: Emulator) -> None:
    current = emulator.person("dev").get(f"/repos/{REPO}/contents/{FLAG}")["sha"]
    with pytest.raises(ApiCallFailed) as e:
        put(emulator, FLAG, "a: 1\n")
    assert e.value.status == 422 and "sha" in e.value.body["message"]
    first = put(emulator, FLAG, "a: 1\n", sha=current)
    assert first["content"]["sha"] == object_id("blob", b"a: 1\n")
    with pytest.raises(ApiCallFailed) as e:
        put(emulator, FLAG, "a: 2\n", sha=current)  # stale: the first write moved it
    assert e.value.status == 409
    repo = emulator.repo(REPO)
    assert repo.git.read(repo.git.branch("main"), FLAG) == b"a: 1\n"
    created = put(emulator, "flags/new.yaml", "n: 1\n")
    assert created["commit"]["parents"][0]["sha"] == first["commit"]["sha"]


def test_contents_put_honours_author_committer_and_date(emulator: Emulator) -> None:
    sha = emulator.person("dev").get(f"/repos/{REPO}/contents/{FLAG}")["sha"]
    out = put(
        emulator,
        FLAG,
        "a: 1\n",
        sha=sha,
        branch="main",
        committer={
            "name": "Rollout Bot",
            "email": "bot@example.com",
            "date": "2030-01-02T03:04:05+02:00",
        },
    )
    commit = out["commit"]
    assert commit["committer"] == {
        "name": "Rollout Bot",
        "email": "bot@example.com",
        "date": "2030-01-02T01:04:05Z",
    }
    assert commit["author"]["date"] == "2030-01-02T01:04:05Z"
    stored = emulator.repo(REPO).git.store.commit(commit["sha"])
    assert stored.committer.encode().endswith("+0200")


def test_contents_delete_needs_matching_sha(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    sha = dev.get(f"/repos/{REPO}/contents/{FLAG}")["sha"]
    with pytest.raises(ApiCallFailed) as e:
        dev.call("DELETE", f"/repos/{REPO}/contents/{FLAG}", {"message": "rm", "sha": "0" * 40})
    assert e.value.status == 409
    out = dev.call("DELETE", f"/repos/{REPO}/contents/{FLAG}", {"message": "rm", "sha": sha})
    assert out["content"] is None
    with pytest.raises(ApiCallFailed) as e:
        dev.get(f"/repos/{REPO}/contents/{FLAG}")
    assert e.value.status == 404


def test_multi_file_commit_through_git_data_api(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    ref = dev.get(f"/repos/{REPO}/git/ref/heads/main")
    base = dev.get(f"/repos/{REPO}/git/commits/{ref['object']['sha']}")
    blob = dev.call(
        "POST",
        f"/repos/{REPO}/git/blobs",
        {"content": base64.b64encode(b"\x00bin").decode(), "encoding": "base64"},
    )
    assert blob["sha"] == object_id("blob", b"\x00bin")
    tree = dev.call(
        "POST",
        f"/repos/{REPO}/git/trees",
        {
            "base_tree": base["tree"]["sha"],
            "tree": [
                {"path": "flags/a.yaml", "mode": "100644", "type": "blob", "content": "a: 1\n"},
                {"path": "data/x.bin", "mode": "100644", "type": "blob", "sha": blob["sha"]},
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": None},
            ],
        },
    )
    commit = dev.call(
        "POST",
        f"/repos/{REPO}/git/commits",
        {
            "message": "bump",
            "tree": tree["sha"],
            "parents": [base["sha"]],
            "author": {"name": "Job", "email": "job@example.com", "date": "2031-05-05T05:05:05Z"},
        },
    )
    assert commit["author"]["date"] == "2031-05-05T05:05:05Z"
    updated = dev.call("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": commit["sha"]})
    assert updated["object"]["sha"] == commit["sha"]
    full = dev.get(f"/repos/{REPO}/git/trees/{commit['sha']}?recursive=1")
    paths = {e["path"] for e in full["tree"] if e["type"] == "blob"}
    assert paths == {".github/CODEOWNERS", "flags/checkout.yaml", "flags/a.yaml", "data/x.bin"}


def test_ref_update_must_fast_forward_unless_forced(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    main = dev.get(f"/repos/{REPO}/git/ref/heads/main")["object"]["sha"]
    side = emulator.repo(REPO).git.commit_changes(
        main, {"x": b"1"}, "side", emulator.repo(REPO).git.store.commit(main).author
    )
    emulator.push_files(REPO, "main", {"y": "2"}, author="dev")
    with pytest.raises(ApiCallFailed) as e:
        dev.call("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": side})
    assert (e.value.status, e.value.body["message"]) == (422, "Update is not a fast forward")
    forced = dev.call("PATCH", f"/repos/{REPO}/git/refs/heads/main", {"sha": side, "force": True})
    assert forced["object"]["sha"] == side
    with pytest.raises(ApiCallFailed) as e:
        dev.call("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/main", "sha": side})
    assert e.value.body["message"] == "Reference already exists"
    dev.call("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/feature/x", "sha": side})
    matching = dev.get(f"/repos/{REPO}/git/matching-refs/heads/feature")
    assert [r["ref"] for r in matching] == ["refs/heads/feature/x"]
    assert dev.get(f"/repos/{REPO}/git/ref/heads/feature/x")["object"]["sha"] == side
    dev.call("DELETE", f"/repos/{REPO}/git/refs/heads/feature/x")
    with pytest.raises(ApiCallFailed) as e:
        dev.get(f"/repos/{REPO}/git/ref/heads/feature/x")
    assert e.value.status == 404


def test_refs_outside_branches_are_atomic_claims_and_send_no_push(emulator: Emulator) -> None:
    # flagbot's claims: any namespace under refs/, created once (a duplicate is 422), listed
    # by prefix, moved by force; GitHub sends push events only for branches and tags.
    app = emulator.as_app()
    emulator.add_webhook("http://127.0.0.1:9/hook")  # recorded, never sent: not served
    main = app.get(f"/repos/{REPO}/git/ref/heads/main")["object"]["sha"]
    app.call("POST", f"/repos/{REPO}/git/refs", {"ref": "refs/heads/b", "sha": main})
    pushes = len(emulator.webhooks.events("push"))
    assert pushes == 1  # a branch: a push event
    claim = "refs/flagbot/7/" + main + "/announce"
    created = app.call("POST", f"/repos/{REPO}/git/refs", {"ref": claim, "sha": main})
    assert (created["ref"], created["object"]["sha"]) == (claim, main)
    with pytest.raises(ApiCallFailed) as e:
        app.call("POST", f"/repos/{REPO}/git/refs", {"ref": claim, "sha": main})
    assert (e.value.status, e.value.body["message"]) == (422, "Reference already exists")
    assert [r["ref"] for r in app.get(f"/repos/{REPO}/git/matching-refs/flagbot/7/")] == [claim]
    assert app.get(f"/repos/{REPO}/git/matching-refs/flagbot/8/") == []
    assert len(emulator.webhooks.events("push")) == pushes


def test_commits_listing_filters_by_path_newest_first(emulator: Emulator) -> None:
    emulator.clock.set("2030-01-01T00:00:00Z")
    shas = []
    for i in range(3):
        emulator.clock.advance(60)
        shas.append(
            emulator.push_files(
                REPO, "main", {FLAG if i != 1 else "README.md": f"v: {i}\n"}, author="dev"
            )
        )
    dev = emulator.person("dev")
    flagged = dev.get(f"/repos/{REPO}/commits?path={FLAG}")
    assert [c["sha"] for c in flagged][:2] == [shas[2], shas[0]]
    assert flagged[0]["commit"]["committer"]["date"] == "2030-01-01T00:03:00Z"
    assert flagged[0]["author"]["login"] == "dev"
    everything = dev.get(f"/repos/{REPO}/commits?per_page=2&page=2")
    assert [c["sha"] for c in everything] == [
        shas[0],
        emulator.repo(REPO).git.store.commit(shas[0]).parents[0],
    ]
    one = dev.get(f"/repos/{REPO}/commits/{shas[2]}")
    assert [f["filename"] for f in one["files"]] == [FLAG] and one["stats"]["total"] == 2


def test_compare_reports_ahead_behind_and_files(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "feature")
    dev.commit_file(REPO, "flags/f.yaml", "f: 1\n", branch="feature")
    emulator.push_files(REPO, "main", {"README.md": "changed\n"}, author="mgr")
    out = dev.get(f"/repos/{REPO}/compare/main...feature")
    assert (out["status"], out["ahead_by"], out["behind_by"], out["total_commits"]) == (
        "diverged",
        1,
        1,
        1,
    )
    assert [f["filename"] for f in out["files"]] == ["flags/f.yaml"]
    assert dev.get(f"/repos/{REPO}/compare/main...main")["status"] == "identical"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_story_written_out_is_a_real_git_repository(emulator: Emulator, tmp_path) -> None:
    dev, mgr = emulator.person("dev"), emulator.person("mgr")
    dev.propose(REPO, {FLAG: "name: x\n"}, branch="change", title="Change")
    mgr.approve(REPO, 1)
    mgr.merge(REPO, 1)
    out = emulator.export_git(REPO, tmp_path / "flags.git")

    def run(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=out, capture_output=True, text=True, check=True)
        return done.stdout

    run("fsck", "--strict", "--no-dangling")
    log = run("log", "--format=%H %P %s", "main").splitlines()
    assert log[0].split()[0] == emulator.repo(REPO).git.branch("main")
    assert len(log[0].split()) >= 3 and "Merge pull request #1" in log[0]
    assert run("show", "main:" + FLAG) == "name: x\n"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(out), str(clone)], check=True)
    assert (clone / FLAG).read_text() == "name: x\n"

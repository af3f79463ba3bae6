"""Pull requests and reviews as GitHub runs them (in-process REST calls as people)."""

from __future__ import annotations

import pytest

from bot.emulator import ApiCallFailed, Emulator
from tests.emulator_harness import REPO

FLAG = "flags/checkout.yaml"


def open_change(
    emulator: Emulator,
    branch: str = "bump",
    text: str = "name: New checkout\nenabled: true\nrollout:\n  percentage: 25\n",
) -> dict:
    dev = emulator.person("dev")
    return dev.propose(REPO, {FLAG: text}, branch=branch, title="Bump checkout", body="to 25 %")


def test_open_pull_request_reports_head_base_and_files(emulator: Emulator) -> None:
    pr = open_change(emulator)
    repo = emulator.repo(REPO)
    assert pr["number"] == 1 and pr["state"] == "open" and pr["user"]["login"] == "dev"
    assert pr["head"]["ref"] == "bump" and pr["head"]["sha"] == repo.git.branch("bump")
    assert pr["base"]["sha"] == repo.git.branch("main")
    assert pr["mergeable"] is True and pr["mergeable_state"] == "clean"
    assert (pr["commits"], pr["changed_files"], pr["additions"], pr["deletions"]) == (1, 1, 1, 1)
    files = emulator.person("mgr").get(f"/repos/{REPO}/pulls/1/files")
    assert [(f["filename"], f["status"]) for f in files] == [(FLAG, "modified")]
    assert files[0]["patch"].startswith("@@ -1,4 +1,4 @@")
    assert files[0]["sha"] == repo.git.entry(repo.git.branch("bump"), FLAG).sha


def test_files_report_renames_with_previous_filename(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "rename")
    text = emulator.person("dev").get(f"/repos/{REPO}/contents/{FLAG}")
    sha = dev.commit_file(
        REPO,
        "flags/checkout-v2.yaml",
        "name: New checkout\nenabled: true\nrollout:\n  percentage: 5\n",
        branch="rename",
    )
    dev.delete_file(REPO, FLAG, branch="rename")
    dev.open_pr(REPO, head="rename", title="Rename")
    files = dev.get(f"/repos/{REPO}/pulls/1/files")
    assert [(f["filename"], f["status"], f.get("previous_filename")) for f in files] == [
        ("flags/checkout-v2.yaml", "renamed", FLAG)
    ]
    assert text["sha"] and sha


@pytest.mark.parametrize(
    ("body", "field"),
    [({"head": "nope", "base": "main"}, "head"), ({"head": "bump", "base": "nope"}, "base")],
)
def test_open_refuses_missing_branches(emulator: Emulator, body: dict, field: str) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "bump")
    dev.commit_file(REPO, FLAG, "x: 1\n", branch="bump")
    with pytest.raises(ApiCallFailed) as e:
        dev.call("POST", f"/repos/{REPO}/pulls", {"title": "t", **body})
    assert e.value.status == 422
    assert e.value.body["errors"][0]["field"] == field


def test_open_refuses_no_commits_and_duplicates(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "empty")
    with pytest.raises(ApiCallFailed) as e:
        dev.open_pr(REPO, head="empty", title="nothing")
    assert e.value.status == 422 and "No commits between main and empty" in str(e.value.body)
    open_change(emulator)
    with pytest.raises(ApiCallFailed) as e:
        dev.open_pr(REPO, head="bump", title="again")
    assert "already exists" in str(e.value.body)


def test_author_cannot_approve_or_request_changes_on_own_pr(emulator: Emulator) -> None:
    open_change(emulator)
    dev = emulator.person("dev")
    with pytest.raises(ApiCallFailed) as e:
        dev.approve(REPO, 1)
    assert e.value.status == 422 and e.value.body["errors"] == [
        "Can not approve your own pull request"
    ]
    with pytest.raises(ApiCallFailed) as e:
        dev.request_changes(REPO, 1, "hmm")
    assert e.value.body["errors"] == ["Can not request changes on your own pull request"]
    assert dev.comment_review(REPO, 1, "note to self")["state"] == "COMMENTED"


def test_review_is_bound_to_the_head_it_was_given_on(emulator: Emulator) -> None:
    pr = open_change(emulator)
    mgr = emulator.person("mgr")
    first = mgr.approve(REPO, 1, "ok")
    assert first["commit_id"] == pr["head"]["sha"] and first["submitted_at"]
    new_head = emulator.person("dev").commit_file(
        REPO, FLAG, "name: New checkout\nrollout:\n  percentage: 50\n", branch="bump"
    )
    reviews = mgr.get(f"/repos/{REPO}/pulls/1/reviews")
    assert [r["commit_id"] for r in reviews] == [pr["head"]["sha"]]
    second = emulator.person("qa").approve(REPO, 1)
    assert second["commit_id"] == new_head
    pinned = emulator.person("qa").approve(REPO, 1, commit_id=pr["head"]["sha"])
    assert pinned["commit_id"] == pr["head"]["sha"]


def test_request_changes_needs_a_body_and_dismissal_clears_it(emulator: Emulator) -> None:
    open_change(emulator)
    qa = emulator.person("qa")
    with pytest.raises(ApiCallFailed) as e:
        qa.request_changes(REPO, 1, "")
    assert e.value.status == 422
    review = qa.request_changes(REPO, 1, "breaks checkout")
    mgr = emulator.person("mgr")
    dismissed = mgr.dismiss(REPO, 1, review["id"], "fixed offline")
    assert dismissed["state"] == "DISMISSED"
    comment = qa.comment_review(REPO, 1, "fyi")
    with pytest.raises(ApiCallFailed) as e:
        mgr.dismiss(REPO, 1, comment["id"], "no")
    assert e.value.status == 422


def test_pending_review_is_private_until_submitted(emulator: Emulator) -> None:
    open_change(emulator)
    qa = emulator.person("qa")
    pending = qa.call("POST", f"/repos/{REPO}/pulls/1/reviews", {"body": "draft"})
    assert pending["state"] == "PENDING" and pending.get("submitted_at") is None
    assert emulator.person("mgr").get(f"/repos/{REPO}/pulls/1/reviews") == []
    submitted = qa.call(
        "POST", f"/repos/{REPO}/pulls/1/reviews/{pending['id']}/events", {"event": "APPROVE"}
    )
    assert submitted["state"] == "APPROVED"
    assert [r["state"] for r in emulator.person("mgr").get(f"/repos/{REPO}/pulls/1/reviews")] == [
        "APPROVED"
    ]


def test_merge_with_stale_sha_is_refused_and_changes_nothing(emulator: Emulator) -> None:
    pr = open_change(emulator)
    main_before = emulator.repo(REPO).git.branch("main")
    emulator.person("dev").commit_file(REPO, FLAG, "moved: true\n", branch="bump")
    mgr = emulator.person("mgr")
    with pytest.raises(ApiCallFailed) as e:
        mgr.merge(REPO, 1, sha=pr["head"]["sha"])
    assert e.value.status == 409
    assert e.value.body["message"] == "Head branch was modified. Review and try the merge again."
    assert emulator.repo(REPO).git.branch("main") == main_before
    assert mgr.pr(REPO, 1)["state"] == "open"


def test_merge_methods_make_the_right_commits(emulator: Emulator) -> None:
    repo = emulator.repo(REPO)
    mgr = emulator.person("mgr")
    dev = emulator.person("dev")
    for n, method in enumerate(("merge", "squash", "rebase"), start=1):
        branch = f"b-{method}"
        dev.create_branch(REPO, branch)
        dev.commit_file(REPO, f"flags/{method}.yaml", "name: a\n", branch=branch)
        dev.commit_file(REPO, f"flags/{method}.yaml", "name: b\n", branch=branch)
        pr = dev.open_pr(REPO, head=branch, title=f"Use {method}")
        base_before = repo.git.branch("main")
        result = mgr.merge(REPO, n, method=method, sha=pr["head"]["sha"])
        tip = repo.git.branch("main")
        assert result == {"sha": tip, "merged": True, "message": "Pull Request successfully merged"}
        commit = repo.git.store.commit(tip)
        if method == "merge":
            assert commit.parents == (base_before, pr["head"]["sha"])
            assert commit.message.startswith(f"Merge pull request #{n} from acme/{branch}")
        elif method == "squash":
            assert commit.parents == (base_before,)
            assert commit.message.startswith(f"Use squash (#{n})")
        else:
            parent = repo.git.store.commit(commit.parents[0])
            assert parent.parents == (base_before,)
            assert commit.author.name == "dev"
        assert repo.git.read(tip, f"flags/{method}.yaml") == b"name: b\n"
        merged = mgr.pr(REPO, n)
        assert merged["merged"] is True and merged["state"] == "closed"
        assert merged["merged_by"]["login"] == "mgr" and merged["merge_commit_sha"] == tip
        assert merged["changed_files"] == 1  # files stay visible after the merge


def test_merged_closed_draft_and_conflicting_prs_are_not_mergeable(emulator: Emulator) -> None:
    open_change(emulator, "one")
    mgr = emulator.person("mgr")
    mgr.merge(REPO, 1)
    with pytest.raises(ApiCallFailed) as e:
        mgr.merge(REPO, 1)
    assert e.value.status == 405
    # a second change to the same line now conflicts with main
    emulator.person("dev").create_branch(
        REPO,
        "two",
        emulator.repo(REPO).git.store.commit(emulator.repo(REPO).git.branch("main")).parents[0],
    )
    emulator.person("dev").commit_file(
        REPO, FLAG, "name: New checkout\nenabled: true\nrollout:\n  percentage: 99\n", branch="two"
    )
    pr2 = emulator.person("dev").open_pr(REPO, head="two", title="conflict")
    assert pr2["mergeable"] is False and pr2["mergeable_state"] == "dirty"
    with pytest.raises(ApiCallFailed) as e:
        mgr.merge(REPO, 2)
    assert e.value.status == 405
    open_change(emulator, "three", "other: 1\n")
    emulator.person("dev").convert_to_draft(REPO, 3)
    with pytest.raises(ApiCallFailed) as e:
        mgr.merge(REPO, 3)
    assert e.value.status == 405
    emulator.person("dev").close_pr(REPO, 3)
    with pytest.raises(ApiCallFailed) as e:
        mgr.merge(REPO, 3)
    assert e.value.status == 405


def test_different_lines_of_one_file_merge_cleanly(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "desc")
    dev.commit_file(
        REPO,
        FLAG,
        "name: Renamed checkout\nenabled: true\nrollout:\n  percentage: 5\n",
        branch="desc",
    )
    dev.open_pr(REPO, head="desc", title="Rename")
    emulator.push_files(
        REPO,
        "main",
        {FLAG: "name: New checkout\nenabled: true\nrollout:\n  percentage: 25\n"},
        author="flagbot",
    )
    mgr = emulator.person("mgr")
    assert mgr.pr(REPO, 1)["mergeable"] is True
    mgr.merge(REPO, 1)
    assert emulator.repo(REPO).git.read(emulator.repo(REPO).git.branch("main"), FLAG) == (
        b"name: Renamed checkout\nenabled: true\nrollout:\n  percentage: 25\n"
    )


def test_mergeable_can_be_null_while_github_computes_it(emulator: Emulator) -> None:
    emulator.options.mergeable_null_reads = 1
    open_change(emulator)
    mgr = emulator.person("mgr")
    assert mgr.pr(REPO, 1)["mergeable"] is True  # the open response used the null read
    emulator.person("dev").commit_file(REPO, FLAG, "x: 2\n", branch="bump")
    first, second = mgr.pr(REPO, 1), mgr.pr(REPO, 1)
    assert (first["mergeable"], first["mergeable_state"]) == (None, "unknown")
    assert second["mergeable"] is True


def test_edit_close_reopen_and_draft_extension(emulator: Emulator) -> None:
    open_change(emulator)
    dev = emulator.person("dev")
    edited = dev.edit_pr(REPO, 1, title="New title", body="why")
    assert edited["title"] == "New title"
    assert dev.close_pr(REPO, 1)["state"] == "closed"
    assert dev.reopen_pr(REPO, 1)["state"] == "open"
    assert dev.convert_to_draft(REPO, 1)["draft"] is True
    assert dev.ready_for_review(REPO, 1)["draft"] is False
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("outsider").edit_pr(REPO, 1, title="mine now")
    assert e.value.status == 403


def test_update_branch_merges_base_into_head(emulator: Emulator) -> None:
    pr = open_change(emulator)
    emulator.push_files(REPO, "main", {"README.md": "# flags!\n"}, author="mgr")
    mgr = emulator.person("mgr")
    with pytest.raises(ApiCallFailed) as e:
        mgr.call("PUT", f"/repos/{REPO}/pulls/1/update-branch", {"expected_head_sha": "0" * 40})
    assert e.value.status == 422
    out = mgr.call(
        "PUT", f"/repos/{REPO}/pulls/1/update-branch", {"expected_head_sha": pr["head"]["sha"]}
    )
    assert out["message"] == "Updating pull request branch."
    repo = emulator.repo(REPO)
    head = repo.git.store.commit(repo.git.branch("bump"))
    assert head.parents == (pr["head"]["sha"], repo.git.branch("main"))


def test_deleting_the_head_branch_closes_the_pr(emulator: Emulator) -> None:
    open_change(emulator)
    emulator.person("dev").delete_branch(REPO, "bump")
    pr = emulator.person("mgr").pr(REPO, 1)
    assert pr["state"] == "closed" and pr["merged"] is False
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("dev").reopen_pr(REPO, 1)
    assert e.value.status == 422


def test_writes_need_permission(emulator: Emulator) -> None:
    open_change(emulator)
    outsider = emulator.person("outsider")
    with pytest.raises(ApiCallFailed) as e:
        outsider.merge(REPO, 1)
    assert e.value.status == 403
    with pytest.raises(ApiCallFailed) as e:
        outsider.commit_file(REPO, "x", "y", branch="main")
    assert e.value.status == 404  # GitHub hides write endpoints from non-writers
    assert outsider.comment_review(REPO, 1, "drive-by")["state"] == "COMMENTED"  # public repo

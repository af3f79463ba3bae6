"""Check runs, statuses, comments, labels, teams, collaborators."""

from __future__ import annotations

import pytest

from bot.emulator import ApiCallFailed, Emulator
from tests.emulator_harness import REPO, seed_for


def head_of(emulator: Emulator) -> str:
    return emulator.repo(REPO).git.branch("main")


def annotation(i: int) -> dict:
    return {
        "path": "flags/checkout.yaml",
        "start_line": i,
        "end_line": i,
        "annotation_level": "failure",
        "message": f"bad {i}",
    }


def test_only_github_apps_create_check_runs(emulator: Emulator) -> None:
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("flagbot").call(
            "POST", f"/repos/{REPO}/check-runs", {"name": "flagbot", "head_sha": head_of(emulator)}
        )
    assert (e.value.status, e.value.body["message"]) == (
        403,
        "You must authenticate via a GitHub App.",
    )
    run = emulator.as_app().call(
        "POST", f"/repos/{REPO}/check-runs", {"name": "flagbot", "head_sha": head_of(emulator)}
    )
    assert (
        run["status"] == "queued" and run["conclusion"] is None and run["app"]["slug"] == "flagbot"
    )


def test_check_run_annotations_limit_and_append(emulator: Emulator) -> None:
    app = emulator.as_app()
    sha = head_of(emulator)
    too_many = {
        "name": "flagbot",
        "head_sha": sha,
        "output": {
            "title": "t",
            "summary": "s",
            "annotations": [annotation(i) for i in range(1, 52)],
        },
    }
    with pytest.raises(ApiCallFailed) as e:
        app.call("POST", f"/repos/{REPO}/check-runs", too_many)
    assert e.value.status == 422
    assert emulator.repo(REPO).check_runs == {}  # refused requests store nothing
    first = {
        "name": "flagbot",
        "head_sha": sha,
        "status": "in_progress",
        "output": {
            "title": "Validating",
            "summary": "s",
            "annotations": [annotation(i) for i in range(1, 51)],
        },
    }
    run = app.call("POST", f"/repos/{REPO}/check-runs", first)
    assert run["output"]["annotations_count"] == 50
    done = app.call(
        "PATCH",
        f"/repos/{REPO}/check-runs/{run['id']}",
        {
            "conclusion": "failure",
            "output": {
                "title": "Rejected",
                "summary": "two problems",
                "annotations": [annotation(60)],
            },
        },
    )
    assert (done["status"], done["conclusion"], done["output"]["annotations_count"]) == (
        "completed",
        "failure",
        51,
    )
    assert done["completed_at"] and done["output"]["title"] == "Rejected"
    page = app.get(f"/repos/{REPO}/check-runs/{run['id']}/annotations?per_page=100")
    assert len(page) == 51 and page[-1]["message"] == "bad 60"


def test_check_run_validation(emulator: Emulator) -> None:
    app = emulator.as_app()
    sha = head_of(emulator)
    for body in (
        {"name": "x", "head_sha": "0" * 40},
        {"name": "x", "head_sha": sha, "status": "completed"},
        {"name": "x", "head_sha": sha, "status": "waiting"},
        {"name": "x", "head_sha": sha, "output": {"summary": "no title"}},
    ):
        with pytest.raises(ApiCallFailed) as e:
            app.call("POST", f"/repos/{REPO}/check-runs", body)
        assert e.value.status == 422, body


def test_list_check_runs_for_ref_with_filters(emulator: Emulator) -> None:
    app = emulator.as_app()
    sha = head_of(emulator)
    older = app.call("POST", f"/repos/{REPO}/check-runs", {"name": "flagbot", "head_sha": sha})
    newer = app.call(
        "POST",
        f"/repos/{REPO}/check-runs",
        {"name": "flagbot", "head_sha": sha, "conclusion": "success"},
    )
    app.call("POST", f"/repos/{REPO}/check-runs", {"name": "lint", "head_sha": sha})
    reader = emulator.person("dev")
    latest = reader.get(f"/repos/{REPO}/commits/main/check-runs?check_name=flagbot")
    assert latest["total_count"] == 1 and latest["check_runs"][0]["id"] == newer["id"]
    every = reader.get(f"/repos/{REPO}/commits/{sha}/check-runs?check_name=flagbot&filter=all")
    assert [r["id"] for r in every["check_runs"]] == [newer["id"], older["id"]]
    queued = reader.get(f"/repos/{REPO}/commits/{sha}/check-runs?status=queued")
    assert [r["name"] for r in queued["check_runs"]] == ["lint"]


def test_statuses_combine_per_context(emulator: Emulator) -> None:
    sha = head_of(emulator)
    bot = emulator.person("flagbot")
    bot.call("POST", f"/repos/{REPO}/statuses/{sha}", {"state": "pending", "context": "ci"})
    bot.call("POST", f"/repos/{REPO}/statuses/{sha}", {"state": "success", "context": "ci"})
    bot.call(
        "POST",
        f"/repos/{REPO}/statuses/{sha}",
        {"state": "failure", "context": "lint", "description": "x"},
    )
    combined = bot.get(f"/repos/{REPO}/commits/main/status")
    assert combined["state"] == "failure" and combined["total_count"] == 2
    with pytest.raises(ApiCallFailed) as e:
        bot.call("POST", f"/repos/{REPO}/statuses/{sha}", {"state": "great"})
    assert e.value.status == 422


def test_comments_and_labels(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.propose(REPO, {"flags/x.yaml": "x: 1\n"}, branch="x", title="X")
    app = emulator.as_app()
    comment = app.call("POST", f"/repos/{REPO}/issues/1/comments", {"body": "Waiting for QA"})
    assert (
        comment["user"]["login"] == "flagbot[bot]"
        and comment["performed_via_github_app"]["id"] == 1001
    )
    edited = app.call("PATCH", f"/repos/{REPO}/issues/comments/{comment['id']}", {"body": "Merged"})
    assert edited["body"] == "Merged"
    assert [c["body"] for c in dev.get(f"/repos/{REPO}/issues/1/comments")] == ["Merged"]
    assert dev.get(f"/repos/{REPO}/issues/comments/{comment['id']}")["id"] == comment["id"]
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("outsider").call(
            "PATCH", f"/repos/{REPO}/issues/comments/{comment['id']}", {"body": "mine"}
        )
    assert e.value.status in (403, 404)
    labels = app.call(
        "POST", f"/repos/{REPO}/issues/1/labels", {"labels": ["flag-change", "needs-qa"]}
    )
    assert [x["name"] for x in labels] == ["flag-change", "needs-qa"]
    left = app.call("DELETE", f"/repos/{REPO}/issues/1/labels/needs-qa")
    assert [x["name"] for x in left] == ["flag-change"]
    with pytest.raises(ApiCallFailed) as e:
        app.call("DELETE", f"/repos/{REPO}/issues/1/labels/needs-qa")
    assert e.value.status == 404
    app.call("DELETE", f"/repos/{REPO}/issues/1/labels")
    assert dev.get(f"/repos/{REPO}/issues/1/labels") == []
    assert dev.pr(REPO, 1)["comments"] == 1


def test_team_memberships_active_pending_child_and_absent() -> None:
    seed = seed_for()
    seed["orgs"][0]["teams"].append(
        {"slug": "qa-leads", "members": ["dev"], "parent": "qa", "pending": []}
    )
    seed["orgs"][0]["teams"][2]["pending"] = ["outsider"]
    emulator = Emulator.from_seed(seed)
    app = emulator.as_app()
    base = "/orgs/acme/teams"
    assert app.get(f"{base}/eng-managers/memberships/mgr") | {"url": ""} == {
        "url": "",
        "role": "member",
        "state": "active",
    }
    assert app.get(f"{base}/leads/memberships/mgr")["role"] == "maintainer"
    assert app.get(f"{base}/qa/memberships/dev")["state"] == "active"  # through child team qa-leads
    assert app.get(f"{base}/qa/memberships/outsider")["state"] == "pending"
    for team, login in (("eng-managers", "qa"), ("qa", "mgr"), ("qa", "ghost")):
        with pytest.raises(ApiCallFailed) as e:
            app.get(f"{base}/{team}/memberships/{login}")
        assert e.value.status == 404
    members = app.get(f"{base}/qa/members")
    assert sorted(m["login"] for m in members) == ["dev", "qa"]  # pending members are not listed
    assert [m["login"] for m in app.get(f"{base}/leads/members?role=maintainer")] == ["mgr"]
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("outsider").get(f"{base}/qa/members")
    assert e.value.status == 404


def test_collaborator_permission(emulator: Emulator) -> None:
    app = emulator.as_app()
    got = app.get(f"/repos/{REPO}/collaborators/dev/permission")
    assert (got["permission"], got["role_name"], got["user"]["login"]) == ("write", "write", "dev")
    assert app.get(f"/repos/{REPO}/collaborators/outsider/permission")["permission"] == "read"
    with pytest.raises(ApiCallFailed) as e:
        emulator.person("outsider").get(f"/repos/{REPO}/collaborators/dev/permission")
    assert e.value.status == 403


def test_private_repository_is_invisible_to_outsiders() -> None:
    seed = seed_for()
    seed["repos"][0]["private"] = True
    emulator = Emulator.from_seed(seed)
    assert emulator.request("GET", f"/repos/{REPO}").status == 404
    assert emulator.request("GET", f"/repos/{REPO}", login="outsider").status == 404
    assert emulator.request("GET", f"/repos/{REPO}", login="dev").status == 200
    assert emulator.request("GET", f"/repos/{REPO}", token="wrong").status == 401
    assert (
        emulator.request("GET", f"/repos/{REPO}", token="wrong").body["message"]
        == "Bad credentials"
    )

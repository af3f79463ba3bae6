"""Details clients rely on, as api.github.com has them: `Location` on creation, entity tags on
every answer, `Link`s on `/repositories/{id}`, the id-based team paths PyGithub follows, the
legacy statuses path, compare limits, full organizations and teams, who closed an issue."""

from __future__ import annotations

import base64

from github import Auth, Github

from bot.emulator import Emulator
from tests.emulator_harness import REPO, WebhookSink, seed_for

R = f"/repos/{REPO}"


def test_creations_say_where_the_new_resource_is(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.create_branch(REPO, "b")
    dev.commit_file(REPO, "a.txt", "a", branch="b")
    main = emulator.repo(REPO).git.branch("main")
    answers = {
        "pull": emulator.request(
            "POST", f"{R}/pulls", login="dev", json_body={"title": "t", "head": "b", "base": "main"}
        ),
        "ref": emulator.request(
            "POST", f"{R}/git/refs", login="dev", json_body={"ref": "refs/heads/c", "sha": main}
        ),
        "blob": emulator.request("POST", f"{R}/git/blobs", login="dev", json_body={"content": "x"}),
        "comment": emulator.request(
            "POST", f"{R}/issues/1/comments", login="dev", json_body={"body": "hi"}
        ),
        "status": emulator.request(
            "POST", f"{R}/statuses/{main}", login="dev", json_body={"state": "success"}
        ),
    }
    for name, answer in answers.items():
        assert answer.status == 201, name
        assert answer.headers["Location"] == answer.body["url"], name
        assert answer.headers["ETag"].startswith('"'), name  # strong, as GitHub tags creations
    content = base64.b64encode(b"new").decode()
    put = emulator.request(
        "PUT", f"{R}/contents/new.txt", login="dev", json_body={"message": "m", "content": content}
    )
    assert put.status == 201 and "Location" not in put.headers  # GitHub sends none here
    label = emulator.request(
        "POST", f"{R}/issues/1/labels", login="dev", json_body={"labels": ["x"]}
    )
    assert label.headers["ETag"].startswith('W/"')  # writes are tagged too


def test_links_point_at_repositories_by_id_and_are_followed(emulator: Emulator) -> None:
    for i in range(3):
        emulator.push_files(REPO, "main", {"n.txt": str(i)}, author="dev")
    repo_id = emulator.repo(REPO).id
    first = emulator.request("GET", f"{R}/commits", login="dev", query={"per_page": 2})
    link = first.headers["Link"]
    assert f'/repositories/{repo_id}/commits?per_page=2&page=2>; rel="next"' in link
    following = emulator.request("GET", f"/repositories/{repo_id}/commits?per_page=2&page=2")
    assert following.status == 200 and len(following.body) == 2
    assert following.headers["Link"].count(f"/repositories/{repo_id}/commits") == 2
    assert emulator.calls.calls(route="/repos/{owner}/{repo}/commits", transport=None)[
        -1
    ].query == {
        "per_page": "2",
        "page": "2",
    }
    assert emulator.request("GET", "/repositories/999999/commits").status == 404


def test_pygithub_follows_team_urls_and_reads_statuses(emulator: Emulator, github_url: str) -> None:
    gh = Github(base_url=github_url, auth=Auth.Token("mgr-token"))
    org = gh.get_organization("acme")
    team = org.get_team_by_slug("leads")
    assert team.url.startswith(f"{github_url}/organizations/")
    assert sorted(u.login for u in team.get_members()) == ["mgr"]  # via the child team too
    assert team.get_team_membership("mgr").role == "maintainer"
    assert team.has_in_members(gh.get_user("mgr")) is True
    assert team.has_in_members(gh.get_user("qa")) is False
    assert team.members_count == 1 and team.organization.login == "acme"

    repo = gh.get_repo(REPO)
    commit = repo.get_commit(repo.get_branch("main").commit.sha)
    commit.create_status("failure", context="flagbot")
    assert [(s.state, s.context) for s in commit.get_statuses()] == [("failure", "flagbot")]


def test_compare_limits_and_pages(emulator: Emulator) -> None:
    base = emulator.repo(REPO).git.branch("main")
    emulator.push_files(REPO, "main", {f"f/{i}.txt": str(i) for i in range(305)}, author="dev")
    for i in range(4):
        emulator.push_files(REPO, "main", {"n.txt": str(i)}, author="dev")
    whole = emulator.request("GET", f"{R}/compare/{base}...main", login="dev").body
    assert (whole["total_commits"], len(whole["commits"]), len(whole["files"])) == (5, 5, 300)
    page = emulator.request(
        "GET", f"{R}/compare/{base}...main", login="dev", query={"per_page": 2, "page": 2}
    )
    assert [c["sha"] for c in page.body["commits"]] == [c["sha"] for c in whole["commits"][2:4]]
    assert page.body["files"] == []  # changed files come on the first page only
    assert 'rel="next"' in page.headers["Link"] and 'rel="prev"' in page.headers["Link"]


def test_organizations_and_teams_are_the_full_objects() -> None:
    seed = seed_for()
    seed["orgs"][0].update(owners=["flagbot"], name="Acme Inc", description="Acme")
    emulator = Emulator.from_seed(seed)
    public = emulator.request("GET", "/orgs/acme", login="dev").body
    owner = emulator.request("GET", "/orgs/acme", login="flagbot").body
    assert (public["name"], public["description"], public["public_repos"]) == (
        "Acme Inc",
        "Acme",
        1,
    )
    assert "plan" not in public and "billing_email" not in public
    assert owner["plan"]["seats"] == 4 and owner["total_private_repos"] == 0
    team = emulator.request("GET", "/orgs/acme/teams/leads", login="dev").body
    assert (team["members_count"], team["repos_count"]) == (1, 0)
    assert team["organization"]["login"] == "acme" and "plan" not in team["organization"]


def test_issues_say_who_closed_them(emulator: Emulator) -> None:
    dev = emulator.person("dev")
    dev.propose(REPO, {"a.txt": "a"}, branch="a", title="A")
    assert emulator.request("GET", f"{R}/issues/1", login="dev").body["closed_by"] is None
    emulator.person("mgr").close_pr(REPO, 1)
    closed = emulator.request("GET", f"{R}/issues/1", login="dev").body
    assert closed["closed_by"]["login"] == "mgr"
    dev.reopen_pr(REPO, 1)
    assert emulator.request("GET", f"{R}/issues/1", login="dev").body["closed_by"] is None


async def test_webhook_repositories_carry_custom_properties_and_the_web_flow_committer() -> None:
    async with WebhookSink() as sink:
        emulator = Emulator.from_seed(seed_for())
        emulator.add_webhook(sink.url, "s3cret")
        async with emulator.serve():
            dev = emulator.person("dev")
            dev.propose(REPO, {"a.txt": "a"}, branch="a", title="A")
            emulator.person("mgr").approve(REPO, 1)
            emulator.person("mgr").merge(REPO, 1)
            await emulator.webhooks.drain()
    opened = next(p for h, _, p in sink.received if p.get("action") == "opened")
    assert opened["repository"]["custom_properties"] == {}
    assert opened["pull_request"]["base"]["repo"]["custom_properties"] == {}
    rest = emulator.request("GET", f"{R}/pulls/1", login="dev").body
    assert "custom_properties" not in rest["base"]["repo"]
    merge_push = [p for h, _, p in sink.received if h["X-GitHub-Event"] == "push"][-1]
    assert merge_push["head_commit"]["committer"] == {
        "name": "GitHub",
        "email": "noreply@github.com",
        "username": "web-flow",
    }
    assert merge_push["head_commit"]["author"]["username"] == "mgr"  # who merged

"""gidgethub and PyGithub, unchanged and pointed at the emulator by base URL, carry out the
whole story: branch, commit, pull request, reviews, check run (as the App installation),
merge refused on a stale sha and accepted on the right one, contents compare-and-swap."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from gidgethub import BadRequest, apps
from gidgethub.aiohttp import GitHubAPI
from github import Auth, Github, GithubException, InputGitTreeElement

from bot.emulator import Emulator, Server
from tests.emulator_harness import APP_ID, INSTALLATION_ID, REPO, app_private_key

FLAG = "flags/checkout.yaml"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_gidgethub_story(emulator: Emulator, github: Server) -> None:
    async with aiohttp.ClientSession() as session:

        def as_user(token: str) -> GitHubAPI:
            return GitHubAPI(session, "story", oauth_token=token, base_url=github.url)

        app_gh = GitHubAPI(session, "story", base_url=github.url)
        token = await apps.get_installation_access_token(
            app_gh,
            installation_id=INSTALLATION_ID,
            app_id=str(APP_ID),
            private_key=app_private_key(),
        )
        assert token["token"].startswith("ghs_") and token["expires_at"].endswith("Z")
        installation = await app_gh.getitem(
            "/repos/acme/flags/installation",
            jwt=apps.get_jwt(app_id=str(APP_ID), private_key=app_private_key()),
        )
        assert installation["id"] == INSTALLATION_ID
        bot, dev, mgr = as_user(token["token"]), as_user("dev-token"), as_user("mgr-token")

        main = await dev.getitem("/repos/acme/flags/git/ref/heads/main")
        await dev.post(
            "/repos/acme/flags/git/refs",
            data={"ref": "refs/heads/bump", "sha": main["object"]["sha"]},
        )
        current = await dev.getitem(f"/repos/acme/flags/contents/{FLAG}?ref=bump")
        await dev.put(
            f"/repos/acme/flags/contents/{FLAG}",
            data={
                "message": "bump",
                "content": b64("rollout: 25\n"),
                "sha": current["sha"],
                "branch": "bump",
            },
        )
        with pytest.raises(BadRequest) as conflict:  # compare-and-swap on the blob sha
            await dev.put(
                f"/repos/acme/flags/contents/{FLAG}",
                data={
                    "message": "again",
                    "content": b64("rollout: 50\n"),
                    "sha": current["sha"],
                    "branch": "bump",
                },
            )
        assert conflict.value.status_code == 409
        pr = await dev.post(
            "/repos/acme/flags/pulls", data={"title": "Bump", "head": "bump", "base": "main"}
        )
        stale = pr["head"]["sha"]

        review = await mgr.post(
            f"/repos/acme/flags/pulls/{pr['number']}/reviews", data={"event": "APPROVE"}
        )
        assert review["state"] == "APPROVED" and review["commit_id"] == stale
        with pytest.raises(BadRequest):  # gidgethub maps 422 with string errors to BadRequest
            await dev.post(
                f"/repos/acme/flags/pulls/{pr['number']}/reviews", data={"event": "APPROVE"}
            )

        run = await bot.post(
            "/repos/acme/flags/check-runs",
            data={
                "name": "flagbot",
                "head_sha": stale,
                "status": "in_progress",
                "output": {"title": "Validating", "summary": "..."},
            },
        )
        await bot.patch(
            f"/repos/acme/flags/check-runs/{run['id']}",
            data={
                "conclusion": "success",
                "output": {"title": "Ready to merge", "summary": "all roles approved"},
            },
        )
        runs = [
            r
            async for r in bot.getiter(
                f"/repos/acme/flags/commits/{stale}/check-runs", iterable_key="check_runs"
            )
        ]
        assert [(r["name"], r["conclusion"]) for r in runs] == [("flagbot", "success")]

        await dev.put(
            f"/repos/acme/flags/contents/{FLAG}",
            data={
                "message": "more",
                "content": b64("rollout: 30\n"),
                "sha": (await dev.getitem(f"/repos/acme/flags/contents/{FLAG}?ref=bump"))["sha"],
                "branch": "bump",
            },
        )
        with pytest.raises(BadRequest) as refused:
            await bot.put(f"/repos/acme/flags/pulls/{pr['number']}/merge", data={"sha": stale})
        assert refused.value.status_code == 409
        fresh = await bot.getitem(f"/repos/acme/flags/pulls/{pr['number']}")
        merged = await bot.put(
            f"/repos/acme/flags/pulls/{pr['number']}/merge",
            data={
                "sha": fresh["head"]["sha"],
                "merge_method": "squash",
                "commit_title": "Bump checkout",
            },
        )
        assert merged["merged"] is True
        head = await bot.getitem("/repos/acme/flags/commits/main")
        assert head["sha"] == merged["sha"] and head["commit"]["message"].startswith(
            "Bump checkout"
        )
        assert head["commit"]["author"]["name"] == "flagbot[bot]"


def test_pygithub_story(emulator: Emulator, github_url: str) -> None:
    def client(auth) -> Github:
        return Github(
            auth=auth,
            base_url=github_url,
            seconds_between_requests=None,
            seconds_between_writes=None,
            retry=None,
        )

    dev = client(Auth.Token("dev-token")).get_repo(REPO)
    mgr = client(Auth.Token("mgr-token")).get_repo(REPO)
    app_auth = Auth.AppAuth(APP_ID, app_private_key()).get_installation_auth(INSTALLATION_ID)
    bot = client(app_auth).get_repo(REPO)

    main = dev.get_branch("main")
    dev.create_git_ref("refs/heads/bump", main.commit.sha)
    current = dev.get_contents(FLAG, ref="bump")
    assert current.decoded_content.startswith(b"name: New checkout")
    dev.update_file(FLAG, "bump", "rollout: 25\n", current.sha, branch="bump")
    with pytest.raises(GithubException) as conflict:
        dev.update_file(FLAG, "again", "rollout: 50\n", current.sha, branch="bump")
    assert conflict.value.status == 409
    pr = dev.create_pull(title="Bump", body="to 25", head="bump", base="main")
    stale = pr.head.sha

    with pytest.raises(GithubException) as own:
        pr.create_review(event="APPROVE")
    assert own.value.status == 422
    mgr.get_pull(pr.number).create_review(event="APPROVE", body="ok")
    assert [
        (r.user.login, r.state, r.commit_id) for r in bot.get_pull(pr.number).get_reviews()
    ] == [("mgr", "APPROVED", stale)]
    assert [f.filename for f in bot.get_pull(pr.number).get_files()] == [FLAG]

    run = bot.create_check_run(
        name="flagbot",
        head_sha=stale,
        status="in_progress",
        output={"title": "Validating", "summary": "..."},
    )
    run.edit(
        conclusion="failure",
        output={
            "title": "Rejected",
            "summary": "bad",
            "annotations": [
                {
                    "path": FLAG,
                    "start_line": 1,
                    "end_line": 1,
                    "annotation_level": "failure",
                    "message": "bad",
                }
            ],
        },
    )
    assert [a.message for a in bot.get_check_run(run.id).get_annotations()] == ["bad"]

    dev.update_file(
        FLAG, "more", "rollout: 30\n", dev.get_contents(FLAG, ref="bump").sha, branch="bump"
    )
    with pytest.raises(GithubException) as refused:
        bot.get_pull(pr.number).merge(sha=stale, merge_method="merge")
    assert refused.value.status == 409
    fresh = bot.get_pull(pr.number)
    result = fresh.merge(sha=fresh.head.sha, merge_method="merge", commit_message="changes")
    assert result.merged
    assert bot.get_pull(pr.number).merged


def test_pygithub_multi_file_commit_and_history(emulator: Emulator, github_url: str) -> None:
    gh = Github(
        auth=Auth.Token("bot-token"),
        base_url=github_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
        retry=None,
    )
    repo = gh.get_repo(REPO)
    ref = repo.get_git_ref("heads/main")
    base = repo.get_git_commit(ref.object.sha)
    tree = repo.create_git_tree(
        [
            InputGitTreeElement(FLAG, "100644", "blob", content="rollout: 50\n"),
            InputGitTreeElement("flags/extra.yaml", "100644", "blob", content="name: extra\n"),
        ],
        base_tree=base.tree,
    )
    commit = repo.create_git_commit("bump two flags", tree, [base])
    ref.edit(commit.sha)
    with pytest.raises(GithubException) as not_ff:
        ref.edit(base.sha)
    assert not_ff.value.status == 422
    history = repo.get_commits(path=FLAG)
    assert [c.sha for c in history] == [commit.sha, base.sha]
    assert repo.get_contents("flags/extra.yaml").decoded_content == b"name: extra\n"
    assert gh.get_rate_limit().resources.core.remaining < 5000


def test_people_act_over_http_too(emulator: Emulator, github_url: str) -> None:
    from bot.emulator import ApiCallFailed
    from bot.emulator.people import Http, Person

    dev = Person(Http(github_url, "dev-token"), "dev")
    mgr = Person(Http(github_url, "mgr-token"), "mgr")
    pr = dev.propose(REPO, {"flags/a.yaml": "a: 1\n"}, branch="a", title="A")
    with pytest.raises(ApiCallFailed) as own:
        dev.approve(REPO, pr["number"])
    assert own.value.status == 422
    mgr.approve(REPO, pr["number"])
    assert mgr.merge(REPO, pr["number"], sha=pr["head"]["sha"])["merged"] is True
    assert (
        emulator.calls.count("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", login="mgr")
        == 1
    )

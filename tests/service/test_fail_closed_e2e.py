"""Issue #9 end to end (flagbot and the local GitHub over HTTP): no flag pull request merges
without the approvals its files need, whatever path it takes."""

import asyncio
import logging
from urllib.parse import urlsplit

import pytest

from bot.emulator.seeds import repository_files
from bot.sandbox import sandbox
from tests.service.conftest import FAST_RETRY, NEW_FLAG, REPO, ROOT, Harness, seed

FLAG = (ROOT / NEW_FLAG).read_text()


async def raw_post(url: str, head: bytes, body: bytes) -> tuple[int, bytes]:
    """One HTTP request written byte for byte, so a header can hold what no client library
    would send."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
        + head
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


async def test_a_non_ascii_signature_header_is_401_with_one_log_line(harness, caplog):
    body = b'{"action": "opened", "number": 1}'
    head = (
        b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: d-9\r\n"
        b"Content-Type: application/json\r\n"
        b"X-Hub-Signature-256: sha256=" + "é".encode() * 32 + b"\r\n"
    )
    with caplog.at_level(logging.INFO):
        status, answer = await raw_post(harness.bot_url, head, body)
    assert status == 401 and b"sha256=" in answer
    lines = [r for r in caplog.records if "refused a delivery" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert not any(r.exc_info for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# Pull requests an attacker with write access would open ------------------------------------


def commit_entries(h, branch: str, entries: list[dict], message: str) -> str:
    """Commit raw tree entries (any mode) on `branch` through the git data API, as `git push`
    of a symlink or a submodule would."""
    dev = h.person("dev")
    tip = dev.get(f"/repos/{REPO}/git/ref/heads/{branch}")["object"]["sha"]
    tree = dev.get(f"/repos/{REPO}/git/commits/{tip}")["tree"]["sha"]
    new_tree = dev.call("POST", f"/repos/{REPO}/git/trees", {"base_tree": tree, "tree": entries})
    commit = dev.call(
        "POST",
        f"/repos/{REPO}/git/commits",
        {"message": message, "tree": new_tree["sha"], "parents": [tip]},
    )
    dev.call("PATCH", f"/repos/{REPO}/git/refs/heads/{branch}", {"sha": commit["sha"]})
    return commit["sha"]


async def approve_all(h, number: int) -> None:
    for login in ("mgr", "qa", "oncall"):
        h.person(login).approve(REPO, number)
    await h.settle()


def seeded(files: dict[str, str]) -> dict:
    return seed({**repository_files(ROOT, without=(NEW_FLAG,)), **files})


@pytest.fixture
async def odd_files(aiohttp_server):
    """The repository with files in flags/ that are not valid flag locations."""
    extra = {
        "flags/_template.yaml": "name: Template\nenabled: false\n",
        "flags/archive/2024/old_flag.yaml": "name: Old\nenabled: false\n",
    }
    async with sandbox(seeded(extra), retry=FAST_RETRY) as stack:
        yield Harness(stack, None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["flags/_template.yaml", "flags/archive/2024/old_flag.yaml"])
async def test_deleting_an_invalid_location_file_is_never_merged(odd_files, path):
    h = odd_files
    n = h.open("dev", {path: None}, branch="drop", title="Drop an old file")
    await approve_all(h, n)
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["conclusion"] == "failure"
    assert f"removes {path}, which is not a valid flag location" in run["output"]["summary"]
    assert h.file_on_main(path) is not None


async def test_deleting_an_invalid_location_file_beside_a_valid_change_is_never_merged(
    odd_files,
):
    h = odd_files
    files = {"flags/_template.yaml": None, NEW_FLAG: FLAG}
    n = h.open("dev", files, branch="mixed", title="Create checkout flow")
    await approve_all(h, n)
    assert not h.pull(n)["merged"]
    assert "flags/_template.yaml" in h.check_run(n)["output"]["summary"]
    assert h.file_on_main(NEW_FLAG) is None


@pytest.mark.parametrize(
    ("entry", "kind", "mode"),
    [
        ({"mode": "120000", "type": "blob", "content": "../flags/legacy_search.yaml"}, "symlink",
         "120000"),
        ({"mode": "160000", "type": "commit", "sha": "5" * 40}, "submodule", "160000"),
    ],
)  # fmt: skip
async def test_symlinks_and_submodules_under_flags_are_never_merged(harness, entry, kind, mode):
    h = harness
    path = "flags/sneaky_link.yaml"
    h.person("dev").create_branch(REPO, "sneaky")
    commit_entries(h, "sneaky", [{"path": path, **entry}], f"Add a {kind}")
    n = int(h.person("dev").open_pr(REPO, head="sneaky", title=f"A {kind}")["number"])
    await h.settle()
    await approve_all(h, n)
    assert not h.pull(n)["merged"]
    run = h.check_run(n)
    assert run["conclusion"] == "failure"
    assert (
        f"{path} is a {kind} (mode {mode}): flags must be regular files"
        in (run["output"]["summary"])
    )


# Approvals count only while their author is in the team ------------------------------------


async def test_an_approval_stops_counting_when_its_author_leaves_the_team(harness):
    h = harness
    with h.emulator.lock:  # admin runs the organization
        h.emulator.state.org("acme").owners.add("admin")
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="leave", title="Create new checkout flow")
    await h.settle()
    h.person("mgr").approve(REPO, n)
    await h.settle()
    assert h.title(n) == "Waiting for QA validation"  # mgr's approval counts (and is cached)

    h.person("admin").call("DELETE", "/orgs/acme/teams/eng-managers/memberships/mgr")
    await h.settle()
    assert h.title(n) == "Waiting for manager approval"  # re-decided at once, not in a minute

    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"

    h.person("mgr2").approve(REPO, n)  # another owner in the role
    await h.settle()
    assert h.pull(n)["merged"]


async def test_a_pull_request_other_teams_own_is_not_re_decided(harness):
    h = harness
    path = "flags/staging/search_ranking_v2.yaml"
    text = (ROOT / path).read_text().replace("value: 0.5", "value: 0.6")
    n = h.open("dev", {path: text}, branch="staging", title="Blend more v2 ranking")
    await h.settle()
    with h.emulator.lock:
        h.emulator.state.org("acme").owners.add("admin")
    before = len(h.service.outcomes)
    h.person("admin").call("DELETE", "/orgs/acme/teams/oncall/memberships/oncall")
    await h.settle()
    assert [o.number for o in list(h.service.outcomes)[before:]] == []
    assert h.title(n) == "Waiting for manager approval"


async def test_a_merge_never_rests_on_a_cached_membership(harness):
    """mgr leaves the team and no webhook reaches this replica (another got it, or it was
    lost): the merge still asks GitHub again and does not count mgr."""
    h = harness
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="stale", title="Create new checkout flow")
    await h.settle()
    h.person("mgr").approve(REPO, n)
    await h.settle()
    assert h.title(n) == "Waiting for QA validation"  # mgr's membership is now cached
    with h.emulator.lock:  # removed without a webhook
        h.emulator.state.org("acme").teams["eng-managers"].members.discard("mgr")
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert not h.pull(n)["merged"]
    assert h.title(n) == "Waiting for manager approval"

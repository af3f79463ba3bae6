"""Routing `push` deliveries: what a moved branch asks of flagbot."""

from gidgethub.sansio import Event

from bot.service import events


def push(ref: str, modified: list[str]) -> Event:
    data = {
        "ref": ref,
        "repository": {"full_name": "acme/flags"},
        "installation": {"id": 7},
        "commits": [{"added": [], "modified": modified, "removed": []}],
    }
    return Event(data, event="push", delivery_id="d")


async def routed(event: Event) -> list:
    found: list = []
    await events.router.dispatch(event, found.append)
    return found


async def test_every_branch_push_refreshes_what_is_served():
    assert await routed(push("refs/heads/main", ["flags/a.yaml"])) == [
        events.Pushed("acme/flags", "main")
    ]


async def test_a_push_touching_the_policy_also_redecides_the_pull_requests_into_its_branch():
    assert await routed(push("refs/heads/main", [".github/CODEOWNERS"])) == [
        events.Pushed("acme/flags", "main"),
        events.BaseChanged("acme/flags", "main", 7),
    ]


async def test_a_tag_push_asks_nothing():
    assert await routed(push("refs/tags/v1", ["flags/a.yaml"])) == []

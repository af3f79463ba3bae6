"""Routing `membership` deliveries: which teams changed, and which pull requests that touches."""

import json

from bot.gh.pulls import RepoGateway
from bot.service import events
from bot.service.caches import Caches
from bot.service.intake import Accepted
from bot.service.routing import parse_event


async def route(payload: dict) -> list:
    body = json.dumps(payload).encode()
    found: list = []
    event = parse_event(Accepted("membership", "d-1", body, "application/json"))
    await events.router.dispatch(event, found.append)
    return found


def payload(team: dict, scope: str = "team") -> dict:
    return {
        "action": "removed",
        "scope": scope,
        "member": {"login": "mgr"},
        "team": team,
        "organization": {"login": "Acme"},
        "sender": {"login": "admin"},
        "installation": {"id": 7},
    }


async def test_a_child_teams_change_names_its_parent_too():
    [item] = await route(payload({"slug": "eng-managers", "parent": {"slug": "leads"}}))
    assert item == events.TeamChanged("Acme", ("@acme/eng-managers", "@acme/leads"), 7)
    assert item.concerns(frozenset({"@acme/leads", "@acme/qa"}))
    assert not item.concerns(frozenset({"@acme/qa"}))


async def test_a_deleted_team_concerns_every_team_of_the_org():
    [item] = await route(payload({"name": "Gone", "id": 3, "deleted": True}))
    assert item.teams == () and item.concerns(frozenset({"@acme/qa"}))
    assert not item.concerns(frozenset({"@other/qa"}))


async def test_other_scopes_are_ignored():
    assert await route(payload({"slug": "qa"}, scope="organization")) == []


def test_forgetting_an_orgs_memberships_keeps_other_orgs():
    caches = Caches()
    caches.memberships.update(  # team member lists, by team
        {"@acme/qa": frozenset({"qa"}), "@acme/leads": frozenset({"mgr"}), "@other/qa": {"qa"}}
    )
    RepoGateway(None, "acme/flags", "t", caches).forget_memberships("ACME")  # type: ignore[arg-type]
    assert dict(caches.memberships) == {"@other/qa": {"qa"}}

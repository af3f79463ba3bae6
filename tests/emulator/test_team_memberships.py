"""Adding and removing team members as GitHub does it, and the `membership` webhook that tells
the Apps allowed to read members (every payload is checked by the conformance plugin)."""

from __future__ import annotations

import pytest

from bot.emulator import ApiCallFailed, Emulator, teams
from bot.emulator.people import InProcess, Person
from tests.emulator_harness import APP_ID, seed_for

BASE = "/orgs/acme/teams"


def world(members_permission: str | None = "write", **org_extra) -> Emulator:
    seed = seed_for()
    seed["orgs"][0].update(org_extra)
    permissions = {"metadata": "read", "contents": "write", "pull_requests": "write"}
    if members_permission:
        permissions["members"] = members_permission
    seed["apps"][0]["permissions"] = permissions
    emulator = Emulator.from_seed(seed)
    emulator.add_webhook("http://127.0.0.1:9/hook", "s", app_id=APP_ID)
    return emulator


def memberships(emulator: Emulator) -> list[tuple[str, str, str]]:
    return [
        (d.action or "", d.payload["member"]["login"], d.payload["team"]["slug"])
        for d in emulator.webhooks.deliveries
        if d.event == "membership"
    ]


def test_adding_an_org_member_is_active_at_once_and_announced() -> None:
    emulator = world()
    app = emulator.as_app()
    body = app.call("PUT", f"{BASE}/qa/memberships/dev", {"role": "member"})
    assert (body["role"], body["state"]) == ("member", "active")
    assert app.get(f"{BASE}/qa/memberships/dev")["state"] == "active"
    [delivery] = [d for d in emulator.webhooks.deliveries if d.event == "membership"]
    assert delivery.payload["scope"] == "team" and "repository" not in delivery.payload
    assert delivery.payload["installation"]["id"] == delivery.installation_id
    assert memberships(emulator) == [("added", "dev", "qa")]
    # a role change is no new membership: nothing more is announced
    assert app.call("PUT", f"{BASE}/qa/memberships/dev", {"role": "maintainer"})["role"] == (
        "maintainer"
    )
    assert memberships(emulator) == [("added", "dev", "qa")]


def test_someone_outside_the_org_is_invited_and_pending_until_then() -> None:
    emulator = world()
    app = emulator.as_app()
    body = app.call("PUT", f"{BASE}/qa/memberships/outsider")
    assert (body["role"], body["state"]) == ("member", "pending")
    assert app.get(f"{BASE}/qa/memberships/outsider")["state"] == "pending"
    assert "outsider" not in [m["login"] for m in app.get(f"{BASE}/qa/members")]
    assert memberships(emulator) == []  # nobody joined yet
    app.call("DELETE", f"{BASE}/qa/memberships/outsider")  # withdrawing the invitation
    assert memberships(emulator) == []


def test_accepting_the_invitation_makes_a_pending_membership_active() -> None:
    emulator = world()
    app = emulator.as_app()
    app.call("PUT", f"{BASE}/qa/memberships/outsider")
    outsider = emulator.person("outsider")
    joined = outsider.call("PATCH", "/user/memberships/orgs/acme", {"state": "active"})
    assert joined["state"] == "active"
    assert app.get(f"{BASE}/qa/memberships/outsider")["state"] == "active"
    assert memberships(emulator) == [("added", "outsider", "qa")]
    with pytest.raises(ApiCallFailed) as nothing:  # no invitation to accept
        emulator.person("flagbot").call("PATCH", "/user/memberships/orgs/acme", {"state": "active"})
    assert nothing.value.status == 404


def test_removing_a_member_is_announced_and_then_404() -> None:
    emulator = world()
    app = emulator.as_app()
    app.call("DELETE", f"{BASE}/qa/memberships/qa")
    assert memberships(emulator) == [("removed", "qa", "qa")]
    for method in ("GET", "DELETE"):
        with pytest.raises(ApiCallFailed) as gone:
            app.call(method, f"{BASE}/qa/memberships/qa")
        assert gone.value.status == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [(f"{BASE}/nope/memberships/dev", 404), (f"{BASE}/qa/memberships/ghost", 404)],
)
def test_unknown_teams_and_users_are_404(path: str, status: int) -> None:
    with pytest.raises(ApiCallFailed) as refused:
        world().as_app().call("PUT", path, {"role": "member"})
    assert refused.value.status == status


def test_who_may_change_a_team() -> None:
    emulator = world(owners=["mgr"])
    with pytest.raises(ApiCallFailed) as member:  # an org member, neither owner nor maintainer
        emulator.person("dev").call("PUT", f"{BASE}/qa/memberships/dev")
    assert member.value.status == 403
    with pytest.raises(ApiCallFailed) as role:
        emulator.person("mgr").call("PUT", f"{BASE}/qa/memberships/dev", {"role": "owner"})
    assert role.value.status == 422
    assert emulator.person("mgr").call("PUT", f"{BASE}/qa/memberships/dev")["state"] == "active"
    reader = world(members_permission="read").as_app()
    with pytest.raises(ApiCallFailed) as read_only:
        reader.call("DELETE", f"{BASE}/qa/memberships/qa")
    assert read_only.value.status == 403


def test_only_apps_that_may_read_members_are_told() -> None:
    emulator = world(members_permission=None)
    with emulator.lock:  # an owner's change on github.com: the App cannot make it itself
        org = emulator.state.org("acme")
        sender = emulator.state.user("dev")
        teams.delete_membership(
            emulator.world, org, org.teams["qa"], emulator.state.user("qa"), sender
        )
    assert emulator.state.org("acme").team_membership("qa", "qa") is None
    assert memberships(emulator) == []


def test_an_org_owner_is_reported_as_maintainer() -> None:
    emulator = world(owners=["qa"])
    assert emulator.as_app().get(f"{BASE}/qa/memberships/qa")["role"] == "maintainer"


def test_an_organizations_delivery_is_listed_for_the_app() -> None:
    emulator = world()
    emulator.as_app().call("DELETE", f"{BASE}/qa/memberships/qa")
    app = Person(InProcess(emulator, token=emulator.app_jwt(APP_ID)), "flagbot")
    [listed] = app.get("/app/hook/deliveries")
    assert (listed["event"], listed["action"], listed["repository_id"]) == (
        "membership",
        "removed",
        None,
    )
    assert app.get(f"/app/hook/deliveries/{listed['id']}")["request"]["payload"]["scope"] == "team"

"""Organizations and teams: team memberships (active or pending; members of child teams count
as members of the parent), adding and removing them, and team member lists."""

from __future__ import annotations

from bot.emulator import teams
from bot.emulator.api.common import actor, ctx
from bot.emulator.api.pagination import paginated
from bot.emulator.api.router import Request, Response, Router, no_content, ok
from bot.emulator.auth import Actor
from bot.emulator.errors import ApiError, not_found, validation_failed
from bot.emulator.render.core import organization, organization_full, team, team_full, user_by_login
from bot.emulator.state import Org, Team
from bot.emulator.world import World


def _visible_org(world: World, req: Request) -> Org:
    return world.state.org(req.params["org"])


def _check_members_access(world: World, who: Actor, org: Org) -> None:
    """Team data needs org membership (users) or `members` permission (installations)."""
    if who.kind == "anonymous":
        raise ApiError(401, "Requires authentication")
    if who.kind == "app":
        raise ApiError(403, "Resource not accessible by integration")
    if who.kind == "installation":
        assert who.installation is not None and who.token is not None
        if who.installation.account.lower() != org.login.lower():
            raise not_found()
        if "members" not in who.token.permissions:
            raise ApiError(403, "Resource not accessible by integration")
        return
    assert who.user is not None
    if not org.is_member(who.user.login):
        raise not_found()


def _team(world: World, req: Request) -> tuple[Org, Team]:
    org = _visible_org(world, req)
    _check_members_access(world, actor(req), org)
    t = org.teams.get(req.params["team_slug"])
    if t is None:
        raise not_found()
    return org, t


def get_org(world: World, req: Request) -> Response:
    org = _visible_org(world, req)
    return ok(organization_full(ctx(world, req), org, actor(req).login))


def list_teams(world: World, req: Request) -> Response:
    org = _visible_org(world, req)
    _check_members_access(world, actor(req), org)
    c = ctx(world, req)
    return paginated(req, sorted(org.teams.values(), key=lambda t: t.id), lambda t: team(c, t))


def get_team(world: World, req: Request) -> Response:
    _, t = _team(world, req)
    return ok(team_full(ctx(world, req), t))


def team_membership(world: World, req: Request) -> Response:
    org, t = _team(world, req)
    login = req.params["username"]
    if login.lower() not in world.state.users:
        raise not_found()
    user = world.state.users[login.lower()]
    found = org.team_membership(t.slug, user.login)
    if found is None:
        raise not_found()
    role, state = found
    if user.login.lower() in {o.lower() for o in org.owners}:
        role = "maintainer"  # "The role for organization owners is set to maintainer."
    return ok(_membership_body(world, req, org, t, user.login, role, state))


def _membership_body(
    world: World, req: Request, org: Org, t: Team, login: str, role: str, state: str
) -> dict:
    url = ctx(world, req).api(f"/organizations/{org.account.id}/team/{t.id}/memberships/{login}")
    return {"url": url, "role": role, "state": state}


def _check_team_admin(who: Actor, org: Org, t: Team) -> None:
    """Changing a team takes an organization owner or one of its maintainers (users), or the
    members permission with write access (installations)."""
    if who.kind == "installation":
        assert who.token is not None
        if who.token.permissions.get("members") != "write":
            raise ApiError(403, "Resource not accessible by integration")
        return
    assert who.user is not None
    login = who.user.login.lower()
    if login in {o.lower() for o in org.owners} or login in {m.lower() for m in t.maintainers}:
        return
    raise ApiError(
        403, "You must be an organization owner or team maintainer to change team memberships"
    )


def put_team_membership(world: World, req: Request) -> Response:
    org, t = _team(world, req)
    who = actor(req)
    _check_team_admin(who, org, t)
    member = world.state.user(req.params["username"])
    if member.type == "Organization":
        raise ApiError(422, "Organizations cannot be added to a team")
    role = req.json_object().get("role", "member")
    sender = who.user
    assert sender is not None
    role, state = teams.put_membership(world, org, t, member, role, sender)
    return ok(_membership_body(world, req, org, t, member.login, role, state))


def delete_team_membership(world: World, req: Request) -> Response:
    org, t = _team(world, req)
    who = actor(req)
    _check_team_admin(who, org, t)
    member = world.state.user(req.params["username"])
    assert who.user is not None
    teams.delete_membership(world, org, t, member, who.user)
    return no_content()


def team_members(world: World, req: Request) -> Response:
    org, t = _team(world, req)
    role = req.query.get("role", "all")
    if role not in ("all", "member", "maintainer"):
        raise ApiError(422, "role must be one of all, member or maintainer")
    members = org.team_members(t.slug)
    logins = sorted((m for m, r in members.items() if role == "all" or r == role), key=str.lower)
    c = ctx(world, req)
    return paginated(req, logins, lambda login: user_by_login(c, login))


def team_member(world: World, req: Request) -> Response:
    """The legacy check (`{team url}/members/{username}`, as PyGithub's `has_in_members` calls
    it): 204 for an active member, child teams included, else 404."""
    org, t = _team(world, req)
    if req.params["username"].lower() in {m.lower() for m in org.team_members(t.slug)}:
        return no_content()
    raise not_found()


def org_member(world: World, req: Request) -> Response:
    org = _visible_org(world, req)
    _check_members_access(world, actor(req), org)
    if org.is_member(req.params["username"]):
        return no_content()
    raise not_found()


def org_membership(world: World, req: Request) -> Response:
    org = _visible_org(world, req)
    _check_members_access(world, actor(req), org)
    login = req.params["username"]
    if not org.is_member(login):
        raise not_found()
    return ok(_org_membership_body(world, req, org, login))


def accept_org_invitation(world: World, req: Request) -> Response:
    """`PATCH /user/memberships/orgs/{org}` with `{"state": "active"}`: the signed-in user
    accepts the organization's invitation, and their pending team memberships start."""
    who = actor(req)
    if who.kind != "user" or who.user is None:
        raise ApiError(403, "Resource not accessible by integration")
    org = world.state.org(req.params["org"])
    if req.json_object().get("state") != "active":
        raise validation_failed("Membership", "state", "invalid")
    if not org.is_member(who.user.login):
        teams.accept_invitation(world, org, who.user)
    return ok(_org_membership_body(world, req, org, who.user.login))


def _org_membership_body(world: World, req: Request, org: Org, login: str) -> dict:
    c = ctx(world, req)
    return {
        "url": c.api(f"/orgs/{org.login}/memberships/{login}"),
        "state": "active",
        "role": "admin" if login in org.owners else "member",
        "organization_url": c.api(f"/orgs/{org.login}"),
        "organization": organization(c, org),
        "user": user_by_login(c, login),
    }


def register(router: Router) -> None:
    o = "/orgs/{org}"
    t = o + "/teams/{team_slug}"
    router.add("GET", o, get_org)
    router.add("GET", o + "/teams", list_teams)
    router.add("GET", t, get_team)
    router.add("GET", t + "/memberships/{username}", team_membership)
    router.add("PUT", t + "/memberships/{username}", put_team_membership)
    router.add("DELETE", t + "/memberships/{username}", delete_team_membership)
    router.add("GET", t + "/members", team_members)
    router.add("GET", t + "/members/{username}", team_member)
    router.add("GET", o + "/members/{username}", org_member)
    router.add("GET", o + "/memberships/{username}", org_membership)
    router.add("PATCH", "/user/memberships/orgs/{org}", accept_org_invitation)

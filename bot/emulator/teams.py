"""Team memberships as GitHub changes them: add or update (`PUT`), remove (`DELETE`), and the
`membership` webhook each active change sends to the Apps that may read members.

A user who already belongs to the organization joins at once (`active`); anyone else is
invited and stays `pending`, which counts for nothing, until they join the organization. Only
an active membership's start or end is announced, as GitHub does.
"""

from __future__ import annotations

from typing import Literal

from bot.emulator.errors import ApiError, not_found
from bot.emulator.render import hooks
from bot.emulator.state import Org, Team, User
from bot.emulator.world import World

TeamRole = Literal["member", "maintainer"]


def _emit(world: World, org: Org, team: Team, action: str, member: User, sender: User) -> None:
    world.emit_org(
        "membership",
        action,
        org.login,
        lambda ctx: hooks.membership(ctx, org, team, action, member, sender),
    )


def _direct(team: Team, login: str) -> str | None:
    """The login as the team's own sets spell it (memberships through child teams aside)."""
    for name in (*team.maintainers, *team.members, *team.pending):
        if name.lower() == login.lower():
            return name
    return None


def put_membership(
    world: World, org: Org, team: Team, member: User, role: str, sender: User
) -> tuple[str, str]:
    """Add `member` to `team` or change their role: (role, state) afterwards."""
    if role not in ("member", "maintainer"):
        raise ApiError(422, "role must be member or maintainer")
    known = _direct(team, member.login)
    was_active = known is not None and known not in team.pending
    for group in (team.members, team.maintainers, team.pending):
        group.discard(known or member.login)
    if not was_active and not org.is_member(member.login):
        team.pending.add(member.login)
        return "member", "pending"
    (team.maintainers if role == "maintainer" else team.members).add(member.login)
    if not was_active:
        _emit(world, org, team, "added", member, sender)
    return role, "active"


def delete_membership(world: World, org: Org, team: Team, member: User, sender: User) -> None:
    """Remove `member`'s own membership of `team` (404 when they have none)."""
    known = _direct(team, member.login)
    if known is None:
        raise not_found()
    was_active = known not in team.pending
    for group in (team.members, team.maintainers, team.pending):
        group.discard(known)
    if was_active:
        _emit(world, org, team, "removed", member, sender)


def accept_invitation(world: World, org: Org, member: User) -> None:
    """The invited user joins the organization: each team that was waiting for them now has
    them as an active member (announced); 404 when nothing was pending."""
    waiting = [t for t in org.teams.values() if _direct(t, member.login) in t.pending]
    if not waiting:
        raise not_found()
    org.members.add(member.login)
    for team in waiting:
        team.pending.discard(_direct(team, member.login) or member.login)
        team.members.add(member.login)
        _emit(world, org, team, "added", member, member)

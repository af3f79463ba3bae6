"""Small helpers the route modules share: finding the repository, the caller, a ref."""

from __future__ import annotations

from bot.emulator import auth
from bot.emulator.api.router import Request
from bot.emulator.auth import ANONYMOUS, Actor
from bot.emulator.errors import ApiError
from bot.emulator.render.core import Ctx
from bot.emulator.state import Repo, User
from bot.emulator.world import World


def ctx(world: World, req: Request) -> Ctx:
    return world.ctx(req.base)


def actor(req: Request) -> Actor:
    return req.actor or ANONYMOUS


def readable_repo(world: World, req: Request, permission: str = "metadata") -> Repo:
    """The `{owner}/{repo}` of the path, if the caller may read it (404 otherwise)."""
    repo = world.state.repo(req.params["owner"], req.params["repo"])
    auth.require_read(world.state, actor(req), repo, permission)
    return repo


def writable_repo(
    world: World, req: Request, permission: str, level: auth.Level = "write", *, hide: bool = False
) -> tuple[Repo, User]:
    """The repository and the acting account, if the caller may write `permission`."""
    repo = world.state.repo(req.params["owner"], req.params["repo"])
    who = actor(req)
    auth.require(world.state, who, repo, level, permission, hide=hide)
    assert who.user is not None
    return repo, who.user


def commit_for(repo: Repo, ref: str) -> str:
    sha = repo.git.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def ref_or_default(repo: Repo, ref: str | None) -> str:
    """A commit for `?ref=` (default: the default branch); 404 like the contents API."""
    name = ref or repo.default_branch
    sha = repo.git.resolve(name)
    if sha is None:
        raise ApiError(404, f"No commit found for the ref {name}")
    return sha

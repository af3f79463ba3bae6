"""Who is calling, and what they may do.

Identities: a user's personal token (`Authorization: token …` or `Bearer …`), a GitHub App's
RS256 JWT (`Bearer <jwt>`, verified with the app's public key), an installation token minted
from such a JWT (acts as `<slug>[bot]` with the installation's permissions), or nobody.
Permission answers follow GitHub: unknown token → 401 "Bad credentials"; a private repository
the caller cannot see → 404; seeing but not writing → 403; an installation lacking a
permission → 403 "Resource not accessible by integration".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jwt

from bot.emulator.errors import ApiError, not_found
from bot.emulator.state import ROLE_RANK, App, Installation, InstallationToken, Repo, State, User

INSTALLATION_TOKEN_SECONDS = 3600
JWT_MAX_LIFETIME = 600
CLOCK_SKEW = 60

# What a new installation may do unless the seed says otherwise.
DEFAULT_APP_PERMISSIONS = {
    "metadata": "read",
    "contents": "write",
    "pull_requests": "write",
    "checks": "write",
    "statuses": "write",
    "issues": "write",
    "members": "read",
}

Level = Literal["read", "triage", "write", "maintain", "admin"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: Literal["user", "installation", "app", "anonymous"]
    user: User | None = None  # the acting account (an installation acts as its bot user)
    app: App | None = None
    installation: Installation | None = None
    token: InstallationToken | None = None

    @property
    def login(self) -> str | None:
        return self.user.login if self.user else None

    @property
    def budget_key(self) -> str:
        """Whose rate-limit budget a call is charged to."""
        if self.kind == "installation" and self.installation:
            return f"installation:{self.installation.id}"
        if self.kind == "app" and self.app:
            return f"app:{self.app.id}"
        if self.user:
            return f"user:{self.user.login.lower()}"
        return "anonymous"


ANONYMOUS = Actor("anonymous")


def bad_credentials() -> ApiError:
    return ApiError(401, "Bad credentials", documentation_url="https://docs.github.com/rest")


def parse_authorization(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not value.strip():
        raise bad_credentials()
    return value.strip()


def identify(state: State, header: str | None, now: Callable[[], float] = time.time) -> Actor:
    token = parse_authorization(header)
    if token is None:
        return ANONYMOUS
    login = state.tokens.get(token)
    if login is not None:
        return Actor("user", state.users[login])
    inst_token = state.installation_tokens.get(token)
    if inst_token is not None:
        if inst_token.expires_at <= now():
            raise bad_credentials()
        inst = state.installation(inst_token.installation_id)
        app = state.app(inst.app_id)
        return Actor("installation", app.bot, app, inst, inst_token)
    if token.count(".") == 2:
        app = verify_app_jwt(state, token, now)
        return Actor("app", app.bot, app)
    raise bad_credentials()


def verify_app_jwt(state: State, token: str, now: Callable[[], float] = time.time) -> App:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        app = state.apps[int(claims["iss"])]
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise ApiError(401, "A JSON web token could not be decoded") from None
    try:
        claims = jwt.decode(
            token,
            app.public_key,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_iat": False, "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise ApiError(401, "A JSON web token could not be decoded") from None
    current = now()
    if claims["exp"] <= current - CLOCK_SKEW:
        raise ApiError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        )
    if claims["exp"] - max(claims["iat"], current - CLOCK_SKEW) > JWT_MAX_LIFETIME + CLOCK_SKEW:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    if claims["iat"] > current + CLOCK_SKEW:
        raise ApiError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued",
        )
    return app


def mint_installation_token(
    state: State,
    inst: Installation,
    permissions: dict[str, str] | None = None,
    now: Callable[[], float] = time.time,
) -> InstallationToken:
    granted = dict(inst.permissions)
    if permissions:
        for name, level in permissions.items():
            have = granted.get(name)
            if have is None or (have == "read" and level != "read"):
                raise ApiError(
                    422,
                    "The permissions requested are not granted to this installation.",
                )
        granted = dict(permissions)
    token = InstallationToken(
        token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
        installation_id=inst.id,
        expires_at=now() + INSTALLATION_TOKEN_SECONDS,
        permissions=granted,
    )
    state.installation_tokens[token.token] = token
    return token


# --- authorization ----------------------------------------------------------------------
def can_see(state: State, actor: Actor, repo: Repo) -> bool:
    if not repo.private:
        return True
    if actor.kind == "installation":
        return bool(actor.installation and actor.installation.covers(repo))
    if actor.kind == "user" and actor.user:
        return state.role(repo, actor.user.login) != "none"
    return False


def require_read(state: State, actor: Actor, repo: Repo, permission: str = "metadata") -> None:
    if not can_see(state, actor, repo):
        raise not_found()
    if actor.kind == "installation":
        _require_installation(actor, repo, permission, "read")
    elif actor.kind == "app":
        raise ApiError(403, "Resource not accessible by integration")


def require(
    state: State,
    actor: Actor,
    repo: Repo,
    level: Level,
    permission: str,
    *,
    write: bool = True,
    hide: bool = False,
) -> None:
    """Refuse unless `actor` holds `level` on `repo` (users) or `permission` (installations).

    `hide`: answer a user who can see but not write with 404, as GitHub does for the contents
    and git data endpoints; otherwise 403.
    """
    if actor.kind == "anonymous":
        if repo.private or hide:
            raise not_found()
        raise ApiError(401, "Requires authentication")
    if not can_see(state, actor, repo):
        raise not_found()
    if actor.kind == "app":
        raise ApiError(403, "Resource not accessible by integration")
    if actor.kind == "installation":
        _require_installation(actor, repo, permission, "write" if write else "read")
        return
    assert actor.user is not None
    role = state.role(repo, actor.user.login)
    if ROLE_RANK[role] < ROLE_RANK[level]:
        if hide:
            raise not_found()
        if level in ("admin", "maintain"):
            raise ApiError(403, "Must have admin rights to Repository.")
        raise ApiError(403, "Must have push access to repository.")


def _require_installation(actor: Actor, repo: Repo, permission: str, level: str) -> None:
    assert actor.installation is not None and actor.token is not None
    if not actor.installation.covers(repo):
        raise not_found()
    if permission == "metadata":
        return
    have = actor.token.permissions.get(permission)
    if have is None or (level == "write" and have == "read"):
        raise ApiError(403, "Resource not accessible by integration")


def require_app(actor: Actor) -> App:
    if actor.kind != "app" or actor.app is None:
        raise ApiError(
            401,
            "A JSON web token could not be decoded",
            documentation_url="https://docs.github.com/rest",
        )
    return actor.app

"""Who may read which exported flags: the read tokens of `FLAGBOT_READ_TOKENS`.

The variable lists `TOKEN=OWNER/REPO[/ENV]` entries, separated by commas, spaces or new
lines. A token with an environment reads only that environment's flags; one without reads
every environment of the repository. One scope per token: give each application its own.

Applications present the token as `Authorization: Bearer TOKEN` (flagd's `authHeader`) or as
the bare header value (what Unleash SDKs send). Tokens are compared in constant time against
every configured token, never logged, and must be at least `MIN_LENGTH` characters so they
cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

MIN_LENGTH = 16
ENV_VAR = "FLAGBOT_READ_TOKENS"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_SCOPE = re.compile(rf"({_NAME})/({_NAME})(?:/({_NAME}))?")


class TokenConfigError(ValueError):
    """`FLAGBOT_READ_TOKENS` is malformed; the message names the entry (never the token)."""


@dataclass(frozen=True, slots=True)
class Scope:
    repo: str  # owner/name
    environment: str | None  # None: every environment of the repository

    def allows(self, repo: str, environment: str) -> bool:
        return self.repo.casefold() == repo.casefold() and self.environment in (None, environment)


@dataclass(frozen=True, slots=True)
class Grant:
    """The outcome of presenting a token: 401 (none or unknown), 403 (out of scope), or ok."""

    status: Literal[200, 401, 403]
    scope: Scope | None = None


@dataclass(frozen=True, slots=True)
class ReadTokens:
    _digests: tuple[tuple[bytes, Scope], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ReadTokens:
        entries: list[tuple[bytes, Scope]] = []
        seen: set[bytes] = set()
        for n, entry in enumerate(e for e in re.split(r"[,\s]+", text) if e):
            where = f"{ENV_VAR} entry {n + 1}"
            token, sep, scope_text = entry.partition("=")
            if not sep:
                raise TokenConfigError(f"{where}: write TOKEN=OWNER/REPO or TOKEN=OWNER/REPO/ENV")
            match = _SCOPE.fullmatch(scope_text)
            if match is None:
                raise TokenConfigError(
                    f"{where}: scope {scope_text!r} is not OWNER/REPO or OWNER/REPO/ENV"
                )
            if len(token) < MIN_LENGTH:
                raise TokenConfigError(
                    f"{where}: the token is shorter than {MIN_LENGTH} characters; use a long "
                    "random one (e.g. `openssl rand -hex 24`)"
                )
            digest = _digest(token)
            if digest in seen:
                raise TokenConfigError(f"{where}: the same token is listed twice; one scope each")
            seen.add(digest)
            owner, name, env = match.groups()
            entries.append((digest, Scope(f"{owner}/{name}", env)))
        return cls(tuple(entries))

    def __bool__(self) -> bool:
        return bool(self._digests)

    def scope_of(self, authorization: str | None) -> Scope | None:
        """The scope of the presented token, or None. Every configured token is compared
        (digests, `hmac.compare_digest`), so timing says nothing about which one is close."""
        token = _presented(authorization)
        if not token:
            return None
        given = _digest(token)
        found: Scope | None = None
        for digest, scope in self._digests:
            if hmac.compare_digest(given, digest):
                found = scope
        return found

    def grant(self, authorization: str | None, repo: str, environment: str) -> Grant:
        """May this header read `repo`'s `environment`? 401: no or unknown token; 403: a
        known token scoped elsewhere."""
        scope = self.scope_of(authorization)
        if scope is None:
            return Grant(401)
        return Grant(200, scope) if scope.allows(repo, environment) else Grant(403, scope)


def _presented(authorization: str | None) -> str:
    value = (authorization or "").strip()
    scheme, _, rest = value.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else value


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()

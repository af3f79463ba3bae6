"""`flagbot serve` answers applications: the flags of a repository's default branch as flagd
and Unleash read them.

- `GET /flags/<owner>/<repo>/<env>.flagd.json` (flagd's HTTP sync; `.unleash.json` too)
- `GET /api/client/features` (Unleash SDKs: the token says which repository and environment;
  their `POST /api/client/register` and `/api/client/metrics` are acknowledged and dropped)

Read access is by the tokens of `FLAGBOT_READ_TOKENS` (`bot.exports.access`), checked before
GitHub is asked anything. The flags are read through the App installation, so private
repositories need no personal token. The default branch's head is checked with a conditional
request at most every `FRESHNESS` seconds, and at once after a push webhook for the
repository; each commit's files are read once (blobs by id, cached), each document built once
per commit. Responses carry a content ETag and answer `If-None-Match` with 304.

When the head holds a flag file that cannot be exported, the last good document is served
(the problem is logged), so applications keep working while someone fixes the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from cachetools import LRUCache

from bot.exports import TARGETS, encode, export
from bot.exports.access import Grant
from bot.exports.flagset import FlagSet
from bot.flags.filemode import tree_problems
from bot.flags.location import FLAGS_DIR, is_flag_path
from bot.gh.errors import NotOurs
from bot.gh.heads import branch_head, default_branch, files_at, odd_modes
from bot.policy.config import POLICY_PATH

if TYPE_CHECKING:
    from bot.service.app import Service

log = logging.getLogger("flagbot.exports")

FRESHNESS = 5.0  # seconds a default branch head is trusted without asking GitHub again
_SUFFIXES = {module.SUFFIX: target for target, module in TARGETS.items()}


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    etag: str
    commit: str


def _read_by_flagbot(path: str) -> bool:
    return is_flag_path(path) or path == POLICY_PATH


class ExportServer:
    """Builds and caches the documents; the routes below only authorize and answer."""

    def __init__(
        self,
        service: Service,
        *,
        freshness: float = FRESHNESS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.tokens = service.config.read_tokens
        self.freshness = freshness
        self.clock = clock
        self.heads: dict[str, tuple[str, float]] = {}  # repo -> (head sha, checked at)
        self.branches: dict[str, str] = {}  # repo -> default branch
        self.flagsets: LRUCache[tuple[str, str], FlagSet] = LRUCache(maxsize=64)
        self.bodies: LRUCache[tuple[str, str, str, str], Body] = LRUCache(maxsize=512)
        self.last_good: dict[tuple[str, str, str], Body] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def invalidate(self, repo: str) -> None:
        """A push landed: the next request asks GitHub for the head."""
        self.heads.pop(repo.casefold(), None)

    async def _head(self, repo: str) -> str:
        key = repo.casefold()
        known = self.heads.get(key)
        if known and self.clock() - known[1] < self.freshness:
            return known[0]
        gw = await self.service.gateway_for(repo, None)
        if key not in self.branches:
            self.branches[key] = await default_branch(gw)
        sha = await branch_head(gw, self.branches[key])
        self.heads[key] = (sha, self.clock())
        return sha

    async def flagset(self, repo: str) -> FlagSet:
        """The flags at the default branch's head (one build per commit)."""
        lock = self._locks.setdefault(repo.casefold(), asyncio.Lock())
        async with lock:  # a burst of polls asks GitHub once
            head = await self._head(repo)
            cached = self.flagsets.get((repo.casefold(), head))
            if cached is not None:
                return cached
            gw = await self.service.gateway_for(repo, None)
            odd = await odd_modes(gw, head, FLAGS_DIR)  # symlinks, submodules: refused
            snapshot = await files_at(gw, head, _read_by_flagbot, skip=odd)
            flagset = FlagSet.from_snapshot(
                snapshot, repo=repo, commit=head, not_regular=tree_problems(odd)
            )
            self.flagsets[(repo.casefold(), head)] = flagset
            return flagset

    async def body(self, repo: str, target: str, environment: str) -> Body | None:
        """The document's bytes for the head, or the last good one when the head's files
        cannot be exported or GitHub cannot be read; None when the environment has no flags
        at all."""
        good = (repo.casefold(), target, environment)
        try:
            flagset = await self.flagset(repo)
        except NotOurs:
            raise
        except Exception:
            if good not in self.last_good:
                raise
            log.exception("could not read %s; serving its last good %s file", repo, target)
            return self.last_good[good]
        key = (repo.casefold(), flagset.commit or "", target, environment)
        cached = self.bodies.get(key)
        if cached is not None:
            return cached
        if environment not in flagset.environments and environment != (flagset.default_environment):
            return None
        result = export(flagset, target, environment)
        if result.document is None:
            shown = "; ".join(str(d) for d in result.problems[:5])
            log.error("cannot export %s %s:%s at %s: %s", target, repo, environment,
                      flagset.commit, shown)  # fmt: skip
            fallback = self.last_good.get(good)
            if fallback is not None:  # until the next commit: logged once, not per poll
                self.bodies[key] = fallback
            return fallback
        data = encode(result.document)
        body = Body(data, f'"{hashlib.sha256(data).hexdigest()[:32]}"', flagset.commit or "")
        self.bodies[key] = body
        self.last_good[good] = body
        return body


def _refused(grant: Grant) -> web.Response:
    if grant.status == 401:
        return web.json_response(
            {"error": "a read token is required: Authorization: Bearer <token>"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="flagbot"'},
        )
    return web.json_response({"error": "this token may not read these flags"}, status=403)


async def _answer(
    request: web.Request, server: ExportServer, repo: str, target: str, environment: str
) -> web.Response:
    try:
        body = await server.body(repo, target, environment)
    except NotOurs as exc:
        return web.json_response({"error": f"flagbot cannot read {repo}: {exc}"}, status=404)
    except Exception:
        log.exception("could not read the flags of %s", repo)
        return web.json_response({"error": "GitHub could not be read; try again"}, status=502)
    if body is None:
        return web.json_response(
            {"error": f"{repo} has no flags for environment {environment!r}, or they are "
                      "invalid and were never exported"},
            status=404,
        )  # fmt: skip
    headers = {"ETag": body.etag, "Cache-Control": "no-cache", "X-Flagbot-Commit": body.commit}
    if body.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body.data, content_type="application/json", headers=headers)


EXPORTS = web.AppKey("flagbot-exports", ExportServer)


def register(app: web.Application, service: Service) -> None:
    """Add the export routes and the push refresh to `flagbot serve`'s application."""
    server = ExportServer(service)
    app[EXPORTS] = server

    async def flag_file(request: web.Request) -> web.Response:
        owner, name, filename = (request.match_info[k] for k in ("owner", "repo", "file"))
        suffix = next((s for s in _SUFFIXES if filename.endswith(s)), None)
        if suffix is None or filename == suffix:
            raise web.HTTPNotFound()
        repo, environment = f"{owner}/{name}", filename.removesuffix(suffix)
        grant = server.tokens.grant(request.headers.get("Authorization"), repo, environment)
        if grant.status != 200:
            return _refused(grant)
        return await _answer(request, server, repo, _SUFFIXES[suffix], environment)

    async def unleash_features(request: web.Request) -> web.Response:
        scope = server.tokens.scope_of(request.headers.get("Authorization"))
        if scope is None:
            return _refused(Grant(401))
        environment = scope.environment
        if environment is None:  # a repository-wide token reads the default environment
            try:
                environment = (await server.flagset(scope.repo)).default_environment
            except Exception:
                log.exception("could not read the flags of %s", scope.repo)
                return web.json_response({"error": "GitHub could not be read"}, status=502)
        return await _answer(request, server, scope.repo, "unleash", environment)

    async def unleash_report(request: web.Request) -> web.Response:
        """SDKs register and send metrics unless told not to: acknowledged, not kept, so an
        SDK with its default settings runs quietly against flagbot."""
        if server.tokens.scope_of(request.headers.get("Authorization")) is None:
            return _refused(Grant(401))
        return web.Response(status=202)

    app.router.add_get("/flags/{owner}/{repo}/{file}", flag_file)
    app.router.add_get("/api/client/features", unleash_features)
    app.router.add_post("/api/client/register", unleash_report)
    app.router.add_post("/api/client/metrics", unleash_report)
    service.push_listeners.append(lambda repo, branch: server.invalidate(repo))

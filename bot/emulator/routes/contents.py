"""The contents API: read a file or directory at a ref; create, update or delete a file as one
commit, compare-and-swap on the file's blob `sha` (stale → 409, missing on an existing file →
422), honouring `author`/`committer` with `date`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.emulator.api.common import ctx, readable_repo, ref_or_default, writable_repo
from bot.emulator.api.router import Request, Response, Router, ok
from bot.emulator.errors import ApiError, not_found
from bot.emulator.git import MODE_TREE
from bot.emulator.pushes import push, signature
from bot.emulator.render import git
from bot.emulator.state import Repo, User
from bot.emulator.world import World


def _missing(name: str) -> ApiError:
    return ApiError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.')


def get_contents(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    path = req.params.get("path", "").strip("/")
    ref = req.query.get("ref") or repo.default_branch
    sha = ref_or_default(repo, ref)
    entry = repo.git.entry(sha, path)
    if entry is None:
        raise not_found()
    c = ctx(world, req)
    if entry.mode == MODE_TREE:
        items = [
            git.content_item(c, repo, f"{path}/{e.name}" if path else e.name, ref, e.mode, e.sha)
            for e in repo.git.store.tree(entry.sha)
            if e.type != "commit"
        ]
        return ok(items)
    return ok(git.content_file(c, repo, path, ref, entry.mode, entry.sha))


def _target(repo: Repo, body: dict[str, Any]) -> tuple[str, str]:
    branch = body.get("branch") or repo.default_branch
    if not isinstance(branch, str):
        raise ApiError(422, "Invalid request.\n\nbranch is not a string.")
    tip = repo.git.branch(branch)
    if tip is None:
        if not repo.git.refs and branch == repo.default_branch:
            return branch, ""
        raise ApiError(404, f"Branch {branch} not found")
    return branch, tip


def _signatures(world: World, who: User, body: dict[str, Any]):
    for key in ("author", "committer"):
        if key in body and not isinstance(body[key], dict):
            raise ApiError(422, f"Invalid request.\n\n{key} is not an object.")
    committer = signature(world, who, body.get("committer"), "committer")
    author = signature(world, who, body.get("author") or body.get("committer"), "author")
    return author, committer


def put_contents(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    path = req.params["path"].strip("/")
    body = req.json_object()
    message = body.get("message")
    if not isinstance(message, str) or not message:
        raise _missing("message")
    if not isinstance(body.get("content"), str):
        raise _missing("content")
    try:
        content = base64.b64decode("".join(body["content"].split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "content is not valid Base64") from None
    branch, tip = _target(repo, body)
    entry = repo.git.entry(tip, path) if tip else None
    given_sha = body.get("sha")
    if entry is not None and entry.mode == MODE_TREE:
        raise ApiError(422, f"{path} is a directory")
    if entry is not None and not given_sha:
        raise _missing("sha")
    if given_sha and (entry is None or entry.sha != given_sha):
        raise ApiError(409, f"{path} does not match {given_sha}")
    author, committer = _signatures(world, who, body)
    new = repo.git.commit_changes(tip or None, {path: content}, message, author, committer)
    push(world, repo, f"refs/heads/{branch}", new, who)
    c = ctx(world, req)
    item = repo.git.entry(new, path)
    assert item is not None
    return ok(
        {
            "content": git.content_item(c, repo, path, branch, item.mode, item.sha),
            "commit": git.git_commit(c, repo, new),
        },
        201 if entry is None else 200,
    )


def delete_contents(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    path = req.params["path"].strip("/")
    body = req.json_object()
    message = body.get("message")
    if not isinstance(message, str) or not message:
        raise _missing("message")
    given_sha = body.get("sha")
    if not given_sha:
        raise _missing("sha")
    branch, tip = _target(repo, body)
    entry = repo.git.entry(tip, path) if tip else None
    if entry is None or entry.mode == MODE_TREE:
        raise not_found()
    if entry.sha != given_sha:
        raise ApiError(409, f"{path} does not match {given_sha}")
    author, committer = _signatures(world, who, body)
    new = repo.git.commit_changes(tip, {path: None}, message, author, committer)
    push(world, repo, f"refs/heads/{branch}", new, who)
    return ok({"content": None, "commit": git.git_commit(ctx(world, req), repo, new)})


def register(router: Router) -> None:
    r = "/repos/{owner}/{repo}/contents"
    router.add("GET", r, get_contents)
    router.add("GET", r + "/{path}", get_contents)
    router.add("PUT", r + "/{path}", put_contents)
    router.add("DELETE", r + "/{path}", delete_contents)

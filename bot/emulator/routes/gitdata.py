"""The git data API: blobs, trees (with `base_tree`, inline `content`, `sha: null` deletes),
commits, and refs (fast-forward-only updates unless `force`: the compare-and-swap that
multi-file commits rely on)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.emulator.api.common import ctx, readable_repo, writable_repo
from bot.emulator.api.router import Request, Response, Router, created, no_content, ok
from bot.emulator.errors import ApiError, not_found, validation_failed
from bot.emulator.git import MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK, MODE_TREE
from bot.emulator.git.objects import MODE_SUBMODULE
from bot.emulator.git.trees import Edit
from bot.emulator.pushes import push, signature
from bot.emulator.render import git
from bot.emulator.state import Repo
from bot.emulator.world import World

TREE_MODES = {MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK, MODE_TREE, MODE_SUBMODULE}


def create_blob(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "contents", hide=True)
    body = req.json_object()
    content = body.get("content")
    encoding = body.get("encoding", "utf-8")
    if not isinstance(content, str):
        raise validation_failed("Blob", "content", "missing_field")
    if encoding in ("utf-8", "utf8"):
        data = content.encode()
    elif encoding == "base64":
        try:
            data = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "content is not valid Base64") from None
    else:
        raise ApiError(422, f"encoding must be utf-8 or base64, not {encoding}")
    sha = repo.git.store.put_blob(data)
    return created(
        {"url": ctx(world, req).api(f"/repos/{repo.full_name}/git/blobs/{sha}"), "sha": sha}
    )


def get_blob(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    sha = req.params["file_sha"]
    if sha not in repo.git.store.blobs:
        raise not_found()
    return ok(git.blob(ctx(world, req), repo, sha))


def _tree_edits(repo: Repo, item: Any) -> list[Edit]:
    """What one `tree` item of `POST /git/trees` does to the base tree, as tree edits."""
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("path"), str)
        or not item["path"].strip("/")
    ):
        raise validation_failed("Tree", "tree.path", "missing_field")
    path = item["path"].strip("/")
    mode = item.get("mode", MODE_FILE)
    if mode == "40000":
        mode = MODE_TREE
    if mode not in TREE_MODES:
        raise ApiError(422, f"tree.mode contains an invalid value: {mode}")
    if "content" in item and item.get("content") is not None:
        if mode == MODE_TREE:
            raise ApiError(422, "tree.content cannot be used with a tree entry")
        return [(path, (mode, repo.git.store.put_blob(str(item["content"]).encode())))]
    if "sha" not in item:
        raise ApiError(422, "Must supply either tree.sha or tree.content")
    sha = item["sha"]
    if sha is None:
        return [(path, None)]
    kind = repo.git.store.kind(sha)
    if mode == MODE_TREE and kind != "tree":
        raise ApiError(422, f"tree.sha {sha} is not a valid tree")
    if mode == MODE_SUBMODULE:
        return [(path, (mode, sha))]
    if mode != MODE_TREE and kind != "blob":
        raise ApiError(422, f"tree.sha {sha} is not a valid blob")
    return [(path, None), (path, (mode, sha))]  # replaces whatever was at the path


def create_tree(world: World, req: Request) -> Response:
    repo, _ = writable_repo(world, req, "contents", hide=True)
    body = req.json_object()
    items = body.get("tree")
    if not isinstance(items, list):
        raise validation_failed("Tree", "tree", "missing_field")
    base_tree = body.get("base_tree")
    if base_tree and repo.git.store.kind(base_tree) != "tree":
        raise ApiError(422, f"base_tree {base_tree} is not a valid tree")
    edits = [edit for item in items for edit in _tree_edits(repo, item)]
    sha = repo.git.trees.edit(base_tree or None, edits)
    return created(git.tree(ctx(world, req), repo, sha, recursive=False))


def get_tree(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    sha, _, path = req.params["tree_sha"].partition(":")  # git's `<rev>:<path>` works too
    if repo.git.store.kind(sha) != "tree":
        commit = repo.git.resolve(sha)
        if commit is None:
            raise not_found()
        sha = repo.git.store.commit(commit).tree
    if path:
        entry = repo.git.trees.entry_at(sha, path)
        if entry is None or entry.mode != MODE_TREE:
            raise not_found()
        sha = entry.sha
    recursive = req.query.get("recursive", "") not in ("", "0", "false")
    return ok(git.tree(ctx(world, req), repo, sha, recursive=recursive))


def create_commit(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    body = req.json_object()
    message = body.get("message")
    if not isinstance(message, str):
        raise validation_failed("Commit", "message", "missing_field")
    tree = body.get("tree")
    if not isinstance(tree, str) or repo.git.store.kind(tree) != "tree":
        raise ApiError(422, "Tree SHA does not exist")
    parents = body.get("parents", [])
    if not isinstance(parents, list) or any(p not in repo.git.store.commits for p in parents):
        raise ApiError(422, "Parent SHA does not exist or is not a commit object")
    for key in ("author", "committer"):
        if key in body and not isinstance(body[key], dict):
            raise validation_failed("Commit", key)
    author = signature(world, who, body.get("author"), "author")
    committer = signature(world, who, body.get("committer") or body.get("author"), "committer")
    sha = repo.git.commit(tree, tuple(parents), message, author, committer)
    return created(git.git_commit(ctx(world, req), repo, sha))


def get_commit(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    sha = req.params["commit_sha"]
    if sha not in repo.git.store.commits:
        raise not_found()
    return ok(git.git_commit(ctx(world, req), repo, sha))


def _full(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


def get_ref(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    name = _full(req.params["ref"])
    sha = repo.git.refs.get(name)
    if sha is None:
        raise not_found()
    return ok(git.ref(ctx(world, req), repo, name, sha))


def get_refs_legacy(world: World, req: Request) -> Response:
    """`GET /git/refs/{ref}`: the ref, or (old behaviour) every ref it prefixes."""
    repo = readable_repo(world, req, "contents")
    name = _full(req.params["ref"])
    c = ctx(world, req)
    if name in repo.git.refs:
        return ok(git.ref(c, repo, name, repo.git.refs[name]))
    found = sorted(r for r in repo.git.refs if r.startswith(name.rstrip("/") + "/"))
    if not found:
        raise not_found()
    return ok([git.ref(c, repo, r, repo.git.refs[r]) for r in found])


def list_refs(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    c = ctx(world, req)
    return ok([git.ref(c, repo, r, repo.git.refs[r]) for r in sorted(repo.git.refs)])


def matching_refs(world: World, req: Request) -> Response:
    repo = readable_repo(world, req, "contents")
    prefix = _full(req.params["ref"])
    c = ctx(world, req)
    found = sorted(r for r in repo.git.refs if r.startswith(prefix))
    return ok([git.ref(c, repo, r, repo.git.refs[r]) for r in found])


def create_ref(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    body = req.json_object()
    name, sha = body.get("ref"), body.get("sha")
    if not isinstance(name, str) or not name.startswith("refs/") or name.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if not isinstance(sha, str) or sha not in repo.git.store.commits:
        raise ApiError(422, "Object does not exist")
    if name in repo.git.refs:
        raise ApiError(422, "Reference already exists")
    push(world, repo, name, sha, who)
    return created(git.ref(ctx(world, req), repo, name, sha))


def update_ref(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    name = _full(req.params["ref"])
    body = req.json_object()
    sha = body.get("sha")
    force = bool(body.get("force", False))
    current = repo.git.refs.get(name)
    if current is None:
        raise ApiError(422, "Reference does not exist")
    if not isinstance(sha, str) or sha not in repo.git.store.commits:
        raise ApiError(422, "Object does not exist")
    fast_forward = repo.git.history.is_ancestor(current, sha)
    if not fast_forward and not force:
        raise ApiError(422, "Update is not a fast forward")
    if sha != current:
        push(world, repo, name, sha, who, forced=not fast_forward)
    return ok(git.ref(ctx(world, req), repo, name, sha))


def delete_ref(world: World, req: Request) -> Response:
    repo, who = writable_repo(world, req, "contents", hide=True)
    name = _full(req.params["ref"])
    if name not in repo.git.refs:
        raise ApiError(422, "Reference does not exist")
    push(world, repo, name, None, who)
    return no_content()


def register(router: Router) -> None:
    g = "/repos/{owner}/{repo}/git"
    router.add("POST", g + "/blobs", create_blob)
    router.add("GET", g + "/blobs/{file_sha}", get_blob)
    router.add("POST", g + "/trees", create_tree)
    router.add("GET", g + "/trees/{tree_sha}", get_tree)
    router.add("POST", g + "/commits", create_commit)
    router.add("GET", g + "/commits/{commit_sha}", get_commit)
    router.add("GET", g + "/ref/{ref}", get_ref)
    router.add("GET", g + "/refs", list_refs)
    router.add("GET", g + "/matching-refs/{ref}", matching_refs)
    router.add("POST", g + "/refs", create_ref)
    router.add("GET", g + "/refs/{ref}", get_refs_legacy)
    router.add("PATCH", g + "/refs/{ref}", update_ref)
    router.add("DELETE", g + "/refs/{ref}", delete_ref)

"""JSON shapes of git data: commits (git data and REST forms), trees, refs, blobs, contents,
branches and file diffs."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from bot.emulator.git import MODE_SYMLINK, MODE_TREE, Signature
from bot.emulator.git.diff import FileChange
from bot.emulator.render.core import Ctx, user
from bot.emulator.state import Repo

_VERIFICATION = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def b64_lines(data: bytes) -> str:
    """Base64 with a newline after every 60 characters, as GitHub encodes file contents."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def _node(sha: str, kind: str = "Commit") -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{sha}".encode()).decode()


def person(sig: Signature) -> dict[str, Any]:
    return {"name": sig.name, "email": sig.email, "date": sig.iso_utc()}


def account_for(ctx: Ctx, sig: Signature) -> dict[str, Any] | None:
    """The GitHub account a commit signature belongs to (by e-mail), or null like GitHub."""
    for u in ctx.state.users.values():
        if sig.email.lower() in {u.noreply_email.lower(), (u.email or "").lower()}:
            return user(ctx, u)
    return None


def parents(ctx: Ctx, repo: Repo, shas: tuple[str, ...], *, git_urls: bool) -> list[dict]:
    kind = "git/commits" if git_urls else "commits"
    return [
        {
            "sha": p,
            "url": ctx.api(f"/repos/{repo.full_name}/{kind}/{p}"),
            "html_url": ctx.html(f"/{repo.full_name}/commit/{p}"),
        }
        for p in shas
    ]


def git_commit(ctx: Ctx, repo: Repo, sha: str) -> dict[str, Any]:
    c = repo.git.store.commit(sha)
    return {
        "sha": sha,
        "node_id": _node(sha),
        "url": ctx.api(f"/repos/{repo.full_name}/git/commits/{sha}"),
        "html_url": ctx.html(f"/{repo.full_name}/commit/{sha}"),
        "author": person(c.author),
        "committer": person(c.committer),
        "tree": {"sha": c.tree, "url": ctx.api(f"/repos/{repo.full_name}/git/trees/{c.tree}")},
        "message": c.message,
        "parents": parents(ctx, repo, c.parents, git_urls=True),
        "verification": dict(_VERIFICATION),
    }


def commit(
    ctx: Ctx, repo: Repo, sha: str, *, files: list[FileChange] | None = None
) -> dict[str, Any]:
    """The commits API shape (`GET /repos/{o}/{r}/commits[/{ref}]`)."""
    c = repo.git.store.commit(sha)
    api = ctx.api(f"/repos/{repo.full_name}/commits/{sha}")
    out: dict[str, Any] = {
        "sha": sha,
        "node_id": _node(sha),
        "commit": {
            "author": person(c.author),
            "committer": person(c.committer),
            "message": c.message,
            "tree": {"sha": c.tree, "url": ctx.api(f"/repos/{repo.full_name}/git/trees/{c.tree}")},
            "url": ctx.api(f"/repos/{repo.full_name}/git/commits/{sha}"),
            "comment_count": 0,
            "verification": dict(_VERIFICATION),
        },
        "url": api,
        "html_url": ctx.html(f"/{repo.full_name}/commit/{sha}"),
        "comments_url": f"{api}/comments",
        "author": account_for(ctx, c.author),
        "committer": account_for(ctx, c.committer),
        "parents": parents(ctx, repo, c.parents, git_urls=False),
    }
    if files is not None:
        additions = sum(f.additions for f in files)
        deletions = sum(f.deletions for f in files)
        out["stats"] = {
            "total": additions + deletions,
            "additions": additions,
            "deletions": deletions,
        }
        out["files"] = [diff_entry(ctx, repo, sha, f) for f in files]
    return out


def diff_entry(ctx: Ctx, repo: Repo, ref: str, f: FileChange) -> dict[str, Any]:
    path = quote(f.filename)
    out: dict[str, Any] = {
        "sha": f.sha,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.changes,
        "blob_url": ctx.html(f"/{repo.full_name}/blob/{ref}/{path}"),
        "raw_url": ctx.html(f"/{repo.full_name}/raw/{ref}/{path}"),
        "contents_url": ctx.api(f"/repos/{repo.full_name}/contents/{path}?ref={ref}"),
    }
    if f.patch is not None:
        out["patch"] = f.patch
    if f.previous_filename is not None:
        out["previous_filename"] = f.previous_filename
    return out


def tree(ctx: Ctx, repo: Repo, sha: str, *, recursive: bool) -> dict[str, Any]:
    entries = []

    def walk(tree_sha: str, prefix: str) -> None:
        for e in repo.git.store.tree(tree_sha):
            path = prefix + e.name
            item: dict[str, Any] = {"path": path, "mode": e.mode, "type": e.type, "sha": e.sha}
            if e.type == "blob":
                item["size"] = len(repo.git.store.blob(e.sha))
                item["url"] = ctx.api(f"/repos/{repo.full_name}/git/blobs/{e.sha}")
            elif e.type == "tree":
                item["url"] = ctx.api(f"/repos/{repo.full_name}/git/trees/{e.sha}")
            entries.append(item)
            if recursive and e.mode == MODE_TREE:
                walk(e.sha, path + "/")

    walk(sha, "")
    return {
        "sha": sha,
        "url": ctx.api(f"/repos/{repo.full_name}/git/trees/{sha}"),
        "tree": entries,
        "truncated": False,
    }


def ref(ctx: Ctx, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    return {
        "ref": name,
        "node_id": _node(name, "Ref"),
        "url": ctx.api(f"/repos/{repo.full_name}/git/{name}"),
        "object": {
            "sha": sha,
            "type": "commit",
            "url": ctx.api(f"/repos/{repo.full_name}/git/commits/{sha}"),
        },
    }


def blob(ctx: Ctx, repo: Repo, sha: str) -> dict[str, Any]:
    data = repo.git.store.blob(sha)
    return {
        "sha": sha,
        "node_id": _node(sha, "Blob"),
        "size": len(data),
        "url": ctx.api(f"/repos/{repo.full_name}/git/blobs/{sha}"),
        "content": b64_lines(data),
        "encoding": "base64",
    }


def _content_links(ctx: Ctx, repo: Repo, path: str, ref: str, sha: str, kind: str) -> dict:
    q = quote(path)
    self_url = ctx.api(f"/repos/{repo.full_name}/contents/{q}?ref={quote(ref, safe='')}")
    git_kind = "trees" if kind == "dir" else "blobs"
    git_url = ctx.api(f"/repos/{repo.full_name}/git/{git_kind}/{sha}")
    view = "tree" if kind == "dir" else "blob"
    html_url = ctx.html(f"/{repo.full_name}/{view}/{ref}/{q}")
    download = None if kind == "dir" else ctx.html(f"/{repo.full_name}/raw/{ref}/{q}")
    return {
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": download,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def content_item(ctx: Ctx, repo: Repo, path: str, ref: str, mode: str, sha: str) -> dict[str, Any]:
    """A directory listing entry, or the `content` part of a contents write response."""
    kind = "dir" if mode == MODE_TREE else "symlink" if mode == MODE_SYMLINK else "file"
    size = 0 if kind == "dir" else len(repo.git.store.blob(sha))
    out = {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": size,
        **_content_links(ctx, repo, path, ref, sha, kind),
        "type": kind,
    }
    return out


def content_file(ctx: Ctx, repo: Repo, path: str, ref: str, mode: str, sha: str) -> dict[str, Any]:
    data = repo.git.store.blob(sha)
    out = content_item(ctx, repo, path, ref, mode, sha)
    if mode == MODE_SYMLINK:
        out["target"] = data.decode(errors="replace")
        return out
    if len(data) > 1024 * 1024:
        out.update({"content": "", "encoding": "none"})
    else:
        out.update({"content": b64_lines(data), "encoding": "base64"})
    return out


def branch(ctx: Ctx, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    api = ctx.api(f"/repos/{repo.full_name}/branches/{quote(name)}")
    return {
        "name": name,
        "commit": commit(ctx, repo, sha),
        "_links": {"self": api, "html": ctx.html(f"/{repo.full_name}/tree/{name}")},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/protection",
    }


def short_branch(ctx: Ctx, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    return {
        "name": name,
        "commit": {"sha": sha, "url": ctx.api(f"/repos/{repo.full_name}/commits/{sha}")},
        "protected": False,
    }

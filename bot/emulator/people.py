"""People acting on the emulated GitHub through its REST API: a developer opening a pull
request, a manager approving it, QA requesting changes...

`Person` holds the actions; a transport carries each call: `InProcess` (no socket, safe from
async tests on the emulator's own loop) or `Http` (`requests`, for an emulator running
elsewhere, e.g. `flagbot emulator` in another process).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator

Transport = Callable[[str, str, Any], tuple[int, Any]]


class ApiCallFailed(Exception):
    """A person's call was refused; carries GitHub's status and error body."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.body = body


class InProcess:
    def __init__(
        self, emulator: Emulator, login: str | None = None, token: str | None = None
    ) -> None:
        self.emulator = emulator
        self.token = token if token is not None else emulator.token_for(login or "")

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        result = self.emulator.request(method, path, json_body=body, token=self.token)
        return result.status, result.body


class Http:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
        )
        self.timeout = timeout

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        resp = self.session.request(method, self.base_url + path, json=body, timeout=self.timeout)
        try:
            data = resp.json() if resp.content else None
        except ValueError:
            data = resp.text
        return resp.status_code, data


def _path(value: str) -> str:
    return quote(value, safe="/")


class Person:
    def __init__(self, transport: Transport, login: str) -> None:
        self.call_transport = transport
        self.login = login

    # --- raw calls ------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call_transport(method, path, body)
        if status >= 400:
            raise ApiCallFailed(method, path, status, data)
        return data

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    # --- branches and files ---------------------------------------------------------------
    def create_branch(self, repo: str, name: str, from_: str | None = None) -> str:
        """Create branch `name` at `from_` (a branch or commit; default: the default branch)."""
        source = from_ or self.get(f"/repos/{repo}")["default_branch"]
        sha = source
        if len(source) != 40:
            sha = self.get(f"/repos/{repo}/git/ref/heads/{_path(source)}")["object"]["sha"]
        self.call("POST", f"/repos/{repo}/git/refs", {"ref": f"refs/heads/{name}", "sha": sha})
        return sha

    def delete_branch(self, repo: str, name: str) -> None:
        self.call("DELETE", f"/repos/{repo}/git/refs/heads/{_path(name)}")

    def file_sha(self, repo: str, path: str, ref: str) -> str | None:
        status, data = self.call_transport(
            "GET", f"/repos/{repo}/contents/{_path(path)}?ref={quote(ref)}", None
        )
        if status == 404:
            return None
        if status >= 400:
            raise ApiCallFailed("GET", path, status, data)
        return data["sha"]

    def commit_file(
        self,
        repo: str,
        path: str,
        content: str | bytes,
        *,
        branch: str,
        message: str | None = None,
        date: str | None = None,
    ) -> str:
        """Create or replace one file on `branch` (contents API); returns the commit id."""
        data = content.encode() if isinstance(content, str) else content
        body: dict[str, Any] = {
            "message": message or f"Update {path}",
            "content": base64.b64encode(data).decode(),
            "branch": branch,
        }
        sha = self.file_sha(repo, path, branch)
        if sha:
            body["sha"] = sha
        if date:
            body["committer"] = {
                "name": self.login,
                "email": f"{self.login}@users.noreply.github.com",
                "date": date,
            }
        return self.call("PUT", f"/repos/{repo}/contents/{_path(path)}", body)["commit"]["sha"]

    def delete_file(self, repo: str, path: str, *, branch: str, message: str | None = None) -> str:
        sha = self.file_sha(repo, path, branch)
        body = {"message": message or f"Delete {path}", "sha": sha, "branch": branch}
        return self.call("DELETE", f"/repos/{repo}/contents/{_path(path)}", body)["commit"]["sha"]

    # --- pull requests --------------------------------------------------------------------
    def open_pr(
        self,
        repo: str,
        *,
        head: str,
        title: str,
        base: str | None = None,
        body: str | None = None,
        draft: bool = False,
    ) -> dict[str, Any]:
        base = base or self.get(f"/repos/{repo}")["default_branch"]
        payload = {"title": title, "head": head, "base": base, "body": body, "draft": draft}
        return self.call("POST", f"/repos/{repo}/pulls", payload)

    def propose(
        self,
        repo: str,
        files: dict[str, str | None],
        *,
        branch: str,
        title: str,
        body: str | None = None,
        base: str | None = None,
    ) -> dict[str, Any]:
        """Branch, commit each file (None deletes it), open a pull request: the usual flow."""
        self.create_branch(repo, branch, base)
        for path, content in files.items():
            if content is None:
                self.delete_file(repo, path, branch=branch)
            else:
                self.commit_file(repo, path, content, branch=branch)
        return self.open_pr(repo, head=branch, base=base, title=title, body=body)

    def pr(self, repo: str, number: int) -> dict[str, Any]:
        return self.get(f"/repos/{repo}/pulls/{number}")

    def edit_pr(self, repo: str, number: int, **fields: Any) -> dict[str, Any]:
        return self.call("PATCH", f"/repos/{repo}/pulls/{number}", fields)

    def close_pr(self, repo: str, number: int) -> dict[str, Any]:
        return self.edit_pr(repo, number, state="closed")

    def reopen_pr(self, repo: str, number: int) -> dict[str, Any]:
        return self.edit_pr(repo, number, state="open")

    def convert_to_draft(self, repo: str, number: int) -> dict[str, Any]:
        """Emulator extension (GitHub does this only through GraphQL)."""
        return self.edit_pr(repo, number, draft=True)

    def ready_for_review(self, repo: str, number: int) -> dict[str, Any]:
        """Emulator extension (GitHub does this only through GraphQL)."""
        return self.edit_pr(repo, number, draft=False)

    def review(
        self, repo: str, number: int, event: str, body: str = "", commit_id: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"event": event, "body": body}
        if commit_id:
            payload["commit_id"] = commit_id
        return self.call("POST", f"/repos/{repo}/pulls/{number}/reviews", payload)

    def approve(self, repo: str, number: int, body: str = "", commit_id: str | None = None) -> dict:
        return self.review(repo, number, "APPROVE", body, commit_id)

    def request_changes(
        self, repo: str, number: int, body: str, commit_id: str | None = None
    ) -> dict:
        return self.review(repo, number, "REQUEST_CHANGES", body, commit_id)

    def comment_review(self, repo: str, number: int, body: str) -> dict[str, Any]:
        return self.review(repo, number, "COMMENT", body)

    def dismiss(self, repo: str, number: int, review_id: int, message: str) -> dict[str, Any]:
        path = f"/repos/{repo}/pulls/{number}/reviews/{review_id}/dismissals"
        return self.call("PUT", path, {"message": message, "event": "DISMISS"})

    def merge(
        self, repo: str, number: int, *, method: str = "merge", sha: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"merge_method": method}
        if sha:
            payload["sha"] = sha
        return self.call("PUT", f"/repos/{repo}/pulls/{number}/merge", payload)

    def comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        return self.call("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})

    def rerequest_check(self, repo: str, check_run_id: int) -> None:
        self.call("POST", f"/repos/{repo}/check-runs/{check_run_id}/rerequest")

    def add_labels(self, repo: str, number: int, *labels: str) -> list[dict[str, Any]]:
        return self.call("POST", f"/repos/{repo}/issues/{number}/labels", {"labels": list(labels)})

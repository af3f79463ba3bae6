"""The rollout job's GitHub adapter (PyGithub): the three calls it makes, and their failures.

- `last_change(path)`: the newest commit on the branch touching the file (`GET commits?path=`),
  i.e. when a person's change to it was merged; the only history a shallow checkout lacks.
- `read(path)`: the file as the branch has it now (after a conflict).
- `write(...)`: `PUT contents` with the blob sha the job read, so GitHub refuses (409) when the
  file moved in between: the compare-and-swap that keeps two jobs from bumping twice.

PyGithub's defaults are adjusted where they hurt (see the reference notes): `lazy=True` so
`get_repo` costs nothing; `per_page=1` because the only list read is "the newest commit";
`GithubRetry` with exponential backoff for 5xx and 429 (its default retries ten times with no
pause); and when retries run out it raises `requests`' `RetryError`, not `GithubException`, so
both are caught here and turned into `RemoteError` or `Conflict`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from github import Auth, Github, GithubException, GithubRetry, InputGitAuthor
from github.Repository import Repository

from bot.rollout.edit import format_timestamp
from bot.rollout.transport import transport_reason

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "flagbot-rollout"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bump commits name as author and committer."""

    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        """`Name <email>`; raises ValueError with what to write instead."""
        match = re.fullmatch(r"\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*", text)
        if not match or not match.group(1):
            raise ValueError(
                f"committer {text!r} is not `Name <email>`, e.g. "
                "'flagbot[bot] <123+flagbot[bot]@users.noreply.github.com>'"
            )
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


ACTIONS_BOT = Identity(
    "github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"
)


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach GitHub. The pauses are PyGithub's throttle: GitHub asks for at least a
    second between writes; tests and the demo set them to 0."""

    repository: str  # owner/name
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    write_pause: float = 1.0
    request_pause: float = 0.25
    retries: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    timeout: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: object) -> Connection:
        """The variables Actions sets, plus flagbot's own pause and retry knobs."""
        values: dict[str, object] = {
            "repository": env.get("GITHUB_REPOSITORY", ""),
            "token": env.get("GITHUB_TOKEN") or None,
            "api_url": env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        }
        for key, name, kind in (
            ("write_pause", "FLAGBOT_WRITE_PAUSE", float),
            ("request_pause", "FLAGBOT_REQUEST_PAUSE", float),
            ("retries", "FLAGBOT_RETRIES", int),
            ("backoff", "FLAGBOT_RETRY_BACKOFF", float),
        ):
            if env.get(name):
                try:
                    values[key] = kind(env[name])
                except ValueError:
                    raise ValueError(f"{name}={env[name]!r} is not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def github(self) -> Github:
        retry = GithubRetry(
            total=self.retries,
            backoff_factor=self.backoff,
            backoff_max=60,
            status_forcelist=[*range(500, 600), 429],  # GithubRetry adds 403 rate limits
            secondary_rate_wait=60,
            max_rate_limit_wait=600,
        )
        return Github(
            auth=Auth.Token(self.token) if self.token else None,
            base_url=self.api_url.rstrip("/"),
            user_agent=USER_AGENT,
            timeout=self.timeout,
            per_page=1,
            lazy=True,
            retry=retry,
            seconds_between_requests=self.request_pause or None,
            seconds_between_writes=self.write_pause or None,
            api_version=API_VERSION,
        )


class RemoteError(Exception):
    """GitHub could not be asked (after retries), or refused for a reason a retry won't fix."""


class Conflict(Exception):
    """The write did not certainly land: GitHub refused it with 409 (the file moved, as a
    rule), or the outcome is unknown (server errors until retries ran out, `status` None).
    Either way: re-read and decide again."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Change:
    """A commit that touched a file."""

    sha: str
    message: str
    committed_at: datetime
    html_url: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteFile:
    data: bytes
    sha: str


@dataclass(frozen=True, slots=True)
class Written:
    commit_sha: str
    html_url: str | None


def _describe(exc: Exception) -> str:
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else exc.data
        return f"HTTP {exc.status}: {message or exc.message or ''}".rstrip(": ")
    if isinstance(exc, requests.exceptions.RequestException):
        return f"GitHub unreachable ({transport_reason(exc)})"
    return f"{type(exc).__name__}: {exc}"


_TRANSPORT = (requests.exceptions.RequestException,)
WRITE_HINT = (
    "; the token needs write access to contents (the workflow's `permissions: contents: "
    "write`), and a protected branch needs a GitHub App token whose App is on the bypass list "
    "(README: Branch protection)"
)


class RemoteRepo:
    """One repository and branch. `branch=None` means the default branch, asked only when a
    call needs it (one GET)."""

    def __init__(self, gh: Github, full_name: str, branch: str | None = None) -> None:
        self._repo: Repository = gh.get_repo(full_name)
        self.full_name = full_name
        self._branch = branch

    @classmethod
    def connect(cls, connection: Connection, branch: str | None = None) -> RemoteRepo:
        return cls(connection.github(), connection.repository, branch)

    @property
    def branch(self) -> str:
        if self._branch is None:
            try:
                self._branch = self._repo.default_branch
            except (GithubException, *_TRANSPORT) as exc:
                raise RemoteError(f"reading the default branch: {_describe(exc)}") from exc
        return self._branch

    def last_change(self, path: str) -> Change | None:
        """The newest commit on the branch that touched `path`, or None if none did."""
        try:
            newest = next(iter(self._repo.get_commits(sha=self.branch, path=path)), None)
            if newest is None:
                return None
            commit = newest.commit
            return Change(
                newest.sha,
                commit.message,
                commit.committer.date.astimezone(UTC),
                newest.html_url,
            )
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"listing commits of {path}: {_describe(exc)}") from exc

    def read(self, path: str) -> RemoteFile | None:
        """The file on the branch now; None when it is gone."""
        try:
            found = self._repo.get_contents(path, ref=self.branch)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise RemoteError(f"reading {path}: {_describe(exc)}") from exc
        except _TRANSPORT as exc:
            raise RemoteError(f"reading {path}: {_describe(exc)}") from exc
        if isinstance(found, list):
            raise RemoteError(f"reading {path}: it is a directory on {self.branch}")
        return RemoteFile(found.decoded_content, found.sha)

    def write(
        self,
        path: str,
        data: bytes,
        expected_sha: str,
        message: str,
        identity: Identity,
        at: datetime,
    ) -> Written:
        """Commit `data` as `path` if the file is still the blob `expected_sha`.

        Author and committer dates are `at`, so a run with a fixed clock records that time.
        """
        who = InputGitAuthor(identity.name, identity.email, format_timestamp(at))
        try:
            result = self._repo.update_file(
                path, message, data, expected_sha, branch=self.branch, committer=who, author=who
            )
        except GithubException as exc:
            if exc.status == 409:
                raise Conflict(_describe(exc), 409) from exc
            if exc.status >= 500:
                raise Conflict(_describe(exc)) from exc
            hint = WRITE_HINT if exc.status in (403, 404) else ""
            raise RemoteError(f"writing {path} on {self.branch}: {_describe(exc)}{hint}") from exc
        except requests.exceptions.RetryError as exc:
            raise Conflict(f"gave up after retries: {exc}") from exc
        except _TRANSPORT as exc:
            # The request may have reached GitHub before the connection broke.
            raise Conflict(_describe(exc)) from exc
        commit = result["commit"]
        return Written(commit.sha, getattr(commit, "html_url", None))


def env_branch(env: Mapping[str, str] | None = None) -> str | None:
    """The branch Actions checked out (`GITHUB_REF_NAME` for a branch ref), if any."""
    env = os.environ if env is None else env
    if env.get("GITHUB_REF_TYPE", "branch") != "branch":
        return None
    return env.get("GITHUB_REF_NAME") or None

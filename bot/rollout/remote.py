"""The rollout job's GitHub adapter (PyGithub): the calls it makes, and their failures.

- `last_change(path)`: the newest commit on the branch touching the file (`GET commits?path=`),
  dated when it reached the branch (`GET compare`: a merge commit's date when a pull request
  was merged with one), i.e. when a person's change to it was merged; the only history a
  shallow checkout lacks.
- `paths_changed_since(t, skip)`: the paths the branch's commits since `t` changed, the job's
  own left out (one listing, a hundred a page, and one read per commit kept); then, only for
  a due flag one of them touched, `changes_since(path, t)` and `text_at(ref, path)`: the
  commits touching its file since its stage record and the file at a commit, to tell whether
  a person changed its percentage since (a revert of the job's bump does).
- `head()`, `tree(commit)`, `blob(sha)`: the branch head, what its files are (one recursive
  tree read), and one file's bytes (after a conflict).
- `commit_files(...)`: the run's one commit through the git data API: one tree on the head's
  tree, one commit, and the ref moved with `force: false`, so GitHub refuses (422) unless it
  is a fast-forward: the compare-and-swap that keeps two jobs from writing over each other.
- `contains(head, sha)`: whether a commit is on the branch (after an update's answer was lost).
- `head_checks(sha, names)`: the check runs and commit statuses the check guards read.
- `write(...)`: one file through the contents API, compare-and-swap on its blob sha (one commit
  per file: how the job wrote before the one-commit run; `bench/rollout.py`'s baseline).

PyGithub's defaults are adjusted where they hurt (see the reference notes): `lazy=True` so
`get_repo` costs nothing; `per_page=1` where the list read is "the newest commit" (and 100
for the one listing read whole);
`GithubRetry` with exponential backoff for 5xx and 429 (its default retries ten times with no
pause); and when retries run out it raises `requests`' `RetryError`, not `GithubException`, so
both are caught here and turned into `RemoteError` or `Conflict`.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from github import Auth, Github, GithubException, GithubRetry, InputGitAuthor, InputGitTreeElement
from github.GitCommit import GitCommit
from github.GitRef import GitRef
from github.GitTree import GitTree
from github.Repository import Repository

from bot.rollout.edit import format_timestamp
from bot.rollout.transport import transport_reason
from bot.rollout.verdict import RunState, StatusState

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

    def github(self, per_page: int = 1) -> Github:
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
            per_page=per_page,
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

    def __init__(
        self, message: str, status: int | None = None, commit_sha: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.commit_sha = commit_sha  # the commit the branch was to move to, when there was one


@dataclass(frozen=True, slots=True)
class Change:
    """A commit that touched a file."""

    sha: str
    message: str
    committed_at: datetime
    html_url: str | None = None


@dataclass(frozen=True, slots=True)
class Written:
    commit_sha: str
    html_url: str | None


@dataclass(frozen=True, slots=True)
class Tree:
    """A commit's files: its tree's sha, and each path's (mode, blob sha)."""

    sha: str
    files: dict[str, tuple[str, str]]


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

    def __init__(
        self, gh: Github, full_name: str, branch: str | None = None, lists: Github | None = None
    ) -> None:
        self._repo: Repository = gh.get_repo(full_name)
        # the same repository read a hundred items a page, for the listings read whole
        self._pages: Repository = (lists or gh).get_repo(full_name)
        self.full_name = full_name
        self._branch = branch
        self._ref: GitRef | None = None

    @classmethod
    def connect(cls, connection: Connection, branch: str | None = None) -> RemoteRepo:
        return cls(
            connection.github(), connection.repository, branch, connection.github(per_page=100)
        )

    @property
    def branch(self) -> str:
        if self._branch is None:
            try:
                self._branch = self._repo.default_branch
            except (GithubException, *_TRANSPORT) as exc:
                raise RemoteError(f"reading the default branch: {_describe(exc)}") from exc
        return self._branch

    def last_change(self, path: str) -> Change | None:
        """The newest commit on the branch that touched `path`, or None if none did; dated
        when it reached the branch (a pull request merged with a merge commit: the merge)."""
        try:
            newest = next(iter(self._repo.get_commits(sha=self.branch, path=path)), None)
            if newest is None:
                return None
            commit = newest.commit
            landed = self._landed_at(newest.sha)
            return Change(
                newest.sha,
                commit.message,
                landed or commit.committer.date.astimezone(UTC),
                newest.html_url,
            )
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"listing commits of {path}: {_describe(exc)}") from exc

    def paths_changed_since(self, since: datetime, skip: Callable[[str], bool]) -> set[str]:
        """The paths changed by the commits on the branch committed at or after `since`,
        leaving out those whose message `skip` names (the job's own): one listing a hundred
        commits a page, and one read per commit kept."""
        paths: set[str] = set()
        try:
            for c in self._pages.get_commits(sha=self.branch, since=since):
                if skip(c.commit.message):
                    continue
                for f in self._pages.get_commit(c.sha).files:
                    paths.add(f.filename)
                    if f.previous_filename:
                        paths.add(f.previous_filename)
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(
                f"listing commits since {since:%Y-%m-%d %H:%M}: {_describe(exc)}"
            ) from exc
        return paths

    def changes_since(self, path: str, since: datetime) -> list[tuple[str, str | None]]:
        """(commit, its first parent) of each commit on the branch touching `path` committed
        after `since`, newest first (one read each: PyGithub pages one commit at a time)."""
        found: list[tuple[str, str | None]] = []
        try:
            for c in self._repo.get_commits(sha=self.branch, path=path):
                if c.commit.committer.date.astimezone(UTC) <= since:
                    break
                found.append((c.sha, c.parents[0].sha if c.parents else None))
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"listing commits of {path}: {_describe(exc)}") from exc
        return found

    def text_at(self, ref: str, path: str) -> bytes | None:
        """The file's bytes at `ref`, None when it is not there."""
        try:
            found = self._repo.get_contents(path, ref=ref)
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise RemoteError(f"reading {path} at {ref[:7]}: {_describe(exc)}") from exc
        except _TRANSPORT as exc:
            raise RemoteError(f"reading {path} at {ref[:7]}: {_describe(exc)}") from exc
        return None if isinstance(found, list) else found.decoded_content

    def _landed_at(self, sha: str) -> datetime | None:
        """The committer date of the oldest commit on the branch's first-parent line that
        contains `sha`, when that is not `sha` itself (GitHub's path history shows a pull
        request's own commit, not the merge commit that put it on the branch). None when
        `sha` is on that line, or the comparison is too long to tell (`sha`'s date then)."""
        data = self._repo.compare(sha, self.branch).raw_data
        commits = data.get("commits") or []
        if not commits or data.get("total_commits") != len(commits):
            return None
        parents = {c["sha"]: [p["sha"] for p in c.get("parents") or ()] for c in commits}
        inner = {p for ps in parents.values() for p in ps}
        tips = [c for c in parents if c not in inner]
        if len(tips) != 1:
            return None
        reaches: dict[str, bool] = {}

        def contains(at: str) -> bool:
            todo = [at]
            while todo:  # iterative: a long line must not hit the recursion limit
                x = todo[-1]
                if x in reaches:
                    todo.pop()
                    continue
                unknown = [p for p in parents[x] if p in parents and p not in reaches]
                if unknown:
                    todo += unknown
                    continue
                reaches[x] = any(p == sha or reaches.get(p, False) for p in parents[x])
                todo.pop()
            return reaches[at]

        at, oldest = tips[0], None
        while at in parents and contains(at):
            oldest, at = at, (parents[at] or [""])[0]
        if oldest is None or at == sha:
            return None
        date = next(c for c in commits if c["sha"] == oldest)["commit"]["committer"]["date"]
        return datetime.fromisoformat(date).astimezone(UTC)

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

    def head(self) -> str:
        """The commit the branch points at now."""
        try:
            ref = self._repo.get_git_ref(f"heads/{self.branch}")
            sha = ref.object.sha
            self._ref = ref  # read: its url is now the API's own `.../git/refs/heads/x`
            return sha
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"reading the head of {self.branch}: {_describe(exc)}") from exc

    def tree(self, commit_sha: str) -> Tree:
        """Every file of `commit_sha` (GitHub resolves a commit to its tree)."""
        try:
            tree = self._repo.get_git_tree(commit_sha, recursive=True)
            files = {e.path: (e.mode, e.sha) for e in tree.tree if e.type == "blob"}
            if tree.raw_data.get("truncated"):
                raise RemoteError(f"the tree of {commit_sha[:7]} is too large to list at once")
            return Tree(tree.sha, files)
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"reading the tree of {commit_sha[:7]}: {_describe(exc)}") from exc

    def blob(self, sha: str) -> bytes:
        try:
            blob = self._repo.get_git_blob(sha)
            return (
                base64.b64decode(blob.content)
                if blob.encoding == "base64"
                else blob.content.encode()
            )
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"reading blob {sha[:7]}: {_describe(exc)}") from exc

    def commit_files(
        self,
        parent: Tree,
        parent_sha: str,
        files: Mapping[str, bytes],
        message: str,
        identity: Identity,
        at: datetime,
    ) -> Written:
        """One commit on `parent_sha` changing `files`; the branch moves to it only as a
        fast-forward from `parent_sha`. `Conflict(status=422)`: the branch moved meanwhile."""
        who = InputGitAuthor(identity.name, identity.email, format_timestamp(at))
        elements = [
            InputGitTreeElement(
                path, parent.files.get(path, ("100644", ""))[0], "blob", content=data.decode()
            )
            for path, data in sorted(files.items())
        ]
        try:
            # The base tree and the parent are known by sha: no need to fetch them again.
            base = GitTree(self._repo.requester, {}, {"sha": parent.sha}, completed=True)
            tree = self._repo.create_git_tree(elements, base)
            parents = [GitCommit(self._repo.requester, {}, {"sha": parent_sha}, completed=True)]
            commit = self._repo.create_git_commit(message, tree, parents, who, who)
        except GithubException as exc:
            hint = WRITE_HINT if exc.status in (403, 404) else ""
            raise RemoteError(f"writing the commit: {_describe(exc)}{hint}") from exc
        except _TRANSPORT as exc:
            raise RemoteError(f"writing the commit: {_describe(exc)}") from exc
        try:
            if self._ref is None:
                self.head()
            assert self._ref is not None
            self._ref.edit(commit.sha, force=False)
        except GithubException as exc:
            if exc.status == 422:
                raise Conflict(_describe(exc), 422, commit.sha) from exc
            if exc.status >= 500:
                raise Conflict(_describe(exc), None, commit.sha) from exc
            hint = WRITE_HINT if exc.status in (403, 404, 409) else ""
            raise RemoteError(f"moving {self.branch}: {_describe(exc)}{hint}") from exc
        except requests.exceptions.RetryError as exc:
            raise Conflict(f"gave up after retries: {exc}", None, commit.sha) from exc
        except _TRANSPORT as exc:
            # It may have moved before the line broke.
            raise Conflict(_describe(exc), None, commit.sha) from exc
        return Written(commit.sha, commit.html_url)

    def contains(self, head: str, sha: str) -> bool:
        """Whether the commit `sha` is `head` or one of its ancestors (`GET compare`)."""
        try:
            return self._repo.compare(sha, head).status in ("ahead", "identical")
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"comparing {sha[:7]} with {head[:7]}: {_describe(exc)}") from exc

    def head_checks(
        self, sha: str, names: Sequence[str]
    ) -> tuple[list[RunState], list[StatusState]]:
        """The newest check run of each name on `sha`, and its commit statuses."""
        try:
            commit = self._repo.get_commit(sha)
            runs = []
            for name in names:
                newest = next(iter(commit.get_check_runs(check_name=name)), None)
                if newest is not None:
                    runs.append(RunState(newest.name, newest.status, newest.conclusion))
            combined = commit.get_combined_status()
            statuses = [StatusState(s.context, s.state) for s in combined.statuses]
            return runs, statuses
        except (GithubException, *_TRANSPORT) as exc:
            raise RemoteError(f"reading the checks of {sha[:7]}: {_describe(exc)}") from exc


def env_branch(env: Mapping[str, str] | None = None) -> str | None:
    """The branch Actions checked out (`GITHUB_REF_NAME` for a branch ref), if any."""
    env = os.environ if env is None else env
    if env.get("GITHUB_REF_TYPE", "branch") != "branch":
        return None
    return env.get("GITHUB_REF_NAME") or None

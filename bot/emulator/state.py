"""Everything the emulated GitHub knows, as plain data: accounts, teams, repositories and what
happens in them (pull requests, reviews, check runs, statuses, comments, labels), apps and
their installations, and webhook configuration.

Rules that decide things (who may do what, whether a merge is allowed) live with the
operations; this module only holds and finds data.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bot.emulator.errors import ApiError, not_found
from bot.emulator.git import GitRepo

Role = Literal["admin", "maintain", "write", "triage", "read"]
ROLE_RANK: dict[str, int] = {
    "none": 0,
    "read": 1,
    "triage": 2,
    "write": 3,
    "maintain": 4,
    "admin": 5,
}


def node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id: base64 of `0<len(kind)>:<kind><id>`."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


@dataclass
class User:
    login: str
    id: int
    type: Literal["User", "Bot", "Organization"] = "User"
    name: str | None = None
    email: str | None = None
    site_admin: bool = False

    @property
    def noreply_email(self) -> str:
        return self.email or f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    description: str | None = None
    privacy: Literal["closed", "secret"] = "closed"
    parent: str | None = None  # parent team slug
    members: set[str] = field(default_factory=set)
    maintainers: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Org:
    account: User
    teams: dict[str, Team] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)  # explicit members besides team members
    owners: set[str] = field(default_factory=set)
    description: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def login(self) -> str:
        return self.account.login

    def child_teams(self, slug: str) -> list[Team]:
        return [t for t in self.teams.values() if t.parent == slug]

    def team_membership(self, slug: str, login: str) -> tuple[str, str] | None:
        """(role, state) of `login` in team `slug`, child teams included, or None."""
        team = self.teams[slug]
        if login in team.maintainers:
            return "maintainer", "active"
        if login in team.members:
            return "member", "active"
        for child in self.child_teams(slug):
            found = self.team_membership(child.slug, login)
            if found and found[1] == "active":
                return "member", "active"
        if login in team.pending:
            return "member", "pending"
        return None

    def team_members(self, slug: str) -> dict[str, str]:
        """{login: role} of active members of a team and of its child teams."""
        team = self.teams[slug]
        found: dict[str, str] = {}
        for child in self.child_teams(slug):
            for login in self.team_members(child.slug):
                found.setdefault(login, "member")
        for login in team.members:
            found[login] = "member"
        for login in team.maintainers:
            found[login] = "maintainer"
        return found

    def is_member(self, login: str) -> bool:
        if login in self.members or login in self.owners:
            return True
        return any(login in t.members or login in t.maintainers for t in self.teams.values())


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Review:
    id: int
    user: str
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
    body: str
    commit_id: str
    submitted_at: datetime | None


@dataclass
class IssueComment:
    id: int
    number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime
    app_id: int | None = None


@dataclass
class PullRequest:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    created_at: datetime
    updated_at: datetime
    state: Literal["open", "closed"] = "open"
    draft: bool = False
    locked: bool = False
    maintainer_can_modify: bool = False
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    closed_by: str | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    # how many more reads report `mergeable: null` (GitHub computes mergeability lazily)
    mergeable_pending_reads: int = 0

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass
class CheckSuite:
    id: int
    head_sha: str
    head_branch: str | None
    app_id: int
    created_at: datetime
    updated_at: datetime
    completed_sent: bool = False  # `check_suite` `completed` went out for this completion


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    app_id: int
    suite_id: int
    status: str = "queued"
    conclusion: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    details_url: str | None = None
    external_id: str | None = None
    output: dict[str, Any] = field(default_factory=dict)  # title, summary, text
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime | None = None
    private: bool = False
    description: str | None = None
    git: GitRepo = field(default_factory=GitRepo)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    # team slug (of the owner org) -> role it grants its members; None = the seed declared no
    # team access, and CODEOWNERS then accepts every visible team of the owner org
    teams: dict[str, str] | None = None
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, IssueComment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def pull(self, number: int) -> PullRequest:
        try:
            return self.pulls[number]
        except KeyError:
            raise not_found() from None


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key: str  # PEM
    bot: User
    client_id: str = ""
    description: str | None = None
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: datetime | None = None


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    repositories: list[str] | None  # full names; None = all of the account's repositories
    permissions: dict[str, str]
    created_at: datetime

    def covers(self, repo: Repo) -> bool:
        if self.repositories is None:
            return repo.owner.lower() == self.account.lower()
        return repo.full_name.lower() in {r.lower() for r in self.repositories}


@dataclass
class InstallationToken:
    token: str
    installation_id: int
    expires_at: float  # wall-clock epoch seconds
    permissions: dict[str, str]


@dataclass
class Hook:
    id: int
    url: str
    secret: str | None
    events: list[str] = field(default_factory=lambda: ["*"])
    active: bool = True
    repos: list[str] | None = None  # full names it covers; None = every repository
    app_id: int | None = None  # an App's webhook: deliveries carry `installation`
    created_at: datetime | None = None

    def wants(self, event: str) -> bool:
        return self.active and ("*" in self.events or event in self.events)


class Ids:
    """Monotonic ids per kind, as GitHub's are per table."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count] = {}

    def next(self, kind: str) -> int:
        counter = self._counters.setdefault(kind, itertools.count(1))
        return next(counter)

    def bump(self, kind: str, at_least: int) -> None:
        """Make ids of `kind` start above `at_least` (seeded ids must not collide)."""
        current = self._counters.get(kind)
        start = max(at_least + 1, next(current) if current else 1)
        self._counters[kind] = itertools.count(start)


@dataclass
class State:
    ids: Ids = field(default_factory=Ids)
    users: dict[str, User] = field(default_factory=dict)  # lower-cased login -> user (incl. bots)
    tokens: dict[str, str] = field(default_factory=dict)  # personal token -> login
    orgs: dict[str, Org] = field(default_factory=dict)  # lower-cased login
    repos: dict[str, Repo] = field(default_factory=dict)  # lower-cased full name
    apps: dict[int, App] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    installation_tokens: dict[str, InstallationToken] = field(default_factory=dict)
    hooks: dict[int, Hook] = field(default_factory=dict)

    # --- lookups that raise GitHub's 404 -------------------------------------------------
    def user(self, login: str) -> User:
        try:
            return self.users[login.lower()]
        except KeyError:
            raise not_found() from None

    def org(self, login: str) -> Org:
        try:
            return self.orgs[login.lower()]
        except KeyError:
            raise not_found() from None

    def repo(self, owner: str, name: str) -> Repo:
        try:
            return self.repos[f"{owner}/{name}".lower()]
        except KeyError:
            raise not_found() from None

    def app(self, app_id: int) -> App:
        try:
            return self.apps[app_id]
        except KeyError:
            raise not_found() from None

    def installation(self, installation_id: int) -> Installation:
        try:
            return self.installations[installation_id]
        except KeyError:
            raise not_found() from None

    def installation_for(self, repo: Repo, app_id: int | None = None) -> Installation | None:
        for inst in self.installations.values():
            if (app_id is None or inst.app_id == app_id) and inst.covers(repo):
                return inst
        return None

    def account(self, login: str) -> User:
        """A user, bot or organization account."""
        org = self.orgs.get(login.lower())
        return org.account if org else self.user(login)

    # --- creation ------------------------------------------------------------------------
    def add_user(
        self, login: str, *, token: str | None = None, kind: str = "User", **extra
    ) -> User:
        if login.lower() in self.users or login.lower() in self.orgs:
            raise ApiError(422, f"account {login} already exists")
        user = User(login=login, id=self.ids.next("account"), type=kind, **extra)  # type: ignore[arg-type]
        self.users[login.lower()] = user
        if token:
            self.tokens[token] = login.lower()
        return user

    def add_org(self, login: str) -> Org:
        if login.lower() in self.users or login.lower() in self.orgs:
            raise ApiError(422, f"account {login} already exists")
        org = Org(User(login=login, id=self.ids.next("account"), type="Organization"))
        self.orgs[login.lower()] = org
        return org

    def add_team(self, org: Org, slug: str, **extra) -> Team:
        team = Team(
            id=self.ids.next("team"),
            org=org.login,
            slug=slug,
            name=extra.pop("name", slug),
            **extra,
        )
        org.teams[slug] = team
        return team

    def add_repo(self, owner: str, name: str, *, created_at: datetime, **extra) -> Repo:
        self.account(owner)
        key = f"{owner}/{name}".lower()
        if key in self.repos:
            raise ApiError(422, f"repository {owner}/{name} already exists")
        repo = Repo(
            id=self.ids.next("repo"),
            owner=self.account(owner).login,
            name=name,
            created_at=created_at,
            updated_at=created_at,
            **extra,
        )
        self.repos[key] = repo
        return repo

    # --- relationships -------------------------------------------------------------------
    def role(self, repo: Repo, login: str) -> str:
        """`login`'s role on `repo`: admin/maintain/write/triage/read or none — the highest
        of a direct grant and the grants of the teams they are an active member of."""
        if login.lower() == repo.owner.lower():
            return "admin"
        org = self.orgs.get(repo.owner.lower())
        if org and login in org.owners:
            return "admin"
        found = "none" if repo.private else "read"
        for name, role in repo.collaborators.items():
            if name.lower() == login.lower():
                found = role
        if org and repo.teams:
            for slug, role in repo.teams.items():
                if ROLE_RANK[role] > ROLE_RANK[found] and slug in org.teams:
                    membership = org.team_membership(slug, login)
                    if membership and membership[1] == "active":
                        found = role
        return found

    def author_association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        org = self.orgs.get(repo.owner.lower())
        if org and org.is_member(login):
            return "MEMBER"
        if any(name.lower() == login.lower() for name in repo.collaborators):
            return "COLLABORATOR"
        return "NONE"

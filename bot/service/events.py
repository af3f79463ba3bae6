"""Which pull requests a webhook event concerns: gidgethub routes events to these handlers,
which only name pull requests to reconcile; they never act on the payload's state.

So a payload is decoded into `Routing`, the handful of fields read here, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from gidgethub import routing
from gidgethub.sansio import Event

from bot.plan.report import CHECK_NAME
from bot.policy.codeowners import CODEOWNERS_LOCATIONS
from bot.policy.config import POLICY_PATH


@dataclass(frozen=True, slots=True)
class Work:
    repo: str
    number: int
    installation_id: int | None
    fresh: bool = False  # a re-requested check: start a new check run
    recover: bool = False  # a sweep: also finish an announcement whose claimant crashed


@dataclass(frozen=True, slots=True)
class BaseChanged:
    """The policy files changed on a branch: every open pull request into it is re-decided."""

    repo: str
    branch: str
    installation_id: int | None


@dataclass(frozen=True, slots=True)
class Pushed:
    """A branch moved: what flagbot serves from it (the flag exports) is read again."""

    repo: str
    branch: str


@dataclass(frozen=True, slots=True)
class TeamChanged:
    """Someone joined or left a team: the open pull requests whose code owners include it are
    re-decided, since an approval counts only while its author is in the team."""

    org: str
    teams: tuple[str, ...]  # `@org/slug` of the team and of its parent, lower-case; () = any
    installation_id: int | None

    def concerns(self, owner_teams: frozenset[str]) -> bool:
        """Whether a pull request whose code owners include `owner_teams` is affected."""
        if self.teams:
            return bool(owner_teams & set(self.teams))
        return any(t.startswith(f"@{self.org.lower()}/") for t in owner_teams)


Sink = Callable[[Work | BaseChanged | TeamChanged | Pushed], None]


class _Repository(TypedDict, total=False):
    full_name: str


class _Installation(TypedDict, total=False):
    id: int | None


class _Numbered(TypedDict, total=False):
    number: int | None


class _CheckRun(TypedDict, total=False):
    name: str | None
    pull_requests: list[_Numbered] | None


class _CheckSuite(TypedDict, total=False):
    pull_requests: list[_Numbered] | None


class _Commit(TypedDict, total=False):
    added: list[str] | None
    modified: list[str] | None
    removed: list[str] | None


class _Slug(TypedDict, total=False):
    slug: str | None


class _Team(TypedDict, total=False):
    slug: str | None
    parent: _Slug | None


class _Org(TypedDict, total=False):
    login: str | None


class Routing(TypedDict, total=False):
    """Every payload field the handlers below read (keep it in step with them); a decoder
    for this type skips the rest of the payload."""

    action: str | None
    repository: _Repository | None
    installation: _Installation | None
    pull_request: _Numbered | None
    check_run: _CheckRun | None
    check_suite: _CheckSuite | None
    ref: str | None
    commits: list[_Commit] | None
    scope: str | None
    team: _Team | None
    organization: _Org | None


PULL_ACTIONS = frozenset(
    {
        "opened",
        "reopened",
        "synchronize",
        "ready_for_review",
        "converted_to_draft",
        "edited",
        "closed",
    }
)
REVIEW_ACTIONS = frozenset({"submitted", "dismissed", "edited"})
POLICY_FILES = frozenset({POLICY_PATH, *CODEOWNERS_LOCATIONS})

router = routing.Router()
# The events a handler below is registered for: any other delivery (an App may be subscribed
# to more, a repository webhook may send everything) is acknowledged and not even parsed.
ROUTED_EVENTS = frozenset(
    {"pull_request", "pull_request_review", "check_run", "check_suite", "push", "membership"}
)


def _installation(data: dict[str, Any]) -> int | None:
    inst = data.get("installation") or {}
    return int(inst["id"]) if inst.get("id") is not None else None


def _repo(data: dict[str, Any]) -> str | None:
    return (data.get("repository") or {}).get("full_name")


ACTIONS = {"pull_request": PULL_ACTIONS, "pull_request_review": REVIEW_ACTIONS}


@router.register("pull_request")
@router.register("pull_request_review")
async def pull_request(event: Event, sink: Sink) -> None:
    data = event.data
    repo, pull = _repo(data), data.get("pull_request") or {}
    if data.get("action") in ACTIONS[event.event] and repo and pull.get("number") is not None:
        sink(Work(repo, int(pull["number"]), _installation(data)))


@router.register("check_run", action="rerequested")
async def check_run_rerequested(event: Event, sink: Sink) -> None:
    data = event.data
    run, repo = data.get("check_run") or {}, _repo(data)
    if run.get("name") != CHECK_NAME or not repo:
        return
    for pull in run.get("pull_requests") or ():
        sink(Work(repo, int(pull["number"]), _installation(data), fresh=True))


@router.register("check_suite", action="rerequested")
async def check_suite_rerequested(event: Event, sink: Sink) -> None:
    data = event.data
    repo = _repo(data)
    for pull in (data.get("check_suite") or {}).get("pull_requests") or ():
        if repo:
            sink(Work(repo, int(pull["number"]), _installation(data), fresh=True))


@router.register("push")
async def push(event: Event, sink: Sink) -> None:
    data = event.data
    ref, repo = data.get("ref") or "", _repo(data)
    if not ref.startswith("refs/heads/") or not repo:
        return
    branch = ref.removeprefix("refs/heads/")
    sink(Pushed(repo, branch))
    touched = {
        path
        for commit in data.get("commits") or ()
        for key in ("added", "modified", "removed")
        for path in commit.get(key) or ()
    }
    if touched & POLICY_FILES:
        sink(BaseChanged(repo, branch, _installation(data)))


@router.register("membership")
async def membership(event: Event, sink: Sink) -> None:
    data = event.data
    org = (data.get("organization") or {}).get("login")
    team = data.get("team") or {}
    if data.get("scope") != "team" or not org:
        return
    # a deleted team comes without its slug: then every team of the organization is suspect
    slugs = (team.get("slug"), (team.get("parent") or {}).get("slug"))
    teams = tuple(f"@{org}/{slug}".lower() for slug in slugs if slug)
    sink(TeamChanged(org, teams, _installation(data)))

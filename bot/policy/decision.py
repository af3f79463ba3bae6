"""The approval decision: where a flag pull request stands in the seed's workflow, and why.

validate → manager approval → QA validation → apply change → notify, with a `rejected` end.
A pure function of plain facts that the service reads from GitHub (pull request, changed paths,
classified change requests, validation problems, the base branch's policy and CODEOWNERS,
reviews, team memberships); it decides, the service acts.

Rules (SPEC §4): a role R is satisfied for file F by a reviewer whose latest review is APPROVED,
given on the current head commit, who is not the author, and who is an owner of F (CODEOWNERS at
the base) that flagbot.yml maps to R (teams through active membership). One person satisfies at
most one role in a pull request. Dismissed reviews do not count. A CHANGES_REQUESTED review by a
person eligible for a required role rejects the change until lifted. Missing owners or roles
fail closed; anything outside `flags/` is never merged. Every path under `flags/` that the pull
request touches is either in a change request that needs approvals or named by a validation
error, and a pull request without change requests is never merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.diagnostics import Diagnostic
from bot.flags.location import in_flags_dir
from bot.policy.assignment import assign_roles
from bot.policy.changes import ChangeRequest
from bot.policy.model import Policy
from bot.policy.reviews import Review, latest_reviews

Step = Literal[
    "validate",  # not yet decidable / validation failed
    "approval",  # waiting for a role (see `waiting_for`)
    "apply_change",  # everything approved: merge now
    "notify",  # merged; stakeholders still to be told
    "done",  # merged and announced
    "rejected",  # validation errors, a change request, or fail-closed policy gaps
    "blocked",  # approved but cannot merge now (draft, conflicts)
    "not_a_flag_change",
    "closed",
]
Conclusion = Literal["success", "failure", "neutral", "action_required"]

MAX_FILES = 3000  # GitHub lists at most 3000 files of a pull request


@dataclass(frozen=True, slots=True)
class PullRequestFacts:
    number: int
    author: str
    head_sha: str
    base_sha: str
    base_ref: str
    title: str = ""
    body: str = ""
    state: Literal["open", "closed"] = "open"
    merged: bool = False
    draft: bool = False
    mergeable: bool | None = None
    merged_by_bot: bool = False  # merged by flagbot itself (not by a person bypassing it)
    notified: bool = False  # the completion comment exists already
    url: str = ""  # where people see it (html_url), for announcements


@dataclass(frozen=True, slots=True)
class DecisionInput:
    pr: PullRequestFacts
    changed_paths: tuple[str, ...]
    changes: tuple[ChangeRequest, ...]
    problems: tuple[Diagnostic, ...]  # head validation errors (flags, cross-file)
    policy: Policy  # NULL_POLICY: missing or invalid at the base commit
    policy_problems: tuple[Diagnostic, ...]
    owners: Mapping[str, tuple[str, ...] | None]  # flag path -> its CODEOWNERS owners at base
    codeowners_path: str | None
    reviews: tuple[Review, ...]
    memberships: Mapping[tuple[str, str], bool] = field(default_factory=dict)
    files_truncated: bool = False


@dataclass(frozen=True, slots=True)
class RoleStatus:
    role: str
    flags: tuple[str, ...]  # flag keys (paths) that need this role
    approved_by: tuple[str, ...]
    eligible: tuple[str, ...]  # owner entries that may still approve
    satisfied: bool


@dataclass(frozen=True, slots=True)
class Decision:
    step: Step
    title: str
    conclusion: Conclusion | None  # None: still in progress
    reasons: tuple[str, ...] = ()
    roles: tuple[RoleStatus, ...] = ()
    approvers: Mapping[str, str] = field(default_factory=dict)  # role -> login (trailers)
    rejected_by: tuple[str, str] | None = None  # (login, comment)
    waiting_for: str | None = None

    @property
    def should_merge(self) -> bool:
        return self.step == "apply_change"


def role_label(role: str) -> str:
    """How the seed names the step a role stands for."""
    return {"manager": "manager approval", "qa": "QA validation"}.get(role, f"{role} approval")


def ordered_roles(policy: Policy, needed: set[str]) -> list[str]:
    """Manager first, then QA, then the others in flagbot.yml's order."""
    head = [r for r in ("manager", "qa") if r in needed]
    rest = [r for r in policy.roles if r in needed and r not in head]
    return head + rest + sorted(needed - set(head) - set(rest))


def _owner_matches(owner: str, login: str, memberships: Mapping[tuple[str, str], bool]) -> bool:
    o = owner.lower()
    if o.startswith("@") and "/" in o:
        return memberships.get((o, login.lower()), False)
    return o.startswith("@") and o[1:] == login.lower()


def eligible_owners(policy: Policy, owners: Sequence[str], role: str) -> tuple[str, ...]:
    mapped = {x.lower() for x in policy.roles.get(role, ())}
    return tuple(o for o in owners if o.lower() in mapped)


def membership_questions(inp: DecisionInput) -> set[tuple[str, str]]:
    """The (team, login) pairs whose membership the decision needs; the service asks GitHub."""
    if inp.policy.is_null:
        return set()
    reviewers = {r.user.lower() for r in latest_reviews(inp.reviews).values()}
    reviewers.discard(inp.pr.author.lower())
    teams: set[str] = set()
    for change in inp.changes:
        for path in change.paths:
            owners = inp.owners.get(path) or ()
            for role in inp.policy.required_roles(
                change.environment, change.change_type, change.enabled_after
            ):
                teams |= {o.lower() for o in eligible_owners(inp.policy, owners, role) if "/" in o}
    return {(t, u) for t in teams for u in reviewers}


def decide(inp: DecisionInput) -> Decision:
    pr = inp.pr
    if pr.merged:
        if not pr.merged_by_bot:
            return Decision(
                "done",
                "Merged outside flagbot",
                "neutral",
                ("Someone merged this pull request without waiting for flagbot's approvals.",),
            )
        wants_notice = inp.policy.notify_on_complete  # True for the null policy
        if pr.notified or not wants_notice:
            return Decision("done", "Merged", "success")
        return Decision("notify", "Merged", "success", ("Announcing the change.",))
    if pr.state == "closed":
        return Decision("closed", "Closed without merging", "neutral")

    outside = [p for p in inp.changed_paths if not in_flags_dir(p)]
    if outside:
        shown = ", ".join(outside[:5]) + (" …" if len(outside) > 5 else "")
        if len(outside) == len(inp.changed_paths):
            return Decision(
                "not_a_flag_change",
                "Not a flag change",
                "neutral",
                (f"This pull request changes no flag file ({shown}); flagbot leaves it alone.",),
            )
        return Decision(
            "rejected",
            "Rejected: not only flag files",
            "failure",
            (
                f"Besides flag files this pull request changes {shown}. flagbot never merges "
                "those; move them to a separate pull request.",
            ),
        )
    if inp.files_truncated or len(inp.changed_paths) >= MAX_FILES:
        return Decision(
            "rejected",
            "Rejected: too many files",
            "failure",
            (f"GitHub lists at most {MAX_FILES} files; split this pull request.",),
        )
    if not inp.changed_paths:
        return Decision("validate", "Nothing to review", "neutral", ("No files changed.",))

    if inp.policy.is_null or any(d.is_error for d in inp.policy_problems):
        reasons = tuple(str(d) for d in inp.policy_problems if d.is_error) or (
            ".github/flagbot.yml is missing on the base branch: add one that maps roles to owners.",
        )
        return Decision(
            "rejected", "Rejected: no valid policy on the base branch", "failure", reasons
        )

    errors = [d for d in inp.problems if d.is_error]
    if errors:
        n = len(errors)
        return Decision(
            "rejected",
            f"Rejected: {n} validation error{'s' if n != 1 else ''}",
            "failure",
            tuple(str(d) for d in errors),
        )
    unapproved = unaccounted_paths(inp)
    if unapproved or not inp.changes:
        shown = ", ".join(unapproved[:5]) + (" …" if len(unapproved) > 5 else "")
        return Decision(
            "rejected",
            "Rejected: a change nobody can approve",
            "failure",
            (
                f"This pull request changes {shown or 'files in flags/'} without a flag change "
                "that approvers could be asked about, and flagbot never merges what nobody "
                "approved: change flag files only (flags/<key>.yaml or "
                "flags/<environment>/<key>.yaml).",
            ),
        )
    return _decide_approvals(inp, inp.policy)


def unaccounted_paths(inp: DecisionInput) -> list[str]:
    """Paths under flags/ that this pull request touches but that neither a change request
    puts to approvers nor a validation error rejects. There must be none: the one rule is
    that every such path needs approval or stops the merge."""
    covered = {p for c in inp.changes for p in c.paths}
    covered |= {d.path for d in inp.problems if d.is_error}
    return [p for p in inp.changed_paths if in_flags_dir(p) and p not in covered]


def _decide_approvals(inp: DecisionInput, policy: Policy) -> Decision:
    pr = inp.pr
    # (change, role) pairs and who may satisfy each.
    gaps: list[str] = []
    needs: list[tuple[ChangeRequest, str, tuple[str, ...]]] = []
    # A rename that keeps the key is put to the owners of both its paths.
    for change, path in ((c, p) for c in inp.changes for p in c.paths):
        owners = inp.owners.get(path)
        roles = policy.required_roles(change.environment, change.change_type, change.enabled_after)
        if not owners:
            where = inp.codeowners_path or ".github/CODEOWNERS"
            gaps.append(
                f"{path} has no code owner: add a rule for it to {where} with the owners "
                f"of the roles it needs ({', '.join(roles)})."
            )
            continue
        for role in roles:
            eligible = eligible_owners(policy, owners, role)
            if not eligible:
                mapped = ", ".join(policy.roles.get(role, ())) or "nobody"
                gaps.append(
                    f"{path} needs {role_label(role)} but none of its code owners "
                    f"({' '.join(owners)}) has the role {role!r} (mapped to {mapped}): add one to "
                    "its CODEOWNERS rule or map an owner to the role in .github/flagbot.yml."
                )
                continue
            if not any(o.startswith("@") for o in eligible):  # e-mail addresses only
                where = inp.codeowners_path or ".github/CODEOWNERS"
                gaps.append(
                    f"{path} needs {role_label(role)} but only e-mail addresses hold the role "
                    f"among its code owners ({' '.join(eligible)}), and a review names a GitHub "
                    f"login: name them as @login or @org/team in {where} and .github/flagbot.yml."
                )
                continue
            needs.append((change, role, eligible))
    if gaps:
        return Decision(
            "rejected", "Rejected: approval policy not satisfiable", "failure", tuple(gaps)
        )

    latest = latest_reviews(inp.reviews)
    author = pr.author.lower()

    def can_act(login: str, eligible: Sequence[str]) -> bool:
        return login != author and any(_owner_matches(o, login, inp.memberships) for o in eligible)

    # A change request by anyone eligible for a required role rejects until lifted.
    for login, review in latest.items():
        if review.state == "CHANGES_REQUESTED" and any(can_act(login, e) for _, _, e in needs):
            comment = review.body.strip()
            return Decision(
                "rejected",
                f"Rejected by @{review.user}",
                "failure",
                (f"@{review.user} requested changes" + (f": {comment}" if comment else "."),),
                rejected_by=(review.user, comment),
            )

    approvers = sorted(
        login
        for login, r in latest.items()
        if r.state == "APPROVED" and r.commit_id == pr.head_sha and login != author
    )
    stale = sorted(
        login
        for login, r in latest.items()
        if r.state == "APPROVED" and r.commit_id != pr.head_sha and login != author
    )
    order = ordered_roles(policy, {role for _, role, _ in needs})
    assignment = assign_roles(order, needs, approvers, can_act)

    statuses: list[RoleStatus] = []
    waiting: str | None = None
    for role in order:
        pairs = [(c, e) for c, r, e in needs if r == role]
        holders = [u for u, r in assignment.items() if r == role]
        ok = all(any(can_act(u, e) for u in holders) for _, e in pairs)
        eligible = sorted({o for _, e in pairs for o in e}, key=str.lower)
        statuses.append(
            RoleStatus(
                role=role,
                flags=tuple(dict.fromkeys(c.path for c, _ in pairs)),
                approved_by=tuple(holders),
                eligible=tuple(eligible),
                satisfied=ok,
            )
        )
        if not ok and waiting is None:
            waiting = role

    login_of = {r.user.lower(): r.user for r in latest.values()}
    approvers_by_role = {
        role: login_of.get(u, u) for u, role in sorted(assignment.items(), key=lambda x: x[0])
    }
    reasons: list[str] = []
    if stale:
        reasons.append(
            "Approvals given on an earlier commit no longer count: "
            + ", ".join(f"@{login_of.get(u, u)}" for u in stale)
            + " (re-approve the current head)."
        )
    if waiting is not None:
        return Decision(
            "approval",
            f"Waiting for {role_label(waiting)}",
            None,
            tuple(reasons),
            tuple(statuses),
            approvers_by_role,
            waiting_for=waiting,
        )
    if pr.draft:
        return Decision(
            "blocked",
            "Approved; draft pull requests are never merged",
            None,
            ("Mark the pull request ready for review to merge it.",),
            tuple(statuses),
            approvers_by_role,
        )
    if pr.mergeable is False:
        return Decision(
            "blocked",
            "Approved, but it conflicts with the base branch",
            "action_required",
            ("Update the branch (merge or rebase the base) and ask for approval again.",),
            tuple(statuses),
            approvers_by_role,
        )
    return Decision(
        "apply_change",
        "Approved: merging",
        None,
        tuple(reasons),
        tuple(statuses),
        approvers_by_role,
    )

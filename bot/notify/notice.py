"""What flagbot tells people, as plain data: one notice, rendered per channel.

The fields follow the seed's notification data (flag key, change type, requested by,
environment, reason, approver, validator, applied) so receivers written for it keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.policy.changes import ChangeRequest
from bot.rollout.schedule import fmt_pct


@dataclass(frozen=True, slots=True)
class Notice:
    event: str  # "flag_change_applied" | "rollout_complete" | "rollout_paused"
    subject: str
    text: str  # plain text, a few lines
    records: tuple[dict[str, Any], ...]  # one JSON record per flag, the seed's fields
    link: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The generic JSON webhook body."""
        return {
            "event": self.event,
            "subject": self.subject,
            "text": self.text,
            "link": self.link,
            "records": list(self.records),
            **self.extra,
        }


def change_applied(
    changes: Sequence[ChangeRequest],
    *,
    repository: str,
    pull_number: int,
    pull_url: str | None,
    approvers: Mapping[str, str],
    merge_sha: str,
    applied_at: datetime,
) -> Notice:
    records = tuple(
        {
            "flag_key": c.key,
            "change_type": c.change_type,
            "requested_by": c.requested_by,
            "environment": c.environment,
            "reason": c.reason,
            "approver": approvers.get("manager"),
            "validator": approvers.get("qa"),
            "approvals": dict(approvers),
            "applied": True,
            "applied_at": applied_at.isoformat(),
            "changes": [
                {"field": f.field, "before": _jsonable(f.before), "after": _jsonable(f.after)}
                for f in c.changes
            ],
        }
        for c in changes
    )
    what = ", ".join(f"{c.change_type} {c.key} ({c.environment})" for c in changes)
    subject = f"[{repository}] flag change applied: {what}"
    by = ", ".join(f"{role} @{login}" for role, login in approvers.items()) or "nobody"
    requested = changes[0].requested_by if changes else "?"
    lines = [
        f"{what} — merged as {merge_sha[:7]} from pull request #{pull_number}.",
        f"Requested by @{requested}; approved by {by}.",
    ]
    reason = changes[0].reason if changes else ""
    if reason:
        lines.append(f"Reason: {reason.splitlines()[0]}")
    return Notice(
        event="flag_change_applied",
        subject=subject,
        text="\n".join(lines),
        records=records,
        link=pull_url,
        extra={"repository": repository, "pull_request": pull_number, "merge_commit": merge_sha},
    )


def rollout_complete(
    *,
    repository: str,
    key: str,
    environment: str,
    stages: Sequence[float],
    commit_sha: str,
    completed_at: datetime,
    link: str | None = None,
) -> Notice:
    plan = " → ".join(f"{fmt_pct(p)}%" for p in stages)
    record = {
        "flag_key": key,
        "change_type": "rollout",
        "environment": environment,
        "percentage": stages[-1] if stages else 100,
        "stages": list(stages),
        "completed_at": completed_at.isoformat(),
        "commit": commit_sha,
    }
    return Notice(
        event="rollout_complete",
        subject=f"[{repository}] rollout complete: {key} ({environment}) at {fmt_pct(stages[-1])}%",
        text=f"{key} ({environment}) finished its staged rollout {plan} "
        f"with commit {commit_sha[:7]}.",
        records=(record,),
        link=link,
        extra={"repository": repository},
    )


def guard_tripped(
    *,
    repository: str,
    key: str,
    environment: str,
    from_percentage: float,
    to_percentage: float,
    failures: Sequence[Mapping[str, str]],
    commit_sha: str,
    at: datetime,
    link: str | None = None,
) -> Notice:
    """A guard failed and the job paused the rollout (or rolled it back one stage and paused).
    `failures`: each failed guard's `guard`, `value` and `threshold`."""
    if to_percentage != from_percentage:
        what = f"rolled back {fmt_pct(from_percentage)}% → {fmt_pct(to_percentage)}% and paused"
    else:
        what = f"paused at {fmt_pct(from_percentage)}%"
    record = {
        "flag_key": key,
        "change_type": "rollout",
        "environment": environment,
        "percentage": to_percentage,
        "previous_percentage": from_percentage,
        "paused": True,
        "guards": [dict(f) for f in failures],
        "paused_at": at.isoformat(),
        "commit": commit_sha,
    }
    lines = [f"{key} ({environment}) {what} by commit {commit_sha[:7]}: a guard failed."]
    lines += [f"- {f['guard']}: {f['value']}, needs {f['threshold']}" for f in failures]
    lines.append("Resume with a reviewed pull request that sets rollout.paused: false.")
    return Notice(
        event="rollout_paused",
        subject=f"[{repository}] rollout {what}: {key} ({environment})",
        text="\n".join(lines),
        records=(record,),
        link=link,
        extra={"repository": repository},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value.__class__.__name__ == "_Missing":
        return None
    return value


def approval_expired(
    changes: Sequence[ChangeRequest],
    *,
    repository: str,
    pull_number: int,
    pull_url: str | None,
    waited: str,
    missing: Sequence[str],
    closed: bool,
    expired_at: datetime,
) -> Notice:
    what = ", ".join(f"{c.change_type} {c.key} ({c.environment})" for c in changes) or "a change"
    outcome = "closed" if closed else "failed its flagbot check"
    return Notice(
        event="flag_change_expired",
        subject=f"[{repository}] flag change expired: {what}",
        text=f"{what} from pull request #{pull_number} waited {waited} for "
        f"{', '.join(missing) or 'approval'} and {outcome}.",
        records=tuple(
            {
                "flag_key": c.key,
                "change_type": c.change_type,
                "requested_by": c.requested_by,
                "environment": c.environment,
                "applied": False,
                "expired_at": expired_at.isoformat(),
            }
            for c in changes
        ),
        link=pull_url,
        extra={"repository": repository, "pull_request": pull_number},
    )

"""The bot's verdict on a local branch, for a terminal (plain text) or a script (JSON). Pure.

The words are the check run's (`bot/plan/report.py`): the decision's title and reasons,
one entry per change request with its before → after, and the roles it needs with the code
owners who may approve each. Roles per change come from the same `Policy.required_roles` and
`eligible_owners` that `decide` uses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.local.pull import LocalPull
from bot.policy.changes import MISSING, ChangeRequest, FieldChange
from bot.policy.codeowners import CODEOWNERS_LOCATIONS
from bot.policy.config import POLICY_PATH
from bot.policy.decision import Decision, DecisionInput, eligible_owners, ordered_roles, role_label

MAX_FIELDS = 12  # per change in text; JSON carries them all
MAX_VALUE = 60


@dataclass(frozen=True, slots=True)
class RoleNeed:
    role: str
    eligible: tuple[str, ...]  # empty: nobody may approve, the bot fails closed


def role_needs(inp: DecisionInput, change: ChangeRequest) -> tuple[RoleNeed, ...]:
    """The roles one change needs and the owners of its file that may approve each."""
    policy = inp.policy
    if policy.is_null:
        return ()
    roles = policy.required_roles(change.environment, change.change_type, change.enabled_after)
    owners = inp.owners.get(change.path) or ()
    return tuple(
        RoleNeed(role, eligible_owners(policy, owners, role))
        for role in ordered_roles(policy, set(roles))
    )


def policy_changes(inp: DecisionInput) -> list[str]:
    """flagbot.yml or CODEOWNERS paths the branch changes; the bot judges with the base's."""
    watched = {POLICY_PATH, *CODEOWNERS_LOCATIONS}
    return [p for p in inp.changed_paths if p in watched]


def is_rejection(decision: Decision) -> bool:
    return decision.step == "rejected"


# Plain text ----------------------------------------------------------------------------------


def render_text(pull: LocalPull, inp: DecisionInput, decision: Decision) -> str:
    pr = inp.pr
    lines = [
        f"{pull.base_ref}...{pull.head_ref}: merge base {pull.merge_base[:7]} → head "
        f"{pull.head_sha[:7]}",
        f"Requested by {pr.author}: {pr.title}" if pr.title else f"Requested by {pr.author}",
        "",
        decision.title,
    ]
    lines += [f"  {reason}" for reason in decision.reasons]
    for n, change in enumerate(inp.changes, 1):
        lines.append("")
        lines.append(
            f"{n}. {change.change_type} {change.key} ({change.environment})  {change.path}"
        )
        lines += _table(_field_rows(change) + _role_rows(role_needs(inp, change)), indent="   ")
    lines.append("")
    lines += _footer(pull, inp, decision)
    return "\n".join(lines)


def _field_rows(change: ChangeRequest) -> list[list[str]]:
    if not change.changes:
        return [["(no field changed: formatting or comments)"]]
    header = {"create": ["field", "value"], "delete": ["field", "was"]}.get(
        change.change_type, ["field", "before", "after"]
    )
    rows = [header]
    for f in change.changes[:MAX_FIELDS]:
        if change.change_type == "create":
            rows.append([f.field, _value(f.after)])
        elif change.change_type == "delete":
            rows.append([f.field, _value(f.before)])
        else:
            rows.append([f.field, _value(f.before), _value(f.after)])
    if len(change.changes) > MAX_FIELDS:
        rows.append([f"… {len(change.changes) - MAX_FIELDS} more"])
    return rows


def _role_rows(needs: Sequence[RoleNeed]) -> list[list[str]]:
    if not needs:
        return []
    rows = [["needs", "who may approve"]]
    for need in needs:
        who = " ".join(need.eligible) if need.eligible else "nobody (the bot fails closed)"
        rows.append([role_label(need.role), who])
    return rows


def _footer(pull: LocalPull, inp: DecisionInput, decision: Decision) -> list[str]:
    base = f"{pull.base_ref} ({pull.base_sha[:7]})"
    owners = inp.codeowners_path or "no CODEOWNERS"
    out = [f"Rules: {POLICY_PATH} and {owners} as on {base}."]
    for path in policy_changes(inp):
        out.append(
            f"This branch changes {path}; the bot ignores that and judges with the version on "
            f"{pull.base_ref}, so a pull request cannot grant itself approval."
        )
    if len(decision.roles) > 1:
        order = ", then ".join(role_label(r.role) for r in decision.roles)
        out.append(
            f"Approvals come in this order: {order}. One person holds at most one role, and "
            "nobody approves their own pull request."
        )
    return out


def _table(rows: Sequence[Sequence[str]], indent: str) -> list[str]:
    """Left-aligned columns; rows may have fewer cells than the widest."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    out = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + list(row[-1:])
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def _value(v: Any) -> str:
    if v is MISSING:
        return "(unset)"
    text = json.dumps(v, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


# JSON ----------------------------------------------------------------------------------------


def render_json(pull: LocalPull, inp: DecisionInput, decision: Decision) -> str:
    pr = inp.pr
    doc = {
        "base": {"ref": pull.base_ref, "sha": pull.base_sha},
        "head": {"ref": pull.head_ref, "sha": pull.head_sha},
        "merge_base": pull.merge_base,
        "requested_by": pr.author,
        "reason": pr.title,
        "step": decision.step,
        "title": decision.title,
        "rejected": is_rejection(decision),
        "reasons": list(decision.reasons),
        "changes": [_change_json(inp, c) for c in inp.changes],
        "roles": [
            {
                "role": r.role,
                "label": role_label(r.role),
                "flags": list(r.flags),
                "eligible": list(r.eligible),
            }
            for r in decision.roles
        ],
        "problems": [asdict(d) for d in inp.problems],
        "rules_from": {
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "policy": POLICY_PATH,
            "codeowners": inp.codeowners_path,
        },
        "ignored_rule_changes": policy_changes(inp),
    }
    return json.dumps(doc, indent=2, default=str, ensure_ascii=False)


def _change_json(inp: DecisionInput, change: ChangeRequest) -> dict[str, Any]:
    return {
        "key": change.key,
        "environment": change.environment,
        "change_type": change.change_type,
        "path": change.path,
        "fields": [_field_json(f) for f in change.changes],
        "roles": [
            {"role": n.role, "label": role_label(n.role), "eligible": list(n.eligible)}
            for n in role_needs(inp, change)
        ],
    }


def _field_json(f: FieldChange) -> dict[str, Any]:
    """An absent side is left out, so `null` always means an explicit YAML null."""
    out: dict[str, Any] = {"field": f.field}
    if f.before is not MISSING:
        out["before"] = f.before
    if f.after is not MISSING:
        out["after"] = f.after
    return out

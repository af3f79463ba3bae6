"""What the bot writes on GitHub, as pure functions of a decision: the check run's output, the
merge commit's title and trailers, the completion comment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.diagnostics import Diagnostic
from bot.policy.changes import MISSING, ChangeRequest
from bot.policy.decision import Decision, role_label

CHECK_NAME = "flagbot"
MAX_SUMMARY = 65_000  # GitHub caps output.summary at 65535 characters
MAX_ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per create/update call
COMMENT_MARKER = "<!-- flagbot:applied -->"


@dataclass(frozen=True, slots=True)
class CheckOutput:
    status: str  # "in_progress" | "completed"
    conclusion: str | None
    title: str
    summary: str
    annotations: tuple[dict[str, Any], ...]

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """Annotations in GitHub-sized batches: the first goes with the create/update call and
        later ones are appended by further updates."""
        items = list(self.annotations)
        for i in range(0, len(items), MAX_ANNOTATIONS_PER_REQUEST):
            yield items[i : i + MAX_ANNOTATIONS_PER_REQUEST]


def check_output(
    decision: Decision, changes: Sequence[ChangeRequest], problems: Sequence[Diagnostic]
) -> CheckOutput:
    status = "completed" if decision.conclusion else "in_progress"
    parts = [f"**{decision.title}**"]
    if decision.reasons:
        parts.append("\n".join(f"- {_md(r)}" for r in decision.reasons))
    if changes:
        parts.append(_changes_table(changes))
    if decision.roles:
        parts.append(_roles_table(decision))
    summary = "\n\n".join(parts)
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 40] + "\n\n… (truncated)"
    annotations = tuple(annotation(d) for d in problems if d.line)
    return CheckOutput(status, decision.conclusion, decision.title, summary, annotations)


def annotation(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": d.path,
        "start_line": d.line,
        "end_line": d.line,
        "annotation_level": "failure" if d.is_error else "warning",
        "message": d.message,
        "title": "flagbot validation",
    }
    if d.column:  # columns only when start and end are on one line, as here
        out["start_column"] = out["end_column"] = d.column
    return out


def _changes_table(changes: Sequence[ChangeRequest]) -> str:
    rows = ["| Flag | Environment | Change | Before → after |", "|---|---|---|---|"]
    for c in changes:
        rows.append(f"| `{c.key}` | {c.environment} | {c.change_type} | {_fields(c)} |")
    return "\n".join(rows)


def _fields(c: ChangeRequest, limit: int = 8) -> str:
    if not c.changes:
        return "no field changed (formatting or comments)"
    shown = []
    for f in c.changes[:limit]:
        if c.change_type == "create":
            shown.append(f"`{f.field}` = {_value(f.after)}")
        elif c.change_type == "delete":
            shown.append(f"`{f.field}` was {_value(f.before)}")
        else:
            shown.append(f"`{f.field}`: {_value(f.before)} → {_value(f.after)}")
    if len(c.changes) > limit:
        shown.append(f"… {len(c.changes) - limit} more")
    return "<br>".join(shown)


def _value(v: Any) -> str:
    if v is MISSING:
        return "(unset)"
    text = json.dumps(v, default=str, ensure_ascii=False)
    if len(text) > 60:
        text = text[:57] + "…"
    return f"`{_md(text)}`"


def _roles_table(decision: Decision) -> str:
    rows = ["| Step | Approved by | May still approve |", "|---|---|---|"]
    for r in decision.roles:
        done = ", ".join(f"@{u}" for u in r.approved_by) if r.approved_by else "—"
        mark = "✅ " if r.satisfied else "⏳ "
        pending = "—" if r.satisfied else " ".join(r.eligible)
        rows.append(f"| {mark}{role_label(r.role)} | {done} | {pending} |")
    return "\n".join(rows)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# Merge commit ---------------------------------------------------------------------------------

_TRAILER_NAMES = {"manager": "Manager-approved-by", "qa": "QA-validated-by"}


def trailer_name(role: str) -> str:
    return _TRAILER_NAMES.get(role, f"{role.capitalize()}-approved-by")


def merge_title(changes: Sequence[ChangeRequest], pull_number: int) -> str:
    if len(changes) == 1:
        c = changes[0]
        what = f"{c.change_type} {c.key}" + (
            f" ({c.environment})" if c.environment != "production" else ""
        )
    else:
        kinds = ", ".join(f"{c.change_type} {c.key}" for c in changes[:3])
        what = f"{len(changes)} flag changes: {kinds}" + (" …" if len(changes) > 3 else "")
    return f"flagbot: {what} (#{pull_number})"


def merge_message(
    changes: Sequence[ChangeRequest],
    approvers: Mapping[str, str],
    *,
    title: str,
    requested_by: str,
) -> str:
    lines = [title.strip()] if title.strip() else []
    lines.append("")
    for c in changes:
        lines.append(f"- {c.change_type} {c.key} ({c.environment})")
        for f in c.changes[:20]:
            if c.change_type in ("create", "delete"):
                continue
            lines.append(f"  {f.field}: {_plain(f.before)} -> {_plain(f.after)}")
    lines.append("")
    lines.append(f"Requested-by: {requested_by}")
    for role, login in approvers.items():
        lines.append(f"{trailer_name(role)}: {login}")
    return "\n".join(lines).lstrip("\n")


def _plain(v: Any) -> str:
    if v is MISSING:
        return "(unset)"
    return json.dumps(v, default=str, ensure_ascii=False)


def completion_comment(
    changes: Sequence[ChangeRequest],
    approvers: Mapping[str, str],
    merge_sha: str,
    failed_channels: Sequence[str] = (),
) -> str:
    what = ", ".join(f"`{c.key}` ({c.environment}, {c.change_type})" for c in changes)
    by = ", ".join(f"{role_label(r)} by @{u}" for r, u in approvers.items())
    text = f"{COMMENT_MARKER}\n✅ Applied {what} in {merge_sha[:7]} after {by}."
    if failed_channels:
        text += "\n\n⚠️ Could not notify: " + ", ".join(failed_channels) + "."
    return text

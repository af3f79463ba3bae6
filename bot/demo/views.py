"""What the demo shows of GitHub's answers: the check run's approval table, a rejection with
its annotated lines, the merge commit, the notifications received. Pure: data in, lines out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.demo.receivers import Received
from bot.demo.render import body_width, columns, excerpt, markdown_table, wrap
from bot.demo.seed import CAST
from bot.demo.style import Style
from bot.plan.report import CHECK_NAME
from bot.policy.model import Policy


def waiting(title: str, style: Style) -> str:
    return style.paint(f"{style.glyph('wait')} {title}", "yellow", "bold")


def check_run_lines(run: Mapping[str, Any], style: Style, *, changes: bool = True) -> list[str]:
    """The changes flagbot found, the check run's title, and its table of who approved and who
    may still approve (read back from the summary's markdown, as GitHub shows it)."""
    summary = run["output"]["summary"]
    lines = []
    for flag, environment, change, *_ in markdown_table(summary, "Flag") if changes else ():
        lines.append(f"checks it: {change} {flag} ({environment}): valid")
    title = waiting(run["output"]["title"], style)
    lines.append(f"check run {CHECK_NAME} on {run['head_sha'][:7]}: {title}")
    rows = [[style.dim("step"), style.dim("approved by"), style.dim("may still approve")]]
    for step, approved, eligible in markdown_table(summary, "Step"):
        mark = style.glyph("ok") if step.startswith("✅") else style.glyph("wait")
        rows.append([f"{mark} {step.lstrip('✅⏳ ')}", approved, with_members(eligible)])
    return lines + ["  " + row for row in columns(rows)]


def with_members(owners: str) -> str:
    """`@acme/eng-managers` → `@acme/eng-managers (mgr)`: who is in the team, from the seed."""
    out = []
    for owner in owners.split():
        team = owner.rsplit("/", 1)[-1] if owner.startswith("@") and "/" in owner else None
        members = [m.login for m in CAST if team and m.team == team]
        out.append(f"{owner} ({', '.join(members)})" if members else owner)
    return " ".join(out) or "—"


def rejection_lines(
    title: str, notes: Sequence[Mapping[str, Any]], source: str, style: Style
) -> list[str]:
    """The rejection, then each annotation as `path:line:col  message` over the line it names
    (`source`: the file as the pull request has it)."""
    head = style.paint(f"{style.glyph('no')} {title}", "red", "bold")
    lines = [f"{head}  (check run: failure, {len(notes)} annotations on the diff)"]
    for note in notes:
        column = note.get("start_column")
        where = f"{note['path']}:{note['start_line']}" + (f":{column}" if column else "")
        lines.append(f"{style.bold(where)}  {note['message']}")
        lines += excerpt(source, note["start_line"], column, style, indent=2)
    return lines


def merge_lines(
    number: int, sha: str, message: str, trailers: Sequence[str], policy: Policy, style: Style
) -> list[str]:
    ok = style.paint(f"{style.glyph('ok')} Merged", "green", "bold")
    return [
        f"{ok}: {policy.merge_method}-merges #{number} with the head it checked",
        f"{style.paint(sha[:7], 'yellow')} {message.splitlines()[0]}",
        *(f"        {t}" for t in trailers),
    ]


def received_lines(
    got: Sequence[Received], channels: Sequence[str], style: Style, *, brief: bool = False
) -> list[str]:
    """One notice as its receivers got it: the subject once, then each channel's view."""
    subject = quoted(got[0].subject) if got else "nothing"
    if brief:
        return wrap(f"{subject} on {', '.join(channels)}", body_width())
    rows: list[list[str]] = []
    for r in sorted(got, key=lambda r: channels.index(r.channel)):
        detail = wrap(_detail(r, style), body_width() - 18)
        rows.append([style.bold(r.channel), detail[0]])
        rows += [["", more] for more in detail[1:]]
    return [subject, *columns(rows)]


def quoted(text: str) -> str:
    return f"“{text}”"


def _detail(r: Received, style: Style) -> str:
    if r.type == "email":
        return f"e-mail to {', '.join(r.to)}"
    if r.type == "webhook":
        record = (r.body.get("records") or [{}])[0]
        keys = ("flag_key", "change_type", "requested_by", "approver", "validator")
        fields = ", ".join(f"{k} {record.get(k)}" for k in keys if record.get(k))
        signed = f", signed {style.glyph('ok')}" if r.signed else ""
        return f"JSON {r.body.get('event')}{signed}: {fields}"
    lines = str((r.body or {}).get("text", "")).splitlines()
    return f"Slack: {lines[1]}" if len(lines) > 1 else "Slack message"

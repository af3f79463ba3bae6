"""The pull-request half of the demo, as the people of the seed play it on the emulated GitHub:
a flag created, approved by a manager, validated by QA, merged and announced; a bad change
rejected with its lines named; an emergency switch-off approved by on-call alone.

Every step reads back what GitHub shows (the `flagbot` check run, its annotations, the merge
commit, the comment, what the receivers got) and checks it is what the story says, so a
regression in the bot stops the demo with the step that went wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from bot.demo.page import Page
from bot.demo.receivers import Inbox, Received
from bot.demo.render import body_width, columns, excerpt, markdown_table, wrap
from bot.demo.seed import CAST, KILL_SWITCH, NEW_FLAG, REPO
from bot.emulator.people import Person
from bot.policy.model import Policy
from bot.sandbox import Sandbox
from bot.service.report import CHECK_NAME, COMMENT_MARKER

TRAILER = re.compile(r"^[A-Z][A-Za-z-]*-by: \S+$")


class StoryFailed(Exception):
    """A step did not turn out as the story says: the bot (or the demo) regressed."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step {step}: {message}")
        self.step = step


def expect(condition: bool, step: str, message: str) -> None:
    if not condition:
        raise StoryFailed(step, message)


@dataclass(frozen=True, slots=True)
class Pull:
    """A pull request of the story, for the summary."""

    number: int
    change: str  # "create new_checkout_flow"
    outcome: str  # "merged" | "rejected: …"
    people: str  # "dev → mgr (manager) → qa (QA)"
    merge_sha: str | None = None
    merged_at: datetime | None = None


@dataclass
class Story:
    stack: Sandbox
    inbox: Inbox
    page: Page
    files: dict[str, str]  # the flagbot checkout's files the story uses
    policy: Policy
    day: datetime  # midnight UTC of the simulated day
    pulls: list[Pull] = field(default_factory=list)

    # --- reading GitHub as a person sees it --------------------------------------------------
    @property
    def github(self) -> Person:
        return self.stack.emulator.person("dev")

    def at(self, hour: int, minute: int) -> datetime:
        """Move the emulated GitHub's clock to this time of the simulated day."""
        moment = datetime.combine(self.day.date(), time(hour, minute), self.day.tzinfo)
        self.stack.emulator.clock.set(moment)
        return moment

    def pull(self, number: int) -> dict[str, Any]:
        return self.github.pr(REPO, number)

    def check_run(self, number: int) -> dict[str, Any]:
        head = self.pull(number)["head"]["sha"]
        runs = self.github.get(f"/repos/{REPO}/commits/{head}/check-runs?check_name={CHECK_NAME}")
        found = sorted(runs["check_runs"], key=lambda r: r["id"])
        if not found:
            raise StoryFailed(f"#{number}", f"flagbot wrote no check run on {head[:7]}")
        return found[-1]

    def annotations(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        return self.github.get(f"/repos/{REPO}/check-runs/{run['id']}/annotations")

    def file_at(self, path: str, ref: str) -> str:
        import base64

        data = self.github.get(f"/repos/{REPO}/contents/{path}?ref={ref}")
        return base64.b64decode(data["content"]).decode("utf-8")

    def commit_message(self, sha: str) -> str:
        return self.github.get(f"/repos/{REPO}/commits/{sha}")["commit"]["message"]

    async def open(
        self, who: str, files: dict[str, str], branch: str, title: str, body: str
    ) -> int:
        pr = self.stack.emulator.person(who).propose(
            REPO, files, branch=branch, title=title, body=body
        )
        await self.stack.settle()
        return int(pr["number"])

    async def approve(self, who: str, number: int, body: str = "") -> None:
        self.stack.emulator.person(who).approve(REPO, number, body)
        await self.stack.settle()

    # --- the steps ---------------------------------------------------------------------------
    async def create_flag(self) -> int:
        step = "1"
        when = self.at(9, 30)
        self.page.heading("1  dev proposes a new flag", _hm(when))
        text = self.files[NEW_FLAG]
        n = await self.open(
            "dev",
            {NEW_FLAG: text},
            "new-checkout-flow",
            "Create the new_checkout_flow flag",
            "Ship the single-page checkout behind a staged rollout, starting at 5%.",
        )
        self.page.actor(
            "dev",
            [
                f'opens #{n} "Create the new_checkout_flow flag"',
                self.style.dim(f"+ {NEW_FLAG} ({len(text.splitlines())} lines)"),
            ],
        )
        run = self.check_run(n)
        self._expect_title(step, run, "Waiting for manager approval")
        self._report_waiting(run)
        return n

    async def manager_approves(self, n: int) -> None:
        when = self.at(9, 45)
        self.page.heading("2  mgr approves: manager approval", _hm(when))
        await self.approve("mgr", n, "Looks good; 5% first.")
        self.page.actor("mgr", f"approves #{n}")
        run = self.check_run(n)
        self._expect_title("2", run, "Waiting for QA validation")
        self._report_waiting(run, changes=False)

    async def qa_validates(self, n: int) -> Pull:
        step = "3"
        when = self.at(10, 0)
        self.page.heading("3  qa validates; flagbot merges and announces", _hm(when))
        mark = len(self.inbox.received)
        await self.approve("qa", n, "Checked on staging.")
        self.page.actor("qa", f"approves #{n}")
        pull = self.pull(n)
        expect(pull["merged"], step, f"#{n} was approved by mgr and qa but is not merged")
        run = self.check_run(n)
        self._expect_title(step, run, "Merged")
        sha = pull["merge_commit_sha"]
        message = self.commit_message(sha)
        trailers = [line for line in message.splitlines() if TRAILER.match(line)]
        wanted = ["Requested-by: dev", "Manager-approved-by: mgr", "QA-validated-by: qa"]
        expect(trailers == wanted, step, f"merge commit trailers {trailers}, expected {wanted}")
        self._report_merge(n, sha, message, trailers)
        self._report_comment(step, n)
        self._report_received(step, mark, "flag change applied")
        merged_at = _parse(pull["merged_at"])
        people = "dev → mgr (manager) → qa (QA)"
        self.pulls.append(Pull(n, "create new_checkout_flow", "merged", people, sha, merged_at))
        return self.pulls[-1]

    async def bad_change(self) -> None:
        step = "4"
        when = self.at(10, 2)
        self.page.heading("4  a bad change is rejected, with the line named", _hm(when))
        text = _edit(
            self.files[NEW_FLAG],
            step,
            [(r"percentage: *5\b", "percentage: 120"), (r"every: *60m\b", "every: 1m")],
        )
        n = await self.open(
            "dev",
            {NEW_FLAG: text},
            "faster-checkout",
            "Ramp the new checkout faster",
            "Marketing wants everyone on it by lunch.",
        )
        self.page.actor(
            "dev",
            [
                f'opens #{n} "Ramp the new checkout faster"',
                self.style.dim(f"~ {NEW_FLAG}: rollout.percentage 5 → 120, rollout.every 60m → 1m"),
            ],
        )
        run = self.check_run(n)
        title = run["output"]["title"]
        expect(
            title == "Rejected: 2 validation errors" and run["conclusion"] == "failure",
            step,
            f"check run says {title!r} ({run['conclusion']}), expected "
            "'Rejected: 2 validation errors' (failure)",
        )
        notes = sorted(self.annotations(run), key=lambda a: a["start_line"])
        head_text = self.file_at(NEW_FLAG, self.pull(n)["head"]["sha"])
        wanted = {"rollout.percentage": "percentage: 120", "rollout.every": "every: 1m"}
        lines = [
            f"{self.style.paint(self.style.glyph('no') + ' ' + title, 'red', 'bold')}  "
            f"(check run: failure, {len(notes)} annotations on the diff)"
        ]
        for note in notes:
            line = note["start_line"]
            column = note.get("start_column")
            named = next((f for f in wanted if note["message"].startswith(f)), None)
            source = head_text.splitlines()[line - 1] if line <= len(head_text.splitlines()) else ""
            expect(
                note["path"] == NEW_FLAG and named is not None and wanted[named] in source,
                step,
                f"annotation {note['path']}:{line} ({note['message']!r}) is not on the bad line",
            )
            where = f"{note['path']}:{line}" + (f":{column}" if column else "")
            lines.append(f"{self.style.bold(where)}  {note['message']}")
            lines += excerpt(head_text, line, column, self.style, indent=2)
        expect(len(notes) == 2, step, f"{len(notes)} annotations, expected 2")
        pull = self.pull(n)
        expect(not pull["merged"] and pull["state"] == "open", step, f"#{n} should stay open")
        lines.append(
            self.style.dim(f"#{n} stays open and unmerged; a push that fixes it is checked again.")
        )
        self.page.actor("flagbot", lines)
        self.pulls.append(Pull(n, "rollout new_checkout_flow", f"rejected: {title[10:]}", "dev"))

    async def emergency(self) -> Pull:
        step = "5"
        when = self.at(10, 4)
        self.page.heading("5  emergency: on-call alone switches a flag off", _hm(when))
        text = _edit(self.files[KILL_SWITCH], step, [(r"^enabled: *true\b", "enabled: false")])
        mark = len(self.inbox.received)
        n = await self.open(
            "dev",
            {KILL_SWITCH: text},
            "payments-off",
            "Switch card payments off",
            "The card provider is failing every charge; stop sending customers there.",
        )
        self.page.actor(
            "dev",
            [
                f'opens #{n} "Switch card payments off"',
                self.style.dim(f"~ {KILL_SWITCH}: enabled true → false"),
            ],
        )
        run = self.check_run(n)
        roles = self.policy.required_roles(self.policy.default_environment, "toggle", False)
        expect(roles == ("oncall",), step, f"flagbot.yml asks {roles} for an emergency off")
        self._expect_title(step, run, "Waiting for oncall approval")
        self.page.actor(
            "flagbot",
            [
                self._waiting(run["output"]["title"]),
                self.style.dim("flagbot.yml: switching a production flag off needs oncall only"),
            ],
        )
        when = self.at(10, 5)
        await self.approve("oncall", n, "Confirmed with the provider's status page.")
        self.page.actor("oncall", f"approves #{n}  {self.style.dim('(' + _hm(when) + ')')}")
        pull = self.pull(n)
        expect(pull["merged"], step, f"#{n} approved by on-call is not merged")
        sha = pull["merge_commit_sha"]
        message = self.commit_message(sha)
        trailers = [line for line in message.splitlines() if TRAILER.match(line)]
        wanted = ["Requested-by: dev", "Oncall-approved-by: oncall"]
        expect(trailers == wanted, step, f"merge commit trailers {trailers}, expected {wanted}")
        self._report_merge(n, sha, message, trailers)
        self._report_received(step, mark, "flag change applied", brief=True)
        people = "dev → oncall (on-call)"
        pull_record = Pull(
            n, "toggle payments_kill_switch", "merged", people, sha, _parse(pull["merged_at"])
        )
        self.pulls.append(pull_record)
        return pull_record

    # --- reporting ---------------------------------------------------------------------------
    @property
    def style(self):
        return self.page.style

    def _expect_title(self, step: str, run: dict[str, Any], title: str) -> None:
        got = run["output"]["title"]
        expect(got == title, step, f"check run says {got!r}, expected {title!r}")

    def _waiting(self, title: str) -> str:
        return self.style.paint(f"{self.style.glyph('wait')} {title}", "yellow", "bold")

    def _report_waiting(self, run: dict[str, Any], *, changes: bool = True) -> None:
        summary = run["output"]["summary"]
        lines = []
        for flag, environment, change, *_ in markdown_table(summary, "Flag") if changes else ():
            lines.append(f"checks it: {change} {flag} ({environment}): valid")
        lines.append(
            f"check run {CHECK_NAME} on {run['head_sha'][:7]}: "
            + self._waiting(run["output"]["title"])
        )
        rows = [
            [
                self.style.dim("step"),
                self.style.dim("approved by"),
                self.style.dim("may still approve"),
            ]
        ]
        for step, approved, eligible in markdown_table(summary, "Step"):
            done = step.startswith("✅")
            label = step.lstrip("✅⏳ ").strip()
            mark = self.style.glyph("ok") if done else self.style.glyph("wait")
            rows.append([f"{mark} {label}", approved, _with_members(eligible)])
        lines += ["  " + r for r in columns(rows)]
        self.page.actor("flagbot", lines)

    def _report_merge(self, n: int, sha: str, message: str, trailers: list[str]) -> None:
        ok = self.style.paint(f"{self.style.glyph('ok')} Merged", "green", "bold")
        method = self.policy.merge_method
        first = message.splitlines()[0]
        lines = [
            f"{ok}: {method}-merges #{n} with the head it checked",
            f"{self.style.paint(sha[:7], 'yellow')} {first}",
        ]
        lines += [f"        {t}" for t in trailers]
        self.page.actor("flagbot", lines)

    def _report_comment(self, step: str, n: int) -> None:
        comments = self.github.get(f"/repos/{REPO}/issues/{n}/comments")
        mine = [c for c in comments if COMMENT_MARKER in c["body"]]
        expect(len(mine) == 1, step, f"{len(mine)} completion comments on #{n}, expected 1")
        text = " ".join(mine[0]["body"].replace(COMMENT_MARKER, "").split())
        expect("Could not notify" not in text, step, f"a channel failed: {text}")
        lines = wrap(f"comments on #{n}: {text}", body_width())
        self.page.actor("flagbot", lines)

    def _report_received(self, step: str, mark: int, what: str, brief: bool = False) -> None:
        got = self.inbox.since(mark)
        names = [c.name for c in self.inbox.channels]
        expect(
            sorted(r.channel for r in got) == sorted(names) and all(what in r.subject for r in got),
            step,
            f"receivers got {[(r.channel, r.subject) for r in got]}, expected one {what!r} "
            f"notice on each of {names}",
        )
        unsigned = [r.channel for r in got if r.signed is False]
        expect(not unsigned, step, f"bad signature on {unsigned}")
        subject = got[0].subject
        if brief:
            text = f"{_quoted(subject)} on {', '.join(names)}"
            self.page.actor("received", wrap(text, body_width()))
            return
        rows: list[list[str]] = []
        for r in sorted(got, key=lambda r: names.index(r.channel)):
            detail = wrap(_detail(r, self.style), body_width() - 18)
            rows.append([self.style.bold(r.channel), detail[0]])
            rows += [["", more] for more in detail[1:]]
        self.page.actor("received", [_quoted(subject), *columns(rows)])


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


def _detail(r: Received, style: Any) -> str:
    if r.type == "email":
        return f"e-mail to {', '.join(r.to)}"
    if r.type == "webhook":
        record = (r.body.get("records") or [{}])[0]
        keys = ("flag_key", "change_type", "requested_by", "approver", "validator")
        fields = ", ".join(f"{k} {record.get(k)}" for k in keys if record.get(k))
        signed = f", signed {style.glyph('ok')}" if r.signed else ""
        return f"JSON {r.body.get('event')}{signed}: {fields}"
    return "Slack message"


def _with_members(owners: str) -> str:
    """`@acme/eng-managers` → `@acme/eng-managers (mgr)`: who is in the team, from the seed."""
    out = []
    for owner in owners.split():
        team = owner.rsplit("/", 1)[-1] if owner.startswith("@") and "/" in owner else None
        members = [m.login for m in CAST if team and m.team == team]
        out.append(f"{owner} ({', '.join(members)})" if members else owner)
    return " ".join(out) or "—"


def _edit(text: str, step: str, substitutions: list[tuple[str, str]]) -> str:
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        expect(count == 1, step, f"the flag file has no line matching {pattern!r} to edit")
    return text


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

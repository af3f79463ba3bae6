"""The pull-request half of the demo, as the people of the seed play it on the emulated GitHub:
a flag created, approved by a manager, validated by QA, merged and announced; a bad change
rejected with its lines named; an emergency switch-off approved by on-call alone.

Every step reads back what GitHub shows (the `flagbot` check run, its annotations, the merge
commit, the comment, what the receivers got) and checks it is what the story says, so a
regression in the bot stops the demo with the step that went wrong.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any

from bot.demo.page import Page
from bot.demo.receivers import Inbox
from bot.demo.render import body_width, wrap
from bot.demo.seed import KILL_SWITCH, NEW_FLAG, REPO
from bot.demo.style import Style
from bot.demo.views import check_run_lines, merge_lines, received_lines, rejection_lines, waiting
from bot.emulator.people import Person
from bot.plan.report import CHECK_NAME, COMMENT_MARKER
from bot.policy.model import Policy
from bot.sandbox import Sandbox

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
        self.page.actor("flagbot", check_run_lines(run, self.style))
        return n

    async def manager_approves(self, n: int) -> None:
        when = self.at(9, 45)
        self.page.heading("2  mgr approves: manager approval", _hm(when))
        await self.approve("mgr", n, "Looks good; 5% first.")
        self.page.actor("mgr", f"approves #{n}")
        run = self.check_run(n)
        self._expect_title("2", run, "Waiting for QA validation")
        self.page.actor("flagbot", check_run_lines(run, self.style, changes=False))

    async def qa_validates(self, n: int) -> Pull:
        step = "3"
        when = self.at(10, 0)
        self.page.heading("3  qa validates; flagbot merges and announces", _hm(when))
        mark = len(self.inbox.received)
        await self.approve("qa", n, "Checked on staging.")
        self.page.actor("qa", f"approves #{n}")
        merged = self._merged(
            step, n, ["Requested-by: dev", "Manager-approved-by: mgr", "QA-validated-by: qa"]
        )
        self._commented(step, n)
        self._received(step, mark, "flag change applied")
        people = "dev → mgr (manager) → qa (QA)"
        self.pulls.append(replace(merged, change="create new_checkout_flow", people=people))
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
        source = self.file_at(NEW_FLAG, self.pull(n)["head"]["sha"]).splitlines()
        wanted = {"rollout.percentage": "percentage: 120", "rollout.every": "every: 1m"}
        for note in notes:
            line = note["start_line"]
            named = next((f for f in wanted if note["message"].startswith(f)), None)
            text = source[line - 1] if 0 < line <= len(source) else ""
            expect(
                note["path"] == NEW_FLAG and named is not None and wanted[named] in text,
                step,
                f"annotation {note['path']}:{line} ({note['message']!r}) is not on the bad line",
            )
        expect(len(notes) == 2, step, f"{len(notes)} annotations, expected 2")
        pull = self.pull(n)
        expect(not pull["merged"] and pull["state"] == "open", step, f"#{n} should stay open")
        lines = rejection_lines(title, notes, "\n".join(source), self.style)
        fixed = f"#{n} stays open and unmerged; a push that fixes it is checked again."
        self.page.actor("flagbot", [*lines, self.style.dim(fixed)])
        outcome = f"rejected: {title.removeprefix('Rejected: ')}"
        self.pulls.append(Pull(n, "rollout new_checkout_flow", outcome, "dev"))

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
                waiting(run["output"]["title"], self.style),
                self.style.dim("flagbot.yml: switching a production flag off needs oncall only"),
            ],
        )
        when = self.at(10, 5)
        await self.approve("oncall", n, "Confirmed with the provider's status page.")
        self.page.actor("oncall", f"approves #{n}  {self.style.dim('(' + _hm(when) + ')')}")
        merged = self._merged(step, n, ["Requested-by: dev", "Oncall-approved-by: oncall"])
        self._received(step, mark, "flag change applied", brief=True)
        people = "dev → oncall (on-call)"
        self.pulls.append(replace(merged, change="toggle payments_kill_switch", people=people))
        return self.pulls[-1]

    # --- checks ------------------------------------------------------------------------------
    @property
    def style(self) -> Style:
        return self.page.style

    def _expect_title(self, step: str, run: dict[str, Any], title: str) -> None:
        got = run["output"]["title"]
        expect(got == title, step, f"check run says {got!r}, expected {title!r}")

    def _merged(self, step: str, n: int, trailers: list[str]) -> Pull:
        """#n is merged, its check run says so and its commit carries these trailers; shown."""
        pull = self.pull(n)
        expect(pull["merged"], step, f"#{n} is approved but not merged")
        self._expect_title(step, self.check_run(n), "Merged")
        sha = pull["merge_commit_sha"]
        message = self.commit_message(sha)
        found = [line for line in message.splitlines() if TRAILER.match(line)]
        expect(found == trailers, step, f"merge commit trailers {found}, expected {trailers}")
        self.page.actor("flagbot", merge_lines(n, sha, message, found, self.policy, self.style))
        return Pull(n, "", "merged", "", sha, _parse(pull["merged_at"]))

    def _commented(self, step: str, n: int) -> None:
        comments = self.github.get(f"/repos/{REPO}/issues/{n}/comments")
        mine = [c for c in comments if COMMENT_MARKER in c["body"]]
        expect(len(mine) == 1, step, f"{len(mine)} completion comments on #{n}, expected 1")
        text = " ".join(mine[0]["body"].replace(COMMENT_MARKER, "").split())
        expect("Could not notify" not in text, step, f"a channel failed: {text}")
        self.page.actor("flagbot", wrap(f"comments on #{n}: {text}", body_width()))

    def _received(self, step: str, mark: int, what: str, *, brief: bool = False) -> None:
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
        self.page.actor("received", received_lines(got, names, self.style, brief=brief))


def _edit(text: str, step: str, substitutions: list[tuple[str, str]]) -> str:
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        expect(count == 1, step, f"the flag file has no line matching {pattern!r} to edit")
    return text


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

"""An in-memory GitHub for plans: `PullReads` and `LedgerReads` over plain dicts, so a whole
read-decide-plan runs in a millisecond."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bot.plan.facts import Facts, Ledger
from bot.plan.reads import Pull, read_facts
from bot.policy.assess import ChangedFile
from bot.policy.decision import Decision, PullRequestFacts, decide
from bot.policy.reviews import Review

BASE, HEAD, MERGE = "b" * 40, "h" * 40, "m" * 40
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

POLICY = b"""\
roles:
  manager: ["@acme/managers"]
  qa: ["@acme/qa"]
require:
  default: [manager, qa]
notifications:
  slack: {type: slack, url_env: SLACK_URL}
approval: {remind_after: 24h, expire_after: 72h, on_expire: %s}
"""
CODEOWNERS = b"/flags/ @acme/managers @acme/qa\n"
FLAG = b"""\
name: New checkout flow
description: The single-page checkout.
type: boolean
enabled: true
default: false
value: true
"""


@dataclass
class FakeGitHub:
    """One pull request (#7, by `dev`) adding `flags/new_checkout_flow.yaml`."""

    on_expire: str = "fail"
    pr: PullRequestFacts = field(
        default_factory=lambda: PullRequestFacts(
            number=7, author="dev", head_sha=HEAD, base_sha=BASE, base_ref="main", title="New"
        )
    )
    changed: dict[str, bytes] = field(
        default_factory=lambda: {"flags/new_checkout_flow.yaml": FLAG}
    )
    given: list[Review] = field(default_factory=list)
    members: dict[str, set[str]] = field(
        default_factory=lambda: {"@acme/managers": {"mgr"}, "@acme/qa": {"qa"}}
    )
    marks: Ledger = field(default_factory=Ledger)
    merge_sha: str = ""
    merged_at: datetime | None = None
    calls: list[str] = field(default_factory=list)

    def base(self) -> dict[str, bytes]:
        return {
            ".github/flagbot.yml": POLICY % self.on_expire.encode(),
            ".github/CODEOWNERS": CODEOWNERS,
        }

    def approve(self, login: str, sha: str = HEAD) -> None:
        self.given.append(Review(len(self.given) + 1, login, "APPROVED", sha))

    def merged(self, *, by_bot: bool = True, at: datetime = NOW) -> None:
        self.pr = replace(self.pr, merged=True, state="closed", merged_by_bot=by_bot)
        self.merge_sha = MERGE
        self.merged_at = at

    # PullReads ---------------------------------------------------------------------------------

    async def pull(self, number: int) -> Pull:
        self.calls.append("pull")
        return Pull(self.pr, self.merge_sha, merged_at=self.merged_at)

    async def files(self, number: int) -> tuple[tuple[ChangedFile, ...], bool]:
        self.calls.append("files")
        return tuple(ChangedFile(p, "added") for p in self.changed), False

    async def reviews(self, number: int) -> tuple[Review, ...]:
        self.calls.append("reviews")
        return tuple(self.given)

    async def contents(
        self, sha: str, paths: Sequence[str], blob_ids: Mapping[str, str] | None = None
    ) -> dict[str, bytes]:
        tree = self.changed if sha == HEAD else self.base()
        return {p: tree[p] for p in paths if p in tree}

    async def flag_paths(self, sha: str) -> tuple[str, ...] | None:
        return tuple(p for p in (self.base() if sha == BASE else self.changed) if "flags/" in p)

    async def flag_modes(self, sha: str) -> dict[str, str] | None:
        return {p: "100644" for p in self.changed if "flags/" in p}

    async def merge_base(self, base: str, head: str) -> str:
        return BASE

    async def is_member(self, team: str, login: str) -> bool:
        return login in self.members.get(team, set())

    # LedgerReads -------------------------------------------------------------------------------

    async def ledger(self, pull: Pull, *, fresh: bool = False) -> Ledger:
        return replace(self.marks, claims=frozenset(), announced=False)

    async def claims(self, pr: PullRequestFacts) -> tuple[frozenset[str], bool]:
        self.calls.append("claims")
        return self.marks.claims, self.marks.announced

    # ---------------------------------------------------------------------------------------------

    async def facts(self, **options: object) -> tuple[Decision, Facts]:
        held = options.pop("held", frozenset())
        resumable = options.pop("resumable", frozenset())
        facts = await read_facts(
            self,
            self,
            self.pr.number,
            now=options.pop("now", NOW),
            repository="acme/flags",
            **options,  # type: ignore[arg-type]
        )
        return decide(facts.inp), replace(facts, held=held, resumable=resumable)  # type: ignore[arg-type]

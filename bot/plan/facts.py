"""What one reconcile read, as plain data: the decision's input plus flagbot's own marks on
GitHub (its check run, its claims, its label), which are the only memory flagbot has."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.policy.decision import DecisionInput

# Claims: refs flagbot creates to arbitrate one-off actions across replicas and restarts.
# Creating a ref is atomic on GitHub and a duplicate is refused (422), so exactly one process
# wins each claim. They are per head commit, so a push restarts reminders and expiry.
ANNOUNCE = "announce"
REMIND = "remind"
EXPIRE = "expire"
CLAIMS = (ANNOUNCE, REMIND, EXPIRE)
# The completion marker: the announcement claim moved from the head to the merge commit (one
# listing shows every unfinished claim, for sweeps); the check run's external_id says the same
# to people looking at the check.
ANNOUNCED = "flagbot:announced"
EXPIRED_LABEL = "flagbot: expired"
# How long an announcement claim stays its claimant's: the merging process claims right after
# the merge and announces within seconds (channels time out well before this), so a claim
# still unfinished this long after the merge, by GitHub's clock, belongs to a process that
# crashed, and a sweep finishes it.
CLAIM_LEASE = timedelta(minutes=5)


def claim_ref(number: int, head_sha: str, what: str) -> str:
    """The ref that claims `what` for a pull request's head: `refs/flagbot/<pr>/<sha>/<what>`."""
    return f"refs/flagbot/{number}/{head_sha}/{what}"


def claims_prefix(number: int) -> str:
    """Every claim of one pull request (for one matching-refs read), without `refs/`."""
    return f"flagbot/{number}/"


@dataclass(frozen=True, slots=True)
class CheckState:
    """flagbot's newest check run on the head, as GitHub shows it."""

    id: int
    status: str
    conclusion: str | None
    title: str
    summary: str
    external_id: str = ""


@dataclass(frozen=True, slots=True)
class Ledger:
    """flagbot's marks on the head commit."""

    check: CheckState | None = None
    first_checked: datetime | None = None  # started_at of flagbot's first check run on the head
    claims: frozenset[str] = frozenset()  # which of CLAIMS exist for the head
    labels: frozenset[str] = frozenset()
    announced: bool = False  # the completion marker: the claim points at the merge commit

    @property
    def unfinished_announcement(self) -> bool:
        return ANNOUNCE in self.claims and not self.announced


@dataclass(frozen=True, slots=True)
class MergeRefusal:
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Facts:
    inp: DecisionInput
    ledger: Ledger = field(default_factory=Ledger)
    now: datetime | None = None  # GitHub's time, for the approval clock and notices
    merge_sha: str = ""  # the merge commit, once merged
    merged_at: datetime | None = None  # GitHub's time of the merge (and so of its claim)
    rerun: bool = False  # someone re-requested the check: a new check run
    checks_allowed: bool = True  # token mode reports commit statuses, not check runs
    recover: bool = False  # finish an announcement whose claimant crashed (sweeps)
    refused: MergeRefusal | None = None  # GitHub refused the merge this reconcile tried
    held: frozenset[str] = frozenset()  # claims this reconcile made (its own to finish)
    # claims this process made in an earlier reconcile and has not finished (an announcement
    # that failed): its own to finish while the claim's lease runs
    resumable: frozenset[str] = frozenset()
    repository: str = ""

    @property
    def run_id(self) -> int | None:
        """The check run to update in place, or None for a new one (none yet, or a re-run)."""
        check = self.ledger.check
        return None if self.rerun or check is None else check.id

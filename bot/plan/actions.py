"""What a plan asks the service to do: plain data, carried out in order.

`Claim` and `Merge` are guards: when GitHub refuses them (the claim exists, the merge was
refused), the rest of the plan is not carried out and the pull request is read and planned
again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.notify.notice import Notice
from bot.plan.report import CheckOutput
from bot.policy.changes import ChangeRequest


@dataclass(frozen=True, slots=True)
class WriteCheck:
    """Create or update flagbot's check run on the head (a commit status in token mode)."""

    head_sha: str
    output: CheckOutput
    run_id: int | None = None  # the run to update; None: create one (a re-requested check
    # gets a new run, as GitHub expects of Apps)
    external_id: str = ""  # the completion marker, once announced


@dataclass(frozen=True, slots=True)
class Merge:
    number: int
    sha: str  # GitHub refuses the merge if the head moved since the decision
    method: str
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class Claim:
    """Create `ref` (pointing at `sha`); GitHub refuses a duplicate, so one process wins."""

    ref: str
    sha: str


@dataclass(frozen=True, slots=True)
class Comment:
    number: int
    body: str


@dataclass(frozen=True, slots=True)
class Notify:
    notice: Notice


@dataclass(frozen=True, slots=True)
class Announce:
    """The completion comment, the channels, the check run, then the completion marker (the
    claim `ref` moved to the merge commit). One action because what the comment and the check
    run say depends on which channels failed."""

    ref: str
    number: int
    head_sha: str
    run_id: int | None  # flagbot's check run on the head, which gets the completion marker
    merge_sha: str
    changes: tuple[ChangeRequest, ...]
    approvers: Mapping[str, str]
    notice: Notice | None  # None: no channel to tell


@dataclass(frozen=True, slots=True)
class Label:
    number: int
    name: str


@dataclass(frozen=True, slots=True)
class Close:
    number: int


Action = WriteCheck | Merge | Claim | Comment | Notify | Announce | Label | Close

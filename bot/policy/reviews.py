"""Reviews as the policy counts them.

GitHub does not define "the latest review per person" for REST; flagbot uses the convention of
GitHub's merge box: per reviewer, the last review that is APPROVED, CHANGES_REQUESTED or
DISMISSED counts; COMMENTED and PENDING reviews neither grant nor lift anything. A dismissal
clears the person's approval or rejection (an earlier approval does not come back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
_COUNTED = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    user: str
    state: ReviewState
    commit_id: str
    body: str = ""
    submitted_at: datetime | None = None

    @classmethod
    def from_github(cls, data: dict) -> Review:
        """From a REST review object (uppercase state) or a webhook one (lowercase)."""
        submitted = data.get("submitted_at")
        return cls(
            id=int(data["id"]),
            user=(data.get("user") or {}).get("login", ""),
            state=str(data.get("state", "")).upper(),  # type: ignore[arg-type]
            commit_id=data.get("commit_id") or "",
            body=data.get("body") or "",
            submitted_at=datetime.fromisoformat(submitted.replace("Z", "+00:00"))
            if submitted
            else None,
        )


def latest_reviews(reviews: Iterable[Review]) -> dict[str, Review]:
    """The review that counts for each person (login lower-cased), in submission order."""
    ordered = sorted(
        reviews,
        key=lambda r: (r.submitted_at is None, r.submitted_at or datetime.min, r.id),
    )
    latest: dict[str, Review] = {}
    for r in ordered:
        if r.state in _COUNTED and r.user:
            latest[r.user.lower()] = r
    return {login: r for login, r in latest.items() if r.state != "DISMISSED"}

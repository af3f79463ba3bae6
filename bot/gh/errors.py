"""What a GitHub answer means for the service, beyond gidgethub's HTTP exceptions."""

from __future__ import annotations

from gidgethub import HTTPException


class NotOurs(Exception):
    """GitHub answered 404 for the installation, repository or pull request a delivery named:
    this App cannot see it (never installed there, uninstalled since, or a delivery recorded
    elsewhere and replayed here). Nothing to do and nothing to retry; the message says what
    was missing."""


def github_failure(exc: BaseException) -> str | None:
    """GitHub failing us (no answer, an error status, a rate limit), in one line; None for
    anything else, which is a bug in flagbot and deserves its traceback."""
    if isinstance(exc, HTTPException):
        return f"GitHub answered {int(exc.status_code)}: {exc}"
    if isinstance(exc, ConnectionError):  # GitHubClient's: no answer after its retries
        return f"GitHub unreachable: {exc}"
    return None

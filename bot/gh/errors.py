"""What a GitHub answer means for the service, beyond gidgethub's HTTP exceptions."""

from __future__ import annotations


class NotOurs(Exception):
    """GitHub answered 404 for the installation, repository or pull request a delivery named:
    this App cannot see it (never installed there, uninstalled since, or a delivery recorded
    elsewhere and replayed here). Nothing to do and nothing to retry; the message says what
    was missing."""

"""Before the rollout job reads or writes anything: are its settings sane and is GitHub there?

The job's GitHub client retries for a quarter of a minute and then reports transport errors in
urllib3's words; a wrong URL or token deserves one plain line at once instead. `check_settings`
is pure; `check_remote` makes one call (`GET /repos/{owner}/{name}`), without retries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import requests

from bot.rollout.remote import USER_AGENT, Connection, RemoteRepo, env_branch
from bot.rollout.transport import transport_reason

REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
PROBE_TIMEOUT = 10.0


def reader_from_env(env: Mapping[str, str]) -> RemoteRepo:
    """The repository Actions names, for commands that only read it (`plan`, `guard`): its
    settings checked first, so a bad one is a ValueError (the line to print), not a traceback
    at the first call."""
    connection = Connection.from_env(env, write_pause=0.0)
    check_settings(connection)
    return RemoteRepo.connect(connection, env_branch(env))


def check_settings(connection: Connection) -> None:
    """Raise ValueError (the line to print) for a setting that cannot work."""
    if connection.repository and not REPOSITORY.fullmatch(connection.repository):
        raise ValueError(
            f"GITHUB_REPOSITORY={connection.repository!r} is not owner/name: set it like "
            "acme/flags (Actions sets it for you)"
        )
    if not connection.api_url.startswith(("http://", "https://")):
        raise ValueError(
            f"GITHUB_API_URL={connection.api_url!r} is not an http(s) URL: set it to "
            "https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"
        )
    for name, value in (
        ("--write-pause / FLAGBOT_WRITE_PAUSE", connection.write_pause),
        ("FLAGBOT_REQUEST_PAUSE", connection.request_pause),
        ("FLAGBOT_RETRIES", connection.retries),
        ("FLAGBOT_RETRY_BACKOFF", connection.backoff),
    ):
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} is {value}: it must be 0 or more")


def check_remote(connection: Connection, *, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when GitHub answers for the repository with the token; else the line to print."""
    api = connection.api_url.rstrip("/")
    headers = {"Accept": "application/vnd.github+json", "User-Agent": USER_AGENT}
    if connection.token:
        headers["Authorization"] = f"Bearer {connection.token}"
    try:
        resp = requests.get(
            f"{api}/repos/{connection.repository}", headers=headers, timeout=timeout
        )
    except requests.Timeout:
        return f"GitHub unreachable at {api} (no answer within {timeout:g} s): check GITHUB_API_URL"
    except requests.RequestException as exc:
        return f"GitHub unreachable at {api} ({transport_reason(exc)}): check GITHUB_API_URL"
    if resp.status_code == 401:
        return (
            f"GITHUB_TOKEN: GitHub at {api} refused the token (401): give the job a valid "
            "token (Actions: `${{ secrets.GITHUB_TOKEN }}`)"
        )
    if resp.status_code == 404:
        return (
            f"GITHUB_REPOSITORY={connection.repository!r}: GitHub at {api} has no such "
            "repository, or the token cannot see it"
        )
    if resp.status_code >= 400:
        return f"GitHub at {api} answered {resp.status_code} for {connection.repository}"
    return None

"""Start-up checks for `flagbot serve`: settings that parse, GitHub reachable, credentials accepted.

A misconfigured service should refuse to start with one line naming the variable to fix, not
start and then fail every delivery with a traceback. `check_settings` is pure (the App id is a
number, the key parses, the API URL is a URL); `check_github` asks GitHub once who we are
(`GET /app` with the App's JWT, `GET /user` with a token), which `/readyz` repeats to tell
whether GitHub still accepts the credentials.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from gidgethub import apps

from bot.gh.client import API_VERSION, USER_AGENT
from bot.service.config import ConfigError, ServiceConfig

# Start-up must finish within 10 s even when the API's host drops packets.
PROBE_TIMEOUT = 5.0


def check_settings(config: ServiceConfig) -> None:
    """Raise ConfigError for a setting that cannot work, before any network I/O."""
    url = urlsplit(config.api_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(
            f"GITHUB_API_URL={config.api_url!r} is not an http(s) URL: set it to "
            "https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"
        )
    try:
        url.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ConfigError(
            f"GITHUB_API_URL={config.api_url!r} has an invalid port: fix the URL"
        ) from None
    if config.app_id is None:
        return
    if not config.app_id.isdigit():
        raise ConfigError(
            f"GITHUB_APP_ID={config.app_id!r} is not a number: set it to the App's numeric id "
            "(App settings → About → App ID)"
        )
    try:
        key = load_pem_private_key((config.private_key or "").encode(), password=None)
    except (ValueError, TypeError) as exc:
        reason = str(exc).split("\n")[0].split(". ")[0] or type(exc).__name__
        raise ConfigError(
            f"{config.key_variable} is not a PEM private key ({reason}): use the .pem file "
            "GitHub generated on the App's settings page (Private keys → Generate)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"{config.key_variable} is not an RSA key: GitHub Apps sign with RSA; use the .pem "
            "file generated on the App's settings page"
        )


async def check_github(
    session: aiohttp.ClientSession, config: ServiceConfig, *, timeout: float = PROBE_TIMEOUT
) -> str | None:
    """None when GitHub at `config.api_url` answers and accepts the credentials; else the line
    saying what is wrong and what to do. One call: `GET /app` with the App's JWT, or
    `GET /user` with the token."""
    if config.app_id:
        path, secret = "/app", apps.get_jwt(app_id=config.app_id, private_key=config.private_key)
        who = "GITHUB_APP_ID / " + config.key_variable
        fix = "check that the App id is right and the key is one of the App's current keys"
    else:
        path, secret = "/user", config.token or ""
        who = "GITHUB_TOKEN"
        fix = "create a new token, or use GitHub App credentials"
    url = config.api_url + path
    headers = {
        "Authorization": f"Bearer {secret}",
        "Accept": "application/vnd.github+json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Api-Version": API_VERSION,
    }
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            status, kind = resp.status, resp.content_type
            body = await resp.json(content_type=None) if kind.endswith("json") else None
    except TimeoutError:
        return (
            f"GITHUB_API_URL: GitHub unreachable at {config.api_url} (no answer within "
            f"{timeout:g} s): check the URL and that this host can reach it"
        )
    except aiohttp.ClientError as exc:
        return (
            f"GITHUB_API_URL: GitHub unreachable at {config.api_url} ({_reason(exc)}): check "
            "the URL and that this host can reach it"
        )
    except ValueError:
        body, status, kind = None, 200, "invalid JSON"
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status in (401, 403):
        return (
            f"{who}: GitHub refused the credentials (GET {path} answered {status}"
            f"{': ' + message if message else ''}): {fix}"
        )
    if status == 404 or (status < 300 and not isinstance(body, dict)):
        return (
            f"GITHUB_API_URL: {config.api_url} does not look like GitHub's REST API (GET {path} "
            f"answered {status} {kind}): set it to https://api.github.com, or "
            "https://HOST/api/v3 for GitHub Enterprise Server"
        )
    if status >= 300:
        return (
            f"GITHUB_API_URL: GitHub at {config.api_url} answered {status} to GET {path}"
            f"{' (' + message + ')' if message else ''}: try again later, or check the URL"
        )
    return None


def _reason(exc: aiohttp.ClientError) -> str:
    """The cause in a few words (aiohttp's messages repeat the host and the whole errno)."""
    cause = getattr(exc, "os_error", None) or exc.__cause__ or exc
    number = getattr(cause, "errno", None)
    if isinstance(number, int) and number > 0 and not isinstance(cause, socket.gaierror):
        return os.strerror(number)
    text = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return text.split(" [")[0].strip() or type(exc).__name__

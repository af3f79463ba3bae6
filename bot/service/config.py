"""The service's settings, from the environment (twelve-factor), checked at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.exports.access import ReadTokens, TokenConfigError
from bot.gh.retry import DEFAULT_POLICY, RetryPolicy

DEFAULT_API_URL = "https://api.github.com"
NO_READ_TOKENS = ReadTokens()
DEFAULT_MAX_BODY = 5 * 1024 * 1024  # GitHub caps payloads at 25 MB; flag events are ~30 KB
DEFAULT_SWEEP_INTERVAL = "10m"
DEFAULT_DRAIN_TIMEOUT = 25.0  # seconds; Kubernetes' default grace period is 30


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which variable to set."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    webhook_secret: str
    api_url: str = DEFAULT_API_URL
    token: str | None = None
    app_id: str | None = None
    private_key: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    workers: int = 8
    channel_env: Mapping[str, str] | None = None  # where channel URLs are looked up
    retry: RetryPolicy = DEFAULT_POLICY
    ready_backlog: int = 5000  # /readyz fails above this backlog
    key_variable: str = "GITHUB_APP_PRIVATE_KEY"  # where the key came from, for messages
    sweep_interval: float = 0.0  # seconds between sweeps inside serve; 0: none (not even at
    # start-up). FLAGBOT_SWEEP_INTERVAL, default 10m.
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT  # FLAGBOT_DRAIN_TIMEOUT
    read_tokens: ReadTokens = NO_READ_TOKENS  # FLAGBOT_READ_TOKENS: who may read the exports

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, webhooks: bool = True
    ) -> ServiceConfig:
        """`webhooks=False` for commands that receive none (`flagbot sweep`): no secret."""
        env = os.environ if env is None else env
        secret = env.get("FLAGBOT_WEBHOOK_SECRET", "")
        if not secret and webhooks:
            raise ConfigError(
                "FLAGBOT_WEBHOOK_SECRET is not set: flagbot refuses to accept unsigned webhooks. "
                "Set it to the secret configured on the GitHub App or webhook."
            )
        app_id = env.get("GITHUB_APP_ID") or None
        key = env.get("GITHUB_APP_PRIVATE_KEY") or None
        key_path = env.get("GITHUB_APP_PRIVATE_KEY_PATH") or None
        if key is None and key_path:
            try:
                key = Path(key_path).read_text()
            except OSError as exc:
                raise ConfigError(
                    f"GITHUB_APP_PRIVATE_KEY_PATH={key_path!r} cannot be read "
                    f"({exc.strerror or exc}): point it at the App's .pem file"
                ) from None
        token = env.get("GITHUB_TOKEN") or None
        if app_id and not key:
            raise ConfigError(
                "GITHUB_APP_ID is set but no key: set GITHUB_APP_PRIVATE_KEY or "
                "GITHUB_APP_PRIVATE_KEY_PATH"
            )
        if key and not app_id:
            raise ConfigError("a GitHub App private key is set but GITHUB_APP_ID is not")
        if not app_id and not token:
            raise ConfigError(
                "no GitHub credentials: set GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY(_PATH), "
                "or GITHUB_TOKEN"
            )
        max_body = _positive(env, "FLAGBOT_MAX_BODY", DEFAULT_MAX_BODY)
        workers = _positive(env, "FLAGBOT_WORKERS", 8)
        ready_backlog = _positive(env, "FLAGBOT_READY_BACKLOG", 5000)
        sweep_every = _seconds(env, "FLAGBOT_SWEEP_INTERVAL", DEFAULT_SWEEP_INTERVAL)
        drain = _seconds(env, "FLAGBOT_DRAIN_TIMEOUT", f"{DEFAULT_DRAIN_TIMEOUT:g}s")
        try:
            read_tokens = ReadTokens.parse(env.get("FLAGBOT_READ_TOKENS", ""))
        except TokenConfigError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            sweep_interval=sweep_every,
            drain_timeout=drain,
            read_tokens=read_tokens,
            webhook_secret=secret,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            token=None if app_id else token,
            app_id=app_id,
            private_key=key,
            max_body=max_body,
            workers=workers,
            ready_backlog=ready_backlog,
            channel_env=env,
            key_variable=(
                "GITHUB_APP_PRIVATE_KEY_PATH"
                if key_path and not env.get("GITHUB_APP_PRIVATE_KEY")
                else "GITHUB_APP_PRIVATE_KEY"
            ),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r} is not a whole number above 0: set it to e.g. {default}")
    return value


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    """A duration setting: `10m`, `1h30m`, `25s`, `90` (seconds) or `0` (off)."""
    text = (env.get(name) or default).strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ConfigError(f"{name}={text!r} is not a duration: write e.g. 10m, 1h, 30s or 0")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds

"""Delivering a notice over the channels of flagbot.yml: Slack, a generic JSON webhook, e-mail.

Channel secrets (URLs, SMTP credentials) come from environment variables that flagbot.yml only
names. A channel that fails is reported back, never raised: a failed notification must not undo
or repeat the change it announces.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp

from bot.notify.notice import Notice
from bot.policy.model import Channel

TIMEOUT = aiohttp.ClientTimeout(total=10)
ATTEMPTS = 3
BACKOFF = 0.2  # seconds before the first retry; doubles each time


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    ok: bool
    detail: str = ""


class ChannelError(Exception):
    pass


async def notify_all(
    channels: Sequence[Channel],
    notice: Notice,
    env: Mapping[str, str],
    session: aiohttp.ClientSession | None = None,
) -> list[Delivery]:
    """Send to every channel concurrently; one `Delivery` per channel, failures included."""
    if not channels:
        return []
    own = session is None
    session = session or aiohttp.ClientSession(timeout=TIMEOUT)
    try:
        results = await asyncio.gather(
            *(_deliver(c, notice, env, session) for c in channels), return_exceptions=False
        )
    finally:
        if own:
            await session.close()
    return list(results)


async def _deliver(
    channel: Channel, notice: Notice, env: Mapping[str, str], session: aiohttp.ClientSession
) -> Delivery:
    try:
        if channel.type == "slack":
            await _post_json(session, _url(channel, env), slack_body(notice))
        elif channel.type == "webhook":
            secret_env = channel.options.get("secret_env")
            secret = env.get(secret_env) if secret_env else None
            await _post_json(session, _url(channel, env), notice.payload(), secret=secret)
        elif channel.type == "email":
            await asyncio.to_thread(_send_mail, channel, notice, env)
        else:  # pragma: no cover - the policy validator rejects other types
            raise ChannelError(f"unknown channel type {channel.type!r}")
    except ChannelError as exc:
        return Delivery(channel.name, False, str(exc))
    return Delivery(channel.name, True)


def _url(channel: Channel, env: Mapping[str, str]) -> str:
    name = channel.url_env
    value = env.get(name or "")
    if not value:
        raise ChannelError(f"environment variable {name} is not set; set it to the channel URL")
    return value


def slack_body(notice: Notice) -> dict:
    text = f"*{notice.subject}*\n{notice.text}"
    if notice.link:
        text += f"\n<{notice.link}|Open on GitHub>"
    return {"text": text}


async def _post_json(
    session: aiohttp.ClientSession, url: str, body: dict, *, secret: str | None = None
) -> None:
    data = json.dumps(body, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "flagbot"}
    if secret:
        digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        headers["X-Flagbot-Signature-256"] = f"sha256={digest}"
    last = ""
    for attempt in range(ATTEMPTS):
        try:
            async with session.post(url, data=data, headers=headers, timeout=TIMEOUT) as resp:
                if resp.status < 300:
                    return
                last = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                if resp.status < 500 and resp.status != 429:
                    break
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < ATTEMPTS:
            await asyncio.sleep(BACKOFF * 2**attempt)
    raise ChannelError(f"POST {_redact(url)} failed: {last}")


def _redact(url: str) -> str:
    """Webhook URLs are secrets (Slack's carry a token): keep only scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}/…"


def _send_mail(channel: Channel, notice: Notice, env: Mapping[str, str]) -> None:
    url = _url(channel, env)
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ChannelError(f"{channel.url_env} must be an smtp:// or smtps:// URL")
    if not channel.to:
        raise ChannelError("no recipients: set `to` on the email channel")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
    msg = EmailMessage()
    msg["Subject"] = notice.subject
    msg["From"] = channel.sender or "flagbot@localhost"
    msg["To"] = ", ".join(channel.to)
    body = notice.text + (f"\n\n{notice.link}" if notice.link else "")
    msg.set_content(body)
    msg.add_attachment(
        json.dumps(notice.payload(), indent=2, default=str).encode(),
        maintype="application",
        subtype="json",
        filename="flagbot.json",
    )
    host = parts.hostname or "localhost"
    try:
        if parts.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=10, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, parts.port or 25, timeout=10)
        with smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP to {host}:{parts.port or 25} failed: {exc}") from exc

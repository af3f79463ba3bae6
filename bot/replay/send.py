"""Send one delivery to a bot over HTTP, as GitHub would: POST, signed, ten seconds to answer."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.replay.deliveries import Delivery, signed

TIMEOUT = 10.0  # GitHub gives a receiver ten seconds before it counts the delivery as failed
MAX_SHOWN = 300  # characters of the bot's answer worth printing


@dataclass(frozen=True, slots=True)
class Response:
    status: int | None  # None: no answer (unreachable, timed out)
    body: str = ""
    error: str = ""

    @property
    def refused(self) -> bool:
        """True when GitHub would list the delivery as failed."""
        return self.status is None or self.status >= 400

    def __str__(self) -> str:
        if self.status is None:
            return self.error
        body = " ".join(self.body.split())
        if len(body) > MAX_SHOWN:
            body = body[: MAX_SHOWN - 1] + "…"
        return f"{self.status} {body}".rstrip()


async def post(
    session: aiohttp.ClientSession,
    url: str,
    delivery: Delivery,
    secret: str,
    *,
    timeout: float = TIMEOUT,
) -> Response:
    headers, body = signed(delivery, secret)
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            return Response(resp.status, await resp.text(errors="replace"))
    except TimeoutError:
        return Response(None, error=f"no answer from {url} within {timeout:g} s")
    except aiohttp.ClientError as exc:
        return Response(None, error=f"cannot reach the bot at {url}: {exc}")

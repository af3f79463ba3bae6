"""`flagbot serve`: run the webhook service (configured by environment variables).

Before it listens, it checks what it can: the settings parse, GitHub answers at
`GITHUB_API_URL` and accepts the credentials, the address can be bound. Any problem is one line
naming what to change, exit 2, within seconds (`preflight.PROBE_TIMEOUT`).
"""

from __future__ import annotations

import argparse
import socket
import sys

HELP = "run the webhook service (POST /webhook, GET /healthz, /readyz, /metrics)"


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    parser.add_argument(
        "--port", type=port_number, default=8080, help="port (default 8080; 0 picks a free one)"
    )
    parser.epilog = (
        "environment: FLAGBOT_WEBHOOK_SECRET (required); GITHUB_APP_ID with "
        "GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH, or GITHUB_TOKEN; GITHUB_API_URL "
        "(default https://api.github.com); FLAGBOT_SWEEP_INTERVAL (default 10m, 0 = off); "
        "FLAGBOT_DRAIN_TIMEOUT (default 25s); FLAGBOT_LOG_FORMAT (json or text); the channel "
        "variables named in .github/flagbot.yml; FLAGBOT_READ_TOKENS (TOKEN=OWNER/REPO[/ENV], "
        "...: who may read the flags at /flags/<owner>/<repo>/<env>.flagd.json and "
        "/api/client/features). README: Configuration reference"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import os

    import aiohttp

    from bot import logs
    from bot.service.app import make_app
    from bot.service.config import ConfigError, ServiceConfig
    from bot.service.preflight import PROBE_TIMEOUT, check_github, check_settings

    def refuse(message: str) -> int:
        print(f"flagbot serve: {message}", file=sys.stderr)
        return 2

    try:
        config = ServiceConfig.from_env()
        check_settings(config)
        fmt = logs.choose_format(os.environ, sys.stderr)
    except (ConfigError, ValueError) as exc:
        return refuse(str(exc))

    async def probe():
        async with aiohttp.ClientSession() as session:
            return await check_github(session, config, timeout=PROBE_TIMEOUT)

    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        return refuse(exc.strerror or str(exc))
    problem = asyncio.run(probe())
    if problem is not None:
        sock.close()
        return refuse(problem)
    logs.configure(
        fmt,
        secrets=[
            *logs.secrets_in(os.environ),
            config.webhook_secret,
            config.private_key or "",
            config.token or "",
        ],
    )
    log = logging.getLogger("flagbot.service")
    mode = f"GitHub App {config.app_id}" if config.app_id else "token"
    log.info("flagbot serve: %s against %s", mode, config.api_url)
    from bot.service.shutdown import serve_until_signalled

    asyncio.run(
        serve_until_signalled(
            make_app(config), sock, lambda msg: log.info("flagbot serve: %s", msg)
        )
    )
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket, or OSError whose `strerror` is the whole line to print."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(
            exc.errno, f"--host {host!r} is not an address of this machine ({exc.strerror})"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno,
            f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port or "
            "--host, or stop what is using it",
        ) from None
    return sock

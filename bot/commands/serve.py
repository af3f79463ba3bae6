"""`flagbot serve`: run the webhook service (configured by environment variables)."""

from __future__ import annotations

import argparse
import sys

HELP = "run the webhook service (POST /webhook, GET /healthz)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.epilog = (
        "environment: FLAGBOT_WEBHOOK_SECRET (required); GITHUB_APP_ID with "
        "GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH, or GITHUB_TOKEN; GITHUB_API_URL "
        "(default https://api.github.com); FLAGBOT_SWEEP_INTERVAL (default 10m, 0 = off); "
        "FLAGBOT_DRAIN_TIMEOUT (default 25s); the channel variables named in .github/flagbot.yml; "
        "FLAGBOT_READ_TOKENS (TOKEN=OWNER/REPO[/ENV], ...: who may read the flags at "
        "/flags/<owner>/<repo>/<env>.flagd.json and /api/client/features)"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bot.service.app import make_app
    from bot.service.config import ConfigError, ServiceConfig

    try:
        config = ServiceConfig.from_env()
    except ConfigError as exc:
        print(f"flagbot serve: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mode = f"GitHub App {config.app_id}" if config.app_id else "token"
    print(f"flagbot serve: {mode} against {config.api_url}", flush=True)
    from bot.service.shutdown import serve_until_signalled

    asyncio.run(
        serve_until_signalled(
            make_app(config),
            args.host,
            args.port,
            lambda msg: print(f"flagbot serve: {msg.strip()}", flush=True),
        )
    )
    return 0

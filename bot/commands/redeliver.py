"""`flagbot redeliver --since 2h [--dry-run]`: redeliver, once, each webhook event of the App
that GitHub never delivered successfully (GitHub keeps deliveries for 3 days)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

HELP = "redeliver the App's webhook events that never succeeded (since a while ago)"

EPILOG = """\
GitHub does not retry a failed delivery (service down, or slower than 10 s). This lists the
App's hook deliveries, groups attempts by event (guid) and asks GitHub to redeliver, once,
each event with no successful attempt (a status code in 200-399). Run it after an outage;
`flagbot sweep` covers the same ground by re-reading pull requests.

environment: GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH (the
deliveries API needs the App's JWT); GITHUB_API_URL.
Exit status: 0 done, 1 the deliveries could not be listed or some redelivery was refused,
2 configuration error."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--since",
        default="2h",
        metavar="DURATION",
        help="only events first attempted this long ago or later, e.g. 30m, 2h, 3d (default 2h)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="only list what would be redelivered"
    )


def parse_since(text: str) -> timedelta | None:
    from bot.flags.plan import parse_duration

    return parse_duration(text)


def run(args: argparse.Namespace) -> int:
    import asyncio

    import aiohttp
    from gidgethub import BadRequest, GitHubException

    from bot.deliveries import to_redeliver
    from bot.gh.auth import AppAuth
    from bot.gh.client import GitHubClient
    from bot.service.config import ConfigError, ServiceConfig

    since = parse_since(args.since)
    if since is None:
        print(
            f"flagbot redeliver: --since {args.since!r}: write e.g. 30m, 2h or 3d", file=sys.stderr
        )
        return 2
    try:
        config = ServiceConfig.from_env(webhooks=False)
    except ConfigError as exc:
        print(f"flagbot redeliver: {exc}", file=sys.stderr)
        return 2
    if not (config.app_id and config.private_key):
        print(
            "flagbot redeliver: the deliveries API needs the App: set GITHUB_APP_ID and "
            "GITHUB_APP_PRIVATE_KEY(_PATH)",
            file=sys.stderr,
        )
        return 2
    auth = AppAuth(config.app_id, config.private_key)

    async def main() -> int:
        async with aiohttp.ClientSession() as session:
            gh = GitHubClient(session, base_url=config.api_url, policy=config.retry)
            try:
                attempts = [
                    a
                    async for a in gh.getiter(
                        "/app/hook/deliveries?per_page=100", jwt=auth.jwt(), iterable_key=None
                    )
                ]
            except (GitHubException, ConnectionError, aiohttp.ClientError) as exc:
                print(
                    f"flagbot redeliver: could not list the App's deliveries at {config.api_url}"
                    f" ({exc}); check GITHUB_API_URL and the App's id and private key",
                    file=sys.stderr,
                )
                return 1
            now = gh.server_time()  # GitHub's clock, as the delivery times are
            assert now is not None, "GitHub sent no Date header"
            todo = to_redeliver(attempts, now - since)
            refused = 0
            for r in todo:
                line = f"{r.guid} {r.event}.{r.action or ''} (last: {r.status or 'no answer'})"
                if args.dry_run:
                    print(f"would redeliver {line}")
                    continue
                try:
                    await gh.post(
                        f"/app/hook/deliveries/{r.delivery_id}/attempts", data={}, jwt=auth.jwt()
                    )
                except BadRequest as exc:
                    refused += 1
                    print(f"flagbot redeliver: GitHub refused {line}: {exc}", file=sys.stderr)
                    continue
                print(f"redelivered {line}")
            verb = "would redeliver" if args.dry_run else "redelivered"
            print(
                f"flagbot redeliver: {len(todo)} events in the last {args.since} never "
                f"succeeded; {verb} {len(todo) - refused}"
            )
            return 1 if refused else 0

    return asyncio.run(main())

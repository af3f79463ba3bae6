"""`flagbot sweep`: reconcile every open flag pull request, and finish unfinished
announcements, without waiting for a webhook (cron, or after an outage)."""

from __future__ import annotations

import argparse
import sys

HELP = "reconcile every open pull request into the default branch, and finish announcements"

EPILOG = """\
GitHub does not redeliver a failed webhook: a pull request approved while the service was
down waits for an event that may never come. The sweep lists the open pull requests into
each repository's default branch and reconciles each exactly as the service would (merging
what is approved, reminding and expiring on the approval clock), and finishes announcements
that a crash left unfinished. Safe alongside running services: merges are guarded by the head
sha and one-off actions by claims GitHub arbitrates.

environment: GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH (every
repository the App is installed on, or --repo), or GITHUB_TOKEN with --repo; GITHUB_API_URL;
the channel variables named in .github/flagbot.yml.
Exit status: 0 swept, 1 GitHub could not be read (the installations, or a repository),
2 configuration error."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="OWNER/NAME",
        help="sweep only this repository (repeatable; required with GITHUB_TOKEN)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    from dataclasses import replace

    import aiohttp
    from gidgethub import GitHubException

    from bot.service.app import Service
    from bot.service.config import ConfigError, ServiceConfig
    from bot.service.sweep import sweep

    try:
        config = ServiceConfig.from_env(webhooks=False)
    except ConfigError as exc:
        print(f"flagbot sweep: {exc}", file=sys.stderr)
        return 2
    if not config.app_id and not args.repo:
        print(
            "flagbot sweep: with GITHUB_TOKEN name the repositories: --repo OWNER/NAME",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    async def main() -> int:
        service = Service(replace(config, sweep_interval=0))
        await service.start()
        try:
            if args.repo:
                report = await sweep(
                    service.pool, service.work.submit, [(r, None) for r in args.repo]
                )
            else:
                report = await service.sweep()
            await service.drain()
        except (GitHubException, ConnectionError, aiohttp.ClientError) as exc:
            print(
                f"flagbot sweep: could not list the App's installations at {config.api_url} "
                f"({exc}); check GITHUB_API_URL and the App's id and private key",
                file=sys.stderr,
            )
            return 1
        finally:
            await service.stop()
        merged = sum(1 for o in service.outcomes if o.merge_status == 200)
        announced = sum(
            1 for o in (*service.outcomes, *service.announcements.finished) if o.notified
        )
        print(
            f"flagbot sweep: {report.pulls} open pull requests and {report.unfinished} "
            f"unfinished announcements in {report.repositories} repositories; "
            f"{merged} merged, {announced} announced"
            + (f"; {report.failed} repositories could not be read" if report.failed else "")
        )
        return 1 if report.failed else 0

    return asyncio.run(main())

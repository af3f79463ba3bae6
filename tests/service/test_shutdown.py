"""Shutdown: new deliveries get 503, acknowledged work finishes, and what cannot finish in
time is logged by pull request (the next sweep picks it up)."""

import asyncio
import logging

from bot.service.app import Service
from bot.service.config import ServiceConfig
from bot.service.events import Work


async def test_unfinished_work_is_logged_by_pull_request(caplog):
    svc = Service(ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t"))
    stuck = asyncio.Event()

    async def reconcile(key):
        await stuck.wait()

    svc.queue._work = reconcile
    await svc.start()
    try:
        svc.work.submit(Work("acme/flags", 7, None))
        svc.work.submit(Work("acme/flags", 8, None))
        await asyncio.sleep(0)
        with caplog.at_level(logging.WARNING, logger="flagbot.service"):
            left = await svc.shutdown(timeout=0)
        assert svc.closing
        assert left == [("acme/flags", 7), ("acme/flags", 8)]
        assert [r.getMessage() for r in caplog.records] == [
            "shutdown: acme/flags#7 not finished; the next sweep picks it up",
            "shutdown: acme/flags#8 not finished; the next sweep picks it up",
        ]
    finally:
        stuck.set()
        await svc.stop()


async def test_finished_work_leaves_nothing(caplog):
    svc = Service(ServiceConfig(webhook_secret="s", api_url="http://127.0.0.1:9", token="t"))
    done: list = []

    async def reconcile(key):
        done.append(key)

    svc.queue._work = reconcile
    await svc.start()
    try:
        svc.work.submit(Work("acme/flags", 7, None))
        assert await svc.shutdown(timeout=60) == []
        assert done == [("acme/flags", 7)]
    finally:
        await svc.stop()

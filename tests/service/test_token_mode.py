"""With a plain token instead of a GitHub App, GitHub lets flagbot write no check runs: it
reports a commit status named `flagbot` instead, and still governs and merges."""

from aiohttp import web

from bot.emulator.emulator import Emulator
from bot.service.app import SERVICE, make_app
from bot.service.config import ServiceConfig
from tests.service.conftest import NEW_FLAG, REPO, ROOT, seed

FLAG = (ROOT / NEW_FLAG).read_text()


async def test_token_mode_reports_a_commit_status_and_merges():
    data = seed()
    data["users"].append({"login": "flagbot", "token": "bot-token"})
    data["repos"][0]["collaborators"]["flagbot"] = "admin"
    data["orgs"][0]["members"].append("flagbot")  # to read team membership (read:org)
    emulator = Emulator.from_seed(data)
    async with emulator.serve() as gh:
        config = ServiceConfig(webhook_secret="s", api_url=gh.url, token="bot-token")
        app = make_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        emulator.add_webhook(f"http://127.0.0.1:{port}/webhook", "s")
        service = app[SERVICE]

        async def settle():
            for _ in range(20):
                before = len(emulator.webhooks.deliveries)
                await emulator.webhooks.drain()
                await service.drain()
                if len(emulator.webhooks.deliveries) == before:
                    return

        try:
            dev = emulator.person("dev")
            n = dev.propose(REPO, {NEW_FLAG: FLAG}, branch="b", title="Create flag")["number"]
            await settle()
            head = dev.pr(REPO, n)["head"]["sha"]
            status = dev.get(f"/repos/{REPO}/commits/{head}/status")
            [flagbot] = [s for s in status["statuses"] if s["context"] == "flagbot"]
            assert (flagbot["state"], flagbot["description"]) == (
                "pending",
                "Waiting for manager approval",
            )
            emulator.person("mgr").approve(REPO, n)
            emulator.person("qa").approve(REPO, n)
            await settle()
            pull = dev.pr(REPO, n)
            assert pull["merged"] and pull["merged_by"]["login"] == "flagbot"
            assert not emulator.calls.calls("POST", "/repos/{owner}/{repo}/check-runs")
        finally:
            await runner.cleanup()

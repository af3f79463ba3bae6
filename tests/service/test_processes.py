"""flagbot as an operator runs it: a real `flagbot serve` process against the emulated GitHub,
killed (SIGKILL), stopped (SIGTERM) and restarted, and `flagbot sweep` run as the workflow
runs it. Nothing is lost and nothing is announced twice.

The waits below wait for another process to do its work (polling GitHub's state); none
sleeps through a retry backoff.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.emulator.emulator import Emulator
from bot.plan.facts import ANNOUNCE, ANNOUNCED, CLAIM_LEASE, claim_ref
from bot.plan.report import CHECK_NAME, COMMENT_MARKER
from tests.receivers import HttpReceiver
from tests.service.conftest import NEW_FLAG, REPO, ROOT, seed

FLAG = (ROOT / NEW_FLAG).read_text()
SECRET = "s3cret"
BOT = "flagbot[bot]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    emulator: Emulator
    api: str
    env: dict[str, str]
    port: int
    slack: HttpReceiver
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    @property
    def dev(self):
        return self.emulator.person("dev")

    async def start_bot(self, **extra: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port),
            env={**self.env, **extra},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                if proc.returncode is not None:
                    raise AssertionError(await self.finish(proc))
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                        if r.status == 200:
                            return proc
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("flagbot serve did not come up")

    async def finish(self, proc: asyncio.subprocess.Process, timeout: float = 60) -> str:
        assert proc.stdout is not None
        out = await asyncio.wait_for(proc.stdout.read(), timeout)
        await asyncio.wait_for(proc.wait(), timeout)
        text = out.decode(errors="replace")
        self.output.append(text)
        return text

    async def kill(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            proc.kill()
        await self.finish(proc)

    async def sweep_command(self) -> str:
        return await self.command("sweep")

    async def command(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        text = await self.finish(proc, timeout=120)
        assert proc.returncode == 0, text
        return text

    def open(self, branch: str, path: str = NEW_FLAG) -> int:
        pr = self.dev.propose(REPO, {path: FLAG}, branch=branch, title=f"Create {branch}")
        return int(pr["number"])

    def pull(self, n: int) -> dict[str, Any]:
        return self.dev.pr(REPO, n)

    def check_run(self, n: int) -> dict[str, Any] | None:
        head = self.pull(n)["head"]["sha"]
        runs = self.dev.get(f"/repos/{REPO}/commits/{head}/check-runs?check_name={CHECK_NAME}")
        return max(runs["check_runs"], key=lambda r: r["id"]) if runs["check_runs"] else None

    def title(self, n: int) -> str | None:
        run = self.check_run(n)
        return run["output"]["title"] if run else None

    def announcements(self, n: int) -> list[dict[str, Any]]:
        comments = self.dev.get(f"/repos/{REPO}/issues/{n}/comments")
        return [c for c in comments if COMMENT_MARKER in c["body"]]

    def announced(self, n: int) -> bool:
        """The completion marker: the claim moved off the head (the check run says so too)."""
        pull = self.pull(n)
        head = pull["head"]["sha"]
        refs = self.dev.get(f"/repos/{REPO}/git/matching-refs/{claim_ref(n, head, ANNOUNCE)[5:]}")
        done = bool(refs) and refs[0]["object"]["sha"] == pull["merge_commit_sha"]
        run = self.check_run(n)
        return done and bool(run and run.get("external_id") == ANNOUNCED)

    async def until(self, what: Callable[[], bool], why: str, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not what():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for: {why}\n" + "\n".join(self.output))
            await asyncio.sleep(0.05)


@asynccontextmanager
async def stack(aiohttp_server, tmp_path: Path) -> AsyncIterator[Stack]:
    slack = HttpReceiver()
    slack_srv = await aiohttp_server(slack.app())
    emulator = Emulator.from_seed(seed())
    app_id, key = next(iter(emulator.private_keys.items()))
    key_path = tmp_path / "app.pem"
    key_path.write_text(key)
    async with emulator.serve() as gh:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FLAGBOT_", "GITHUB_"))},
            "FLAGBOT_WEBHOOK_SECRET": SECRET,
            "GITHUB_APP_ID": str(app_id),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key_path),
            "GITHUB_API_URL": gh.url,
            "FLAGBOT_SLACK_WEBHOOK_URL": str(slack_srv.make_url("/services/T0/B0/x")),
            "FLAGBOT_SWEEP_INTERVAL": "1h",  # the start-up sweep only, within a test
        }
        port = free_port()
        emulator.add_webhook(f"http://127.0.0.1:{port}/webhook", SECRET, app_id=app_id)
        s = Stack(emulator, gh.url, env, port, slack)
        try:
            yield s
        finally:
            for proc in s.procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


@pytest.fixture
async def ops(aiohttp_server, tmp_path) -> AsyncIterator[Stack]:
    async with stack(aiohttp_server, tmp_path) as s:
        yield s


async def test_killed_before_the_final_approval_merges_and_announces_after_restart(ops):
    s = ops
    bot = await s.start_bot()
    n = s.open("b")
    s.emulator.person("mgr").approve(REPO, n)
    await s.until(lambda: s.title(n) == "Waiting for QA validation", "manager approval seen")
    await s.kill(bot)  # SIGKILL
    s.emulator.person("qa").approve(REPO, n)
    await s.emulator.webhooks.drain()  # the delivery fails: nobody listens
    assert s.emulator.webhooks.deliveries[-1].status.startswith("failed to connect")
    assert not s.pull(n)["merged"]

    await s.start_bot()  # no new event: the start-up sweep finds it
    await s.until(lambda: s.announced(n), "merged and announced")
    assert s.pull(n)["merged"] and s.pull(n)["merged_by"]["login"] == BOT
    assert len(s.announcements(n)) == 1 and len(s.slack.posts) == 1


async def test_killed_between_merge_and_notice_is_announced_once_after_restart(ops):
    s = ops
    bot = await s.start_bot()
    n = s.open("b")
    s.emulator.person("mgr").approve(REPO, n)
    await s.until(lambda: s.title(n) == "Waiting for QA validation", "manager approval seen")
    # flagbot claimed the announcement and asked to merge: it is killed as GitHub merges,
    # so it never hears the answer.
    s.emulator.faults.before_call(
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
        lambda: os.kill(bot.pid, signal.SIGKILL),
        login=BOT,
    )
    s.emulator.person("qa").approve(REPO, n)
    await s.finish(bot)
    assert bot.returncode == -signal.SIGKILL
    assert s.pull(n)["merged"] and s.announcements(n) == [] and s.slack.posts == []

    s.emulator.clock.advance(CLAIM_LEASE)  # the dead claimant's claim runs out
    await s.start_bot()
    await s.until(lambda: s.announced(n), "the unfinished announcement finished")
    assert len(s.announcements(n)) == 1 and len(s.slack.posts) == 1


async def test_sigterm_finishes_five_acknowledged_approvals_before_exiting(ops):
    s = ops
    bot = await s.start_bot(FLAGBOT_DRAIN_TIMEOUT="60")
    numbers = [s.open(f"b{i}", f"flags/f{i}.yaml") for i in range(5)]
    for n in numbers:
        s.emulator.person("mgr").approve(REPO, n)
    await s.until(
        lambda: all(s.title(n) == "Waiting for QA validation" for n in numbers), "managers seen"
    )
    # GitHub slows down: the approvals are acknowledged long before they are worked off.
    s.emulator.faults.latency("*", seconds=0.2, times=None, login=BOT)
    mark = len(s.emulator.webhooks.deliveries)
    for n in numbers:
        s.emulator.person("qa").approve(REPO, n)
    await s.emulator.webhooks.drain()
    acknowledged = [d for d in s.emulator.webhooks.deliveries[mark:] if d.status_code == 202]
    assert len(acknowledged) == 5
    assert not any(s.pull(n)["merged"] for n in numbers)

    bot.send_signal(signal.SIGTERM)
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # while draining, new deliveries are turned away
            async with session.get(f"http://127.0.0.1:{s.port}/healthz") as r:
                if (await r.json())["status"] == "draining":
                    break
            await asyncio.sleep(0.02)
        d = acknowledged[0]
        url = f"http://127.0.0.1:{s.port}/webhook"
        async with session.post(url, data=d.body, headers=d.request_headers) as r:
            assert r.status == 503
    out = await s.finish(bot, timeout=120)
    assert bot.returncode == 0, out
    assert "nothing left undone" in out
    s.emulator.faults.clear()
    for n in numbers:
        assert s.pull(n)["merged"], f"#{n} was acknowledged but not merged\n{out}"


async def test_down_for_hours_the_sweep_command_merges_and_announces_once(ops):
    s = ops  # no flagbot serve at all: every delivery fails
    n = s.open("b")
    s.emulator.person("mgr").approve(REPO, n)
    s.emulator.person("qa").approve(REPO, n)
    await s.emulator.webhooks.drain()
    s.emulator.clock.advance(timedelta(hours=5))
    out = await s.sweep_command()
    assert "1 merged, 1 announced" in out, out
    assert s.pull(n)["merged"] and s.announced(n)
    assert len(s.announcements(n)) == 1 and len(s.slack.posts) == 1
    out = await s.sweep_command()  # again: nothing more
    assert "0 merged, 0 announced" in out, out
    assert len(s.announcements(n)) == 1 and len(s.slack.posts) == 1


async def test_redeliver_resends_only_never_succeeded_deliveries_once(ops):
    s = ops
    bot = await s.start_bot(FLAGBOT_SWEEP_INTERVAL="0")  # no sweep: only redelivery can help
    n = s.open("b")
    await s.until(lambda: s.title(n) == "Waiting for manager approval", "opened seen")
    await s.kill(bot)
    s.emulator.person("mgr").approve(REPO, n)
    await s.emulator.webhooks.drain()
    [failed] = [d for d in s.emulator.webhooks.deliveries if d.status_code != 202]
    bot = await s.start_bot(FLAGBOT_SWEEP_INTERVAL="0")

    out = await s.command("redeliver", "--since", "2h", "--dry-run")
    assert f"would redeliver {failed.guid} pull_request_review.submitted" in out, out
    assert "would redeliver 1" in out
    assert not any(d.redelivery for d in s.emulator.webhooks.deliveries)

    out = await s.command("redeliver", "--since", "2h")
    assert f"redelivered {failed.guid}" in out and "redelivered 1" in out, out
    await s.until(lambda: s.title(n) == "Waiting for QA validation", "the approval seen")
    await s.emulator.webhooks.drain()
    out = await s.command("redeliver", "--since", "2h")  # once: it succeeded now
    assert "redelivered 0" in out, out
    redelivered = [d for d in s.emulator.webhooks.deliveries if d.redelivery]
    assert [d.guid for d in redelivered] == [failed.guid]
    # Outside the window nothing is redelivered, succeeded or not.
    s.emulator.clock.advance(timedelta(hours=3))
    assert "0 events" in await s.command("redeliver", "--since", "2h")

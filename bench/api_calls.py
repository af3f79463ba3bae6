"""REST calls one whole flag lifecycle costs against GitHub's rate limit.

Open a pull request creating a flag, manager approval, QA validation, merge, announcement:
counted from the emulator's call log for flagbot's own identity, with warm caches (one
lifecycle runs first, so policy files, memberships and check-run lookups are warm where they
can be). People act at a human pace: the emulator's clock moves PACE (minutes) before each
of them, and so does the clock the service's caches keep time by, so a minute-long cache has
expired and GitHub's timestamps have changed as they would have. A 304 answer to a conditional
request is free on GitHub and counted as free here. Goal: <= 12 charged calls.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.channels import channels  # noqa: E402
from bot.emulator.emulator import Emulator  # noqa: E402
from bot.emulator.seeds import REPO, acme_seed, repository_files  # noqa: E402
from bot.sandbox import sandbox  # noqa: E402
from bot.service.caches import Caches  # noqa: E402

BOT = "flagbot[bot]"
# What each call is for, printed beside it: a charged call with no reason here is news.
PURPOSE = {
    "GET /repos/{owner}/{repo}/pulls/{pull_number}": "state, head and base (changes with reviews)",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}/files": "the changed files and their blobs",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": "who approved which head",
    "GET /repos/{owner}/{repo}/git/trees/{tree_sha}": (
        "policy files at the base; file modes under flags/ at the head (symlinks fail closed)"
    ),
    "GET /repos/{owner}/{repo}/commits/{ref}/check-runs": "flagbot's check run on a new head",
    "GET /repos/{owner}/{repo}/git/matching-refs/{ref}": "claims (expiry blocks a merge)",
    "GET /orgs/{org}/teams/{team_slug}/members": "who is in the owning teams",
    "POST /repos/{owner}/{repo}/check-runs": "the check run",
    "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": "the check run says what changed",
    "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge": "the merge",
    "POST /repos/{owner}/{repo}/git/refs": "the announcement's claim (exactly once)",
    "PATCH /repos/{owner}/{repo}/git/refs/{ref}": "the announcement's completion marker",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": "the completion comment",
}
GOAL = 12
PACE = 7 * 60  # seconds between people, on the emulator's clock


def seed() -> dict:
    return acme_seed(repository_files(ROOT, without=("flags/new_checkout_flow.yaml",)))


async def lifecycle(stack, key: str) -> dict[str, Counter]:
    flag = (
        (ROOT / "flags/new_checkout_flow.yaml")
        .read_text()
        .replace("name: New checkout flow", f"name: {key}")
    )
    em: Emulator = stack.emulator
    start = len(em.calls.calls(transport=None))
    phases: dict[str, Counter] = {}

    def since(mark: int) -> list:
        return [c for c in em.calls.calls(transport=None)[mark:] if c.login == BOT]

    async def phase(name: str, action) -> None:
        em.clock.advance(PACE)  # people act minutes apart
        mark = len(em.calls.calls(transport=None))
        action()
        await stack.settle()
        calls = since(mark)
        phases[name] = Counter(
            f"{c.method} {c.route}" + (" (304, free)" if c.not_modified else "") for c in calls
        )
        phases[name]["__charged__"] = sum(c.charged for c in calls)

    pr: dict = {}

    def open_pr() -> None:
        pr.update(
            em.person("dev").propose(
                REPO, {f"flags/{key}.yaml": flag}, branch=key, title=f"Create {key}"
            )
        )

    await phase("open", open_pr)
    await phase("manager approval", lambda: em.person("mgr").approve(REPO, pr["number"]))
    await phase(
        "QA validation + merge + notify", lambda: em.person("qa").approve(REPO, pr["number"])
    )
    assert em.person("dev").pr(REPO, pr["number"])["merged"], "the lifecycle did not merge"
    del start
    return phases


async def main() -> int:
    async with channels() as notified, sandbox(seed(), channel_env=notified.env) as stack:
        clock = stack.emulator.clock
        owner = getattr(stack.service, "pool", stack.service)  # whoever holds the caches
        owner.caches = Caches(timer=lambda: clock.now().timestamp())
        await lifecycle(stack, "warmup_flag")
        phases = await lifecycle(stack, "measured_flag")
    sent = (len(notified.receiver.posts), len(notified.mailbox.messages))
    assert sent == (4, 2), f"notifications missing: {sent}"
    total = 0
    for name, counter in phases.items():
        charged = counter.pop("__charged__")
        total += charged
        print(f"{name}: {charged} charged")
        for call, n in sorted(counter.items()):
            why = PURPOSE.get(call.removesuffix(" (304, free)"), "?")
            print(f"    {n} x {call}: {why}")
    verdict = "meets" if total <= GOAL else "MISSES"
    print(
        f"whole lifecycle, people {PACE // 60} minutes apart: {total} charged REST calls "
        f"(goal <= {GOAL}: {verdict})"
    )
    return 0 if total <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

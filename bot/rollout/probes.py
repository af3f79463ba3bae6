"""Asking the outside world what the guards want to know (the I/O; `verdict` judges it).

- Prometheus: `GET <$url_env>/api/v1/query?query=...` (the HTTP API's instant query);
- HTTP: `GET <$url_env>`;
- checks: the head commit's check runs and commit statuses, through the job's GitHub adapter.

Each distinct question is asked once per run, however many flags share it, all HTTP questions
at once, each bounded by `timeout` (10 s). Addresses and tokens come from the environment
variables the guard names; an unset variable is an inconclusive answer, never a guess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from bot.flags.guard import Check, CheckGuard, HttpGuard, PrometheusGuard
from bot.flags.model import Flag
from bot.rollout.decide import GuardReport, guarded
from bot.rollout.remote import RemoteError
from bot.rollout.verdict import (
    Outcome,
    Reply,
    RunState,
    StatusState,
    judge_check,
    judge_http,
    judge_prometheus,
)

TIMEOUT = 10.0
MAX_BODY = 4 * 1024 * 1024
USER_AGENT = "flagbot-guard"

HeadChecks = Callable[[Sequence[str]], tuple[list[RunState], list[StatusState]]]
"""The head's newest check runs of the given names, and its commit statuses."""


@dataclass(frozen=True, slots=True)
class _Ask:
    """One HTTP question: the same for every guard that would ask it."""

    url: str
    params: tuple[tuple[str, str], ...]
    token: str | None


def _ask_for(check: PrometheusGuard | HttpGuard, env: Mapping[str, str]) -> _Ask | str:
    """The question, or why it cannot be asked (an unset variable)."""
    url = env.get(check.url_env, "").strip()
    if not url:
        return f"{check.url_env} is not set where the job runs"
    token = None
    if check.token_env:
        token = env.get(check.token_env) or None
        if token is None:
            return f"{check.token_env} is not set where the job runs"
    if isinstance(check, PrometheusGuard):
        return _Ask(url.rstrip("/") + "/api/v1/query", (("query", check.query),), token)
    return _Ask(url, (), token)


async def _get(session: aiohttp.ClientSession, ask: _Ask, timeout: float) -> Reply:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if ask.token:
        headers["Authorization"] = f"Bearer {ask.token}"
    try:
        async with asyncio.timeout(timeout):
            async with session.get(
                ask.url, params=list(ask.params), headers=headers, allow_redirects=False
            ) as resp:
                body = await resp.content.read(MAX_BODY)
                return Reply(resp.status, body)
    except TimeoutError:
        return Reply(error=f"no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return Reply(error=f"{type(exc).__name__}: {exc}"[:300])


async def _ask_all(asks: Iterable[_Ask], timeout: float) -> dict[_Ask, Reply]:
    todo = list(dict.fromkeys(asks))
    if not todo:
        return {}
    async with aiohttp.ClientSession() as session:
        replies = await asyncio.gather(*(_get(session, a, timeout) for a in todo))
    return dict(zip(todo, replies, strict=True))


class Prober:
    """Evaluates guards for one run, remembering every answer: identical questions across
    flags are asked once. `head_checks` None: no GitHub to ask (check guards inconclusive)."""

    def __init__(
        self,
        env: Mapping[str, str],
        head_checks: HeadChecks | None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.env = env
        self.head_checks = head_checks
        self.timeout = timeout
        self.replies: dict[_Ask, Reply] = {}
        self.checks: tuple[list[RunState], list[StatusState]] | None = None
        self.asked_checks: set[str] = set()
        self.checks_error: str | None = None

    def forget_checks(self) -> None:
        """The branch moved: check guards ask about its new head from now on."""
        self.checks, self.asked_checks, self.checks_error = None, set(), None

    def evaluate(self, checks_of: Iterable[Sequence[Check]]) -> list[list[Outcome]]:
        """The outcomes of each sequence of checks, in order."""
        lists = [list(cs) for cs in checks_of]
        self._fetch([c for cs in lists for c in cs])
        return [[self._judge(c) for c in cs] for cs in lists]

    def _fetch(self, checks: list[Check]) -> None:
        asks = []
        for c in checks:
            if isinstance(c, PrometheusGuard | HttpGuard):
                ask = _ask_for(c, self.env)
                if isinstance(ask, _Ask) and ask not in self.replies:
                    asks.append(ask)
        if asks:
            got = asyncio.run(_ask_all(asks, self.timeout))
            self.replies.update(got)
        names = sorted({c.name for c in checks if isinstance(c, CheckGuard)} - self.asked_checks)
        if names and self.head_checks is not None:
            try:
                runs, statuses = self.head_checks(names)
            except RemoteError as exc:
                self.checks_error = str(exc)
                return
            old_runs = self.checks[0] if self.checks else []
            self.checks = ([*old_runs, *runs], statuses)
            self.asked_checks.update(names)

    def _judge(self, c: Check) -> Outcome:
        if isinstance(c, CheckGuard):
            if self.checks is None or c.name not in self.asked_checks:
                why = self.checks_error or "no GitHub to ask here"
                return Outcome(c, "inconclusive", "unknown", "success", why)
            return judge_check(c, *self.checks)
        ask = _ask_for(c, self.env)
        reply = Reply(error=ask) if isinstance(ask, str) else self.replies[ask]
        return (
            judge_prometheus(c, reply) if isinstance(c, PrometheusGuard) else judge_http(c, reply)
        )


def guard_reports(flags: Iterable[Flag], prober: Prober) -> dict[str, GuardReport]:
    """Each guarded flag in progress -> its guards' outcomes now."""
    watched = [f for f in flags if guarded(f)]
    found = prober.evaluate(f.rollout.guard.checks for f in watched if f.rollout)
    return {
        f.path: GuardReport(f.rollout.guard, tuple(outcomes))
        for f, outcomes in zip(watched, found, strict=True)
        if f.rollout
    }

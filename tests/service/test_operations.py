"""What an operator watches: /readyz follows GitHub accepting the App, /metrics counts a whole
lifecycle, and the JSON log lines of that lifecycle carry each delivery's context and no secret.
Bot and emulator over real HTTP (the `harness` fixture)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bot import logs
from bot.service.health import Readiness
from tests.service.conftest import NEW_FLAG, REPO, ROOT

FLAG = (ROOT / NEW_FLAG).read_text()
BOT_LOGIN = "flagbot[bot]"


def base_url(h) -> str:
    return h.bot_url.removesuffix("/webhook")


async def get(h, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(base_url(h) + path) as r:
        return r.status, await r.text()


def refuse_the_app(h):
    """The emulator answers every call the App makes (JWT or installation token) 401, as
    GitHub does once the App's key is revoked."""
    return h.emulator.faults.fail("*", 401, times=None, login=BOT_LOGIN, message="Bad credentials")


async def lifecycle(h) -> int:
    n = h.open("dev", {NEW_FLAG: FLAG}, branch="new-checkout", title="Create new checkout flow")
    await h.settle()
    h.person("mgr").approve(REPO, n)
    await h.settle()
    h.person("qa").approve(REPO, n)
    await h.settle()
    assert h.pull(n)["merged"] is True
    return n


# Readiness -----------------------------------------------------------------------------------


async def test_readyz_turns_503_while_github_refuses_the_app_and_200_after(harness):
    h = harness
    h.service.instruments.readiness.fresh_for = 0  # an idle service: every /readyz asks GitHub
    status, body = await get(h, "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready", "backlog": 0})

    fault = refuse_the_app(h)
    status, body = await get(h, "/readyz")
    assert status == 503
    reason = json.loads(body)["reason"]
    assert "GitHub refused the credentials (GET /app answered 401: Bad credentials)" in reason
    status, _ = await get(h, "/healthz")
    assert status == 200  # alive all the same: restarting would not help

    h.emulator.faults.remove(fault.id)
    status, body = await get(h, "/readyz")
    assert (status, json.loads(body)["status"]) == (200, "ready")


async def test_readyz_learns_of_refusals_from_ordinary_work(harness):
    # A busy service does not probe: the answers to its own calls tell it GitHub's verdict.
    h = harness
    assert (await get(h, "/readyz"))[0] == 200
    fault = refuse_the_app(h)
    h.open("dev", {NEW_FLAG: FLAG}, branch="b", title="New flag")
    await h.settle()
    assert h.service.instruments.readiness.problem == "GitHub refused the credentials (401)"
    status, body = await get(h, "/readyz")
    assert status == 503
    assert "refused" in json.loads(body)["reason"]
    h.emulator.faults.remove(fault.id)
    assert (await get(h, "/readyz"))[0] == 200


async def test_readyz_fails_over_the_backlog_bound(harness):
    h = harness
    assert (await get(h, "/readyz"))[0] == 200
    h.service.instruments.readiness.backlog_bound = -1
    status, body = await get(h, "/readyz")
    assert status == 503
    assert json.loads(body)["reason"] == ("backlog 0 is over its bound -1 (FLAGBOT_READY_BACKLOG)")


def test_readiness_verdicts():
    r = Readiness(backlog_bound=10, fresh_for=60)
    assert r.needs_probe(0) and r.verdict(0) == "GitHub not reached yet"
    r.saw(100.0, None)
    assert not r.needs_probe(159.0) and r.needs_probe(161.0)
    assert r.verdict(10) is None
    assert r.verdict(11) == "backlog 11 is over its bound 10 (FLAGBOT_READY_BACKLOG)"
    r.saw(120.0, "GitHub unreachable at http://x")
    assert r.needs_probe(120.0)  # a failure is re-checked at once
    assert r.verdict(0) == "GitHub unreachable at http://x"
    r.saw(121.0, None)
    assert r.verdict(0) is None


# Metrics -------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_a_whole_lifecycle(harness):
    h = harness
    await lifecycle(h)
    status, text = await get(h, "/metrics")
    assert status == 200
    got = samples(text)
    assert got[("flagbot_merges_total", (("result", "merged"),))] == 1
    assert (
        got[("flagbot_deliveries_total", (("event", "pull_request"), ("outcome", "routed")))] >= 1
    )
    assert (
        got[("flagbot_deliveries_total", (("event", "pull_request_review"), ("outcome", "routed")))]
        == 2
    )
    for channel in ("releases-slack", "audit-log"):
        assert got[("flagbot_notices_total", (("channel", channel), ("outcome", "sent")))] == 1
    assert got[("flagbot_decisions_total", (("step", "approval"),))] >= 1
    assert got[("flagbot_reconciles_total", (("result", "decided"),))] >= 3
    assert got[("flagbot_github_api_calls_total", (("status", "200"),))] > 10
    installation = [k for k in got if k[0] == "flagbot_github_rate_limit_remaining"]
    labels = {dict(k[1])["installation"] for k in installation}
    assert "app" in labels and len(labels) == 2  # the App's JWT budget and the installation's
    assert all(0 < got[k] <= 15000 for k in installation)
    assert got[("flagbot_backlog", ())] == 0
    count = got[("flagbot_reconcile_duration_seconds_count", ())]
    assert count == got[("flagbot_reconciles_total", (("result", "decided"),))] + sum(
        v for k, v in got.items() if k[0] == "flagbot_reconciles_total" and k[1][0][1] != "decided"
    )


async def test_metrics_count_refused_deliveries_and_failing_channels(harness):
    h = harness
    async with aiohttp.ClientSession() as s:
        headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1"}
        async with s.post(h.bot_url, data=b"{}", headers=headers) as r:
            assert r.status == 401
    h.slack.status = 500
    await lifecycle(h)
    got = samples((await get(h, "/metrics"))[1])
    assert (
        got[("flagbot_deliveries_total", (("event", "pull_request"), ("outcome", "rejected")))] == 1
    )
    assert (
        got[("flagbot_notices_total", (("channel", "releases-slack"), ("outcome", "failed")))] == 1
    )


async def test_invented_event_names_do_not_grow_the_metrics(harness):
    # Unsigned requests can carry any X-GitHub-Event: they all count as one "other" series.
    h = harness
    async with aiohttp.ClientSession() as s:
        for n in range(50):
            headers = {"X-GitHub-Event": f"made-up-{n}", "X-GitHub-Delivery": str(n)}
            async with s.post(h.bot_url, data=b"{}", headers=headers) as r:
                assert r.status == 401
    got = samples((await get(h, "/metrics"))[1])
    rejected = {k: v for k, v in got.items() if k[0] == "flagbot_deliveries_total"}
    assert rejected == {
        ("flagbot_deliveries_total", (("event", "other"), ("outcome", "rejected"))): 50
    }


# Structured logs -----------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every logger's lines as JSON into a buffer, at DEBUG (the chattiest libraries too)."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("json", stream=stream, level=logging.DEBUG)
    stream.handler = handler  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_json_log_lines_carry_each_delivery_and_no_secret(harness, json_logs):
    h = harness
    handler = json_logs.handler  # type: ignore[attr-defined]
    secrets = [h.config.webhook_secret, h.config.private_key or ""]
    handler.formatter.redact.add(secrets)  # type: ignore[union-attr]
    n = await lifecycle(h)
    text = json_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    access = [line for line in lines if line["logger"] == "flagbot.access"]
    delivered = [d for d in h.emulator.webhooks.deliveries if d.status_code == 202]
    assert len(access) == len(delivered)  # one access line per delivery
    for line in access:
        assert line["delivery"] and line["event"] and line["status"] == 202
    routed = [line for line in access if line["outcome"] == "routed"]
    assert routed and all((line["repo"], line["pr"]) == (REPO, n) for line in routed)
    reconciled = [line for line in lines if line["msg"].startswith("reconciled")]
    assert reconciled
    for line in reconciled:
        assert set(logs.CONTEXT_FIELDS) <= set(line)
        assert (line["repo"], line["pr"]) == (REPO, n)
        assert line["delivery"] in {d["delivery"] for d in access}
        assert isinstance(line["api_calls"], int)
        if line["result"] == "decided":
            assert line["step"] and line["api_calls"] > 0
    steps = [line["step"] for line in reconciled if line["result"] == "decided"]
    # the last reconcile merges; its announcement is handed off and runs outside it
    assert steps[0] == "approval" and steps[-1] == "apply_change"
    # secrets: the webhook secret, the App's key, the installation tokens GitHub minted
    minted = list(h.emulator.state.installation_tokens)
    assert minted
    for secret in [*secrets, *minted]:
        assert secret not in text
    assert "PRIVATE KEY" not in text


def test_redaction_of_secret_values_and_credential_shapes():
    redact = logs.Redactor(["s3cret-value"])
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSJ9.c2lnbmF0dXJlLWJ5dGVz"
    text = (
        "secret s3cret-value token ghs_abcdefghijklmnopqrstuvwxyz0123456789 "
        f"jwt {jwt} mail smtp://user:hunter2@mail.example:587?starttls=1 "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    )
    out = redact(text)
    for leaked in ("s3cret-value", "ghs_abc", jwt, "hunter2", "MIIEow"):
        assert leaked not in out
    assert "smtp://[redacted]@mail.example:587?starttls=1" in out


_SHAPES = st.one_of(
    st.builds(
        "gh{}_{}".format,
        st.sampled_from("pousr"),
        st.text("abcXYZ019_", min_size=16, max_size=40),
    ),
    st.builds("github_pat_{}".format, st.text("abcXYZ019_", min_size=16, max_size=40)),
    st.builds(
        "eyJ{}.{}.{}".format,
        *[st.text("abcXYZ019-_", min_size=8, max_size=20)] * 3,
    ),
    st.builds("smtp://{}:{}@host".format, st.text("ab1", min_size=1), st.text("xy2", min_size=1)),
    st.just("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"),
)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(' {}:"/@_.-abcghJey', max_size=30),
    shape=st.one_of(st.none(), _SHAPES),
    after=st.text(' {}:"/@_.-abcghJey', max_size=30),
)
def test_the_cheap_check_never_skips_a_line_the_pattern_would_redact(before, shape, after):
    """Redaction skips the credential-shape pattern on lines lacking all of its literals:
    that shortcut must never let a credential shape through."""
    text = before + (shape or "") + after
    if logs._SECRET_SHAPES.search(text):
        assert logs.may_hold_secret_shape(text)
    if shape is not None and logs._SECRET_SHAPES.search(text):
        assert logs.Redactor()(text) == logs._SECRET_SHAPES.sub(logs.REDACTED, text)


def test_text_format_names_the_known_fields_only():
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("text", stream=stream)
    try:
        with logs.bound(delivery="d-1", event="push", repo=None):
            logging.getLogger("flagbot.test").info("hello")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert stream.getvalue().rstrip().endswith("INFO flagbot.test hello delivery=d-1 event=push")


@pytest.mark.parametrize(
    ("value", "tty", "expected"), [("", True, "text"), ("", False, "json"), ("JSON", True, "json")]
)
def test_log_format_choice(value, tty, expected):
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert logs.choose_format({"FLAGBOT_LOG_FORMAT": value}, Stream()) == expected
